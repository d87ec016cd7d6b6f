package email_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/careloop/careloop/internal/email"
)

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParseGBKSubjectAndBody(t *testing.T) {
	subject := "=?GBK?B?" + base64.StdEncoding.EncodeToString(gbk(t, "打印机黑屏，请尽快上门")) + "?="
	raw := crlf("From: =?GBK?B?" + base64.StdEncoding.EncodeToString(gbk(t, "王先生")) + "?= <Wang@Example.cn>\nTo: service@huaqiang.cn\nSubject: " + subject +
		"\nMessage-ID: <m1@example.cn>\nIn-Reply-To: <r1@huaqiang.cn>\nReferences: <c0@example.cn> <r1@huaqiang.cn>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: 8bit\n\n")
	m, err := email.Parse(bytes.NewReader(append([]byte(raw), gbk(t, "开机后一直黑屏，型号 HQ-200。\r\n")...)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "打印机黑屏，请尽快上门" || m.FromName != "王先生" || m.From != "wang@example.cn" {
		t.Fatalf("header: %q %q %q", m.Subject, m.FromName, m.From)
	}
	if !strings.Contains(m.Text, "开机后一直黑屏，型号 HQ-200。") {
		t.Fatalf("body %q", m.Text)
	}
	if m.MessageID != "<m1@example.cn>" || len(m.InReplyTo) != 1 || m.InReplyTo[0] != "<r1@huaqiang.cn>" || len(m.References) != 2 {
		t.Fatalf("ids: %q %q %q", m.MessageID, m.InReplyTo, m.References)
	}
}

func TestParseQuotedPrintableAndAttachment(t *testing.T) {
	name := mime.BEncoding.Encode("utf-8", "故障照片.jpg")
	raw := crlf(`From: li@example.cn
To: service@huaqiang.cn
Subject: =?utf-8?Q?=E6=8D=A2=E8=B4=A7=E7=94=B3=E8=AF=B7?=
Message-ID: <m2@example.cn>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

=E6=94=B6=E5=88=B0=E7=9A=84=E8=B4=A7=E6=9C=89=E5=88=92=E7=97=95
--b1
Content-Type: image/jpeg; name="` + name + `"
Content-Disposition: attachment; filename="` + name + `"
Content-Transfer-Encoding: base64

/9j/4AAQSkZJRg==
--b1--
`)
	m, err := email.Parse(strings.NewReader(raw), 0)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "换货申请" || strings.TrimSpace(m.Text) != "收到的货有划痕" {
		t.Fatalf("%q %q", m.Subject, m.Text)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Name != "故障照片.jpg" || m.Attachments[0].ContentType != "image/jpeg" || len(m.Attachments[0].Data) != 10 {
		t.Fatalf("attachments: %+v", m.Attachments)
	}
}

func TestParseBadInput(t *testing.T) {
	// Broken MIME: a multipart without its boundary keeps the raw text.
	broken := crlf("From: a@example.cn\nSubject: hi\nContent-Type: multipart/mixed; boundary=\"nope\"\n\n请帮忙看看\n")
	m, err := email.Parse(strings.NewReader(broken), 0)
	if err != nil || !strings.Contains(m.Text, "请帮忙看看") {
		t.Fatalf("broken MIME: %+v %v", m, err)
	}
	// 30 MB: refused without reading further.
	big := io30MB()
	if _, err := email.Parse(big, 0); !errors.Is(err, email.ErrTooLarge) {
		t.Fatalf("30 MB: %v", err)
	}
	if big.read > email.DefaultMaxMail+1 {
		t.Fatalf("read %d bytes of a mail over the limit", big.read)
	}
	// 10,000 recipients.
	var to strings.Builder
	for i := range 10000 {
		if i > 0 {
			to.WriteString(", ")
		}
		fmt.Fprintf(&to, "u%d@example.cn", i)
	}
	m, err = email.Parse(strings.NewReader(crlf("From: a@example.cn\nTo: "+to.String()+"\nSubject: x\n\nbody\n")), 0)
	if err != nil || m.Recipients != 10000 || strings.TrimSpace(m.Text) != "body" {
		t.Fatalf("10,000 recipients: %d %v", m.Recipients, err)
	}
	// HTML only: the text comes from it, scripts dropped.
	m, err = email.Parse(strings.NewReader(crlf("From: a@example.cn\nSubject: x\nContent-Type: text/html; charset=utf-8\n\n<p>您好</p><script>alert(1)</script><img src=\"http://track.example/p.gif\"><p>谢谢</p>\n")), 0)
	if err != nil || m.Text != "您好\n谢谢" || !strings.Contains(m.HTML, "<script>") {
		t.Fatalf("HTML only: %q %v", m.Text, err)
	}
	if _, err := email.Parse(strings.NewReader(""), 0); err == nil {
		t.Fatal("an empty mail parsed")
	}
}

type counting struct{ read, left int }

func (c *counting) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, fmt.Errorf("EOF")
	}
	n := min(len(p), c.left)
	for i := range n {
		p[i] = 'a'
	}
	c.left -= n
	c.read += n
	return n, nil
}

func io30MB() *counting { return &counting{left: 30 << 20} }

func TestClassifyAutoRepliesBouncesAndLoops(t *testing.T) {
	ours := []string{"service@huaqiang.cn"}
	for _, tc := range []struct{ head, want string }{
		{"From: a@example.cn\nSubject: 打印机黑屏", ""},
		{"From: a@example.cn\nSubject: 自动回复：我正在休假", email.OutcomeAutoReply},
		{"From: a@example.cn\nAuto-Submitted: auto-replied\nSubject: Re: x", email.OutcomeAutoReply},
		{"From: a@example.cn\nAuto-Submitted: no\nSubject: x", ""},
		{"From: a@example.cn\nPrecedence: bulk\nSubject: x", email.OutcomeAutoReply},
		{"From: a@example.cn\nX-Autoreply: yes\nSubject: x", email.OutcomeAutoReply},
		{"From: MAILER-DAEMON@mx.example.cn\nSubject: Undelivered Mail", email.OutcomeBounce},
		{"From: a@example.cn\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\nSubject: x", email.OutcomeBounce},
		{"From: service@huaqiang.cn\nSubject: x", email.OutcomeLoop},
		{"From: a@example.cn\nX-Careloop-Loop: 1\nSubject: x", email.OutcomeLoop},
	} {
		m, err := email.Parse(strings.NewReader(crlf(tc.head+"\n\nbody\n")), 0)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := email.Classify(m, ours); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.head, got, tc.want)
		}
	}
}

func TestNewTextDropsTheQuote(t *testing.T) {
	for in, want := range map[string]string{
		"好的，明天上午可以。\n\n在 2026年12月2日 周三 10:00，华强售后 写道：\n> 请问您何时方便？":              "好的，明天上午可以。",
		"OK, tomorrow.\n\nOn Wed, Dec 2, 2026 at 10:00 Service wrote:\n> When?": "OK, tomorrow.",
		"收到\n-----原始邮件-----\n发件人：service@huaqiang.cn":                           "收到",
		"只有一行": "只有一行",
	} {
		if got := email.NewText(in); got != want {
			t.Errorf("NewText(%q) = %q, want %q", in, got, want)
		}
	}
}
