package email

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // GBK, GB18030, GB2312, Big5… bodies and words
	gomail "github.com/emersion/go-message/mail"
)

// DefaultMaxMail is the largest mail taken in (25 MB, what most providers
// accept); a larger one is refused, never read further.
const DefaultMaxMail = 25 << 20

// ErrTooLarge refuses a mail over the limit.
var ErrTooLarge = errors.New("the mail is larger than the limit")

// Attachment is a file of a mail.
type Attachment struct {
	Name        string
	ContentType string
	ContentID   string // for cid: images in the HTML
	Data        []byte
}

// Mail is a parsed mail: what intake needs, decoded to UTF-8.
type Mail struct {
	MessageID  string
	InReplyTo  []string
	References []string
	FromName   string
	From       string // the sender's address, lower-cased
	Subject    string
	Date       time.Time
	Text       string // the plain text (from the HTML when there is no text part)
	HTML       string // the HTML part as sent (sanitise before showing)
	// Recipients counts To and Cc; only the count is kept (a mail to
	// 10,000 addresses costs nothing more).
	Recipients  int
	Attachments []Attachment
	// Broken tells that the MIME structure could not be read and Text is
	// the raw body.
	Broken bool
	Size   int64
	header message.Header
}

// Header returns a header field of the mail, decoded.
func (m *Mail) Header(key string) string {
	v, err := m.header.Text(key)
	if err != nil {
		return m.header.Get(key)
	}
	return v
}

var wordDecoder = &mime.WordDecoder{CharsetReader: message.CharsetReader}

// Parse reads a mail of at most limit bytes (DefaultMaxMail when limit ≤ 0).
func Parse(r io.Reader, limit int64) (*Mail, error) {
	if limit <= 0 {
		limit = DefaultMaxMail
	}
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read mail: %w", err)
	}
	if int64(len(raw)) > limit {
		return nil, ErrTooLarge
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errors.New("the mail is empty")
	}
	ent, err := message.Read(bytes.NewReader(raw))
	if ent == nil {
		return nil, fmt.Errorf("the mail's header cannot be read: %w", err)
	}
	m := &Mail{header: ent.Header, Size: int64(len(raw))}
	h := gomail.Header{Header: ent.Header}
	m.MessageID, _ = h.MessageID()
	if m.MessageID != "" {
		m.MessageID = "<" + m.MessageID + ">"
	}
	m.InReplyTo = msgIDs(h, "In-Reply-To")
	m.References = msgIDs(h, "References")
	if s, err := h.Subject(); err == nil {
		m.Subject = strings.TrimSpace(s)
	} else {
		m.Subject = strings.TrimSpace(h.Get("Subject"))
	}
	if from, err := h.AddressList("From"); err == nil && len(from) > 0 {
		m.FromName, m.From = from[0].Name, strings.ToLower(from[0].Address)
	} else if s := h.Get("From"); s != "" {
		m.From = strings.ToLower(strings.Trim(s[strings.LastIndex(s, " ")+1:], "<>"))
	}
	m.Date, _ = h.Date()
	for _, k := range []string{"To", "Cc"} {
		if v := h.Get(k); v != "" {
			m.Recipients += strings.Count(v, "@")
		}
	}
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		// The header is read but not the structure: keep the raw body.
		m.Broken = true
		m.Text = rawBody(raw)
		return m, nil
	}
	if err := m.walk(ent); err != nil {
		m.Broken = true
		if m.Text == "" {
			m.Text = rawBody(raw)
		}
	}
	if m.Text == "" && m.HTML != "" {
		m.Text = TextOfHTML(m.HTML)
	}
	return m, nil
}

func msgIDs(h gomail.Header, key string) []string {
	ids, err := h.MsgIDList(key)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, "<"+id+">")
	}
	return out
}

// walk collects the text, the HTML and the attachments of ent.
func (m *Mail) walk(ent *message.Entity) error {
	return ent.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil && !message.IsUnknownCharset(err) {
			return err
		}
		ct, params, _ := part.Header.ContentType()
		if strings.HasPrefix(ct, "multipart/") {
			return nil
		}
		disp, dparams, _ := part.Header.ContentDisposition()
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		if name != "" {
			if dec, err := wordDecoder.DecodeHeader(name); err == nil {
				name = dec
			}
		}
		body, rerr := io.ReadAll(part.Body)
		if rerr != nil {
			return rerr
		}
		switch {
		case disp != "attachment" && name == "" && ct == "text/plain" && m.Text == "":
			m.Text = strings.ReplaceAll(string(body), "\r\n", "\n")
		case disp != "attachment" && name == "" && ct == "text/html" && m.HTML == "":
			m.HTML = string(body)
		case ct == "message/delivery-status":
			// A bounce's report: kept as text for the record only.
		default:
			if name == "" {
				name = "attachment"
			}
			m.Attachments = append(m.Attachments, Attachment{Name: name, ContentType: ct, ContentID: strings.Trim(part.Header.Get("Content-Id"), "<>"), Data: body})
		}
		return nil
	})
}

// rawBody is what follows the header, for a mail whose structure is broken.
func rawBody(raw []byte) string {
	s := string(raw)
	if i := strings.Index(s, "\r\n\r\n"); i >= 0 {
		return s[i+4:]
	}
	if i := strings.Index(s, "\n\n"); i >= 0 {
		return s[i+2:]
	}
	return ""
}

var (
	tagRE   = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)
	blankRE = regexp.MustCompile(`\n{3,}`)
)

// TextOfHTML is a plain-text reading of HTML: scripts and styles dropped,
// tags removed, entities decoded, blank runs folded.
func TextOfHTML(h string) string {
	h = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>|</tr>`).ReplaceAllString(h, "\n")
	t := htmlUnescape(tagRE.ReplaceAllString(h, ""))
	return strings.TrimSpace(blankRE.ReplaceAllString(strings.ReplaceAll(t, "\r", ""), "\n\n"))
}

var quoteRE = regexp.MustCompile(`(?m)^(在.{1,80}写道[：:]\s*$|On .{1,200} wrote:\s*$|-{2,}\s*原始邮件\s*-{2,}|-{2,}\s*Original Message\s*-{2,}|发件人[：:]|From: .+@)`)

// NewText is the part of a reply above the quoted earlier mail.
func NewText(text string) string {
	if loc := quoteRE.FindStringIndex(text); loc != nil && loc[0] > 0 {
		text = text[:loc[0]]
	}
	lines := strings.Split(text, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), ">") {
			out = append(out, l)
		}
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
