package email

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Outgoing is a mail to compose.
type Outgoing struct {
	From       mail.Address
	To         mail.Address
	Subject    string
	MessageID  string // with angle brackets
	InReplyTo  string
	References []string
	Auto       bool // an automatic notice: Auto-Submitted, so auto-responders stay quiet
	Text       string
	HTML       string
	Date       time.Time
}

// headerSafe drops line breaks, which would start a new header.
func headerSafe(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// Compose writes o as an RFC 5322 message with CRLF line ends: UTF-8 text
// in quoted-printable, the subject and names as RFC 2047 words when they are
// not ASCII, multipart/alternative when there is HTML.
func Compose(o Outgoing) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	from := mail.Address{Name: headerSafe(o.From.Name), Address: headerSafe(o.From.Address)}
	to := mail.Address{Name: headerSafe(o.To.Name), Address: headerSafe(o.To.Address)}
	h("From", from.String())
	h("To", to.String())
	h("Subject", mime.BEncoding.Encode("utf-8", headerSafe(o.Subject)))
	h("Date", o.Date.Format(time.RFC1123Z))
	h("Message-ID", headerSafe(o.MessageID))
	if o.InReplyTo != "" {
		h("In-Reply-To", headerSafe(o.InReplyTo))
	}
	if len(o.References) > 0 {
		h("References", headerSafe(strings.Join(o.References, " ")))
	}
	if o.Auto {
		h("Auto-Submitted", "auto-generated")
	}
	// Our own marker: a mail that comes back with it is a loop.
	h("X-Careloop-Loop", "1")
	h("MIME-Version", "1.0")
	if o.HTML == "" {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		writeQP(&b, o.Text)
		return b.Bytes()
	}
	var rb [12]byte
	_, _ = rand.Read(rb[:])
	boundary := "careloop-" + hex.EncodeToString(rb[:])
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", o.Text}, {"text/html", o.HTML}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.typ)
		writeQP(&b, part.body)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

func writeQP(b *bytes.Buffer, s string) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
	w := quotedprintable.NewWriter(b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
}

// NewMessageID makes a Message-ID in the mailbox's domain.
func NewMessageID(tag, address string) string {
	domain := "careloop.invalid"
	if i := strings.LastIndexByte(address, '@'); i >= 0 && i < len(address)-1 {
		domain = address[i+1:]
	}
	var rb [6]byte
	_, _ = rand.Read(rb[:])
	return "<" + tag + "." + hex.EncodeToString(rb[:]) + "@" + domain + ">"
}
