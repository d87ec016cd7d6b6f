package email

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
)

// OutcomeDuplicate is a mail already taken in by another of the company's
// mailboxes (the customer wrote to two): recorded, nothing else.
const OutcomeDuplicate = "duplicate"

// Intake turns a mail taken from a mailbox into a ticket or a reply on one,
// once: each mail in one transaction that first claims its row of
// email_inbound (unique per mailbox and Message-ID), so a second take of
// the same mail, by this server or another, changes nothing.
type Intake struct {
	db        *db.DB
	clock     clock.Clock
	customers *customers.Store
	tickets   *tickets.Store
	timeline  *timeline.Log
	cat       *i18n.Catalog
	// MaxMail is the largest mail taken in (DefaultMaxMail when 0).
	MaxMail int64
}

// NewIntake builds the intake.
func NewIntake(d *db.DB, c clock.Clock, cs *customers.Store, ts *tickets.Store, tl *timeline.Log, cat *i18n.Catalog) *Intake {
	return &Intake{db: d, clock: c, customers: cs, tickets: ts, timeline: tl, cat: cat}
}

func (in *Intake) maxMail() int64 {
	if in.MaxMail > 0 {
		return in.MaxMail
	}
	return DefaultMaxMail
}

// Result is what became of one mail.
type Result struct {
	Outcome    string
	Reason     string
	TicketID   int64
	CustomerID int64
	MessageID  int64 // the ticket message holding the mail (ticket, append)
	// Duplicate: the mail was taken in before (same mailbox and
	// Message-ID, or the hash of a mail without one); nothing changed.
	Duplicate bool
	Refused   []RefusedFile // attachments not kept
}

// RefusedFile is an attachment of a mail that was not kept, and why (a
// catalog key of internal/attachments with its parameters).
type RefusedFile struct {
	Name   string         `json:"name"`
	Key    string         `json:"key"`
	Params map[string]any `json:"params,omitempty"`
}

// inbound is a row of email_inbound.
type inbound struct {
	mailboxID  int64
	key        string // the Message-ID, or sha256:… of a mail without one
	uid        uint32
	sender     string
	subject    string
	size       int64
	outcome    string
	reason     string
	ticketID   int64
	customerID int64
}

// keyOf is the once-only key of a mail: its Message-ID, else the hash of
// the raw bytes (the same mail fetched again hashes the same).
func keyOf(messageID string, raw []byte) string {
	if messageID != "" && len(messageID) <= 900 {
		return messageID
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Refuse records a mail that is not read at all (larger than the limit:
// only its header was fetched), once, with the reason an administrator
// sees on the mailbox.
func (in *Intake) Refuse(ctx context.Context, mb Mailbox, uid uint32, header []byte, size int64, reason string) (Result, error) {
	r := inbound{mailboxID: mb.ID, uid: uid, size: size, outcome: OutcomeRejected, reason: reason}
	if m, err := Parse(bytes.NewReader(header), 0); err == nil {
		r.key, r.sender, r.subject = keyOf(m.MessageID, header), m.From, m.Subject
	} else {
		r.key = keyOf("", header)
	}
	res := Result{Outcome: OutcomeRejected, Reason: reason}
	err := in.db.WithTx(ctx, func(ctx context.Context) error {
		id, ok, err := in.claim(ctx, r)
		if err != nil || !ok {
			res.Duplicate = !ok
			return err
		}
		return in.finish(ctx, id, r)
	})
	return res, err
}

// Take takes in one mail of mailbox mb (uid is its IMAP UID, for the
// record). An error is the database's or the disk's: the mail is then not
// recorded, and the next poll takes it again. Anything wrong with the mail
// itself is an outcome (rejected, with the reason), not an error.
func (in *Intake) Take(ctx context.Context, mb Mailbox, uid uint32, raw []byte) (Result, error) {
	ctx = audit.WithActor(ctx, audit.Actor{Label: "email:" + mb.Address})
	m, perr := Parse(bytes.NewReader(raw), in.maxMail())
	if perr != nil {
		reason := "unreadable: " + perr.Error()
		if errors.Is(perr, ErrTooLarge) {
			reason = fmt.Sprintf("larger than %s", attachments.FormatSize(in.maxMail()))
		}
		return in.Refuse(ctx, mb, uid, raw[:headerEnd(raw, 64<<10)], int64(len(raw)), reason)
	}
	r := inbound{mailboxID: mb.ID, key: keyOf(m.MessageID, raw), uid: uid, sender: m.From, subject: clip(m.Subject, 500), size: m.Size}
	if seen, err := in.seen(ctx, mb.ID, r.key); err != nil || seen {
		return Result{Duplicate: seen}, err
	}
	ours, err := in.ourAddresses(ctx)
	if err != nil {
		return Result{}, err
	}
	r.outcome, r.reason = Classify(m, ours)
	var files []attachments.Staged
	var refused []RefusedFile
	if r.outcome == "" && len(m.Attachments) > 0 {
		if files, refused, err = in.stage(ctx, m.Attachments); err != nil {
			return Result{}, err
		}
	}
	var res Result
	err = in.db.WithTx(ctx, func(ctx context.Context) error {
		id, ok, err := in.claim(ctx, r)
		if err != nil || !ok {
			res.Duplicate = !ok
			return err
		}
		switch r.outcome {
		case OutcomeLoop:
			// Recorded only: our own mail coming back.
		case OutcomeAutoReply:
			// Recorded only, with the ticket it answers when it threads to
			// one: no message, no event, so nothing is reopened, nobody is
			// notified and nothing answers it.
			custs, err := in.customers.IDsByEmail(ctx, m.From)
			if err != nil {
				return err
			}
			th, err := in.thread(ctx, m, custs)
			if err != nil {
				return err
			}
			r.ticketID, r.customerID = th.ticketID, th.customerID
		case OutcomeBounce:
			if err := in.bounce(ctx, m, raw, &r); err != nil {
				return err
			}
		default:
			if err := in.takeMail(ctx, mb, m, files, refused, &r, &res); err != nil {
				return err
			}
		}
		return in.finish(ctx, id, r)
	})
	if err != nil || res.Duplicate {
		return res, err
	}
	res.Outcome, res.Reason, res.TicketID, res.CustomerID, res.Refused = r.outcome, r.reason, r.ticketID, r.customerID, refused
	return res, nil
}

// headerEnd is where the header of raw ends (at most max bytes in).
func headerEnd(raw []byte, max int) int {
	head := raw[:min(len(raw), max)]
	if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		return i + 2
	}
	return len(head)
}

// seen tells, without a write, whether the mail is already recorded (the
// common case of a poll that saw it before), so its files are not staged
// again for nothing. The claim in the transaction is what guarantees it.
func (in *Intake) seen(ctx context.Context, mailbox int64, key string) (bool, error) {
	var n int
	err := in.db.RQ(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM email_inbound WHERE mailbox_id = $1 AND message_id = $2`, mailbox, key).Scan(&n)
	return n > 0, err
}

// claim inserts the mail's row; ok is false when it is there already
// (on PostgreSQL a concurrent claim of the same mail waits for the first
// to commit, then finds it).
func (in *Intake) claim(ctx context.Context, r inbound) (int64, bool, error) {
	outcome := r.outcome
	if outcome == "" {
		outcome = OutcomeTicket
	}
	var id int64
	err := in.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO email_inbound (mailbox_id, message_id, uid, sender, subject, outcome, reason, size, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (mailbox_id, message_id) DO NOTHING RETURNING id`,
		r.mailboxID, r.key, int64(r.uid), clip(r.sender, 320), clip(r.subject, 500), outcome, clip(r.reason, 1000), r.size,
		db.Now(in.clock.Now())).Scan(&id)
	if errors.Is(err, errNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// finish writes what became of the mail on its row.
func (in *Intake) finish(ctx context.Context, id int64, r inbound) error {
	_, err := in.db.Q(ctx).ExecContext(ctx, `UPDATE email_inbound SET outcome = $1, reason = $2, ticket_id = $3, customer_id = $4 WHERE id = $5`,
		r.outcome, clip(r.reason, 1000), nullID(r.ticketID), nullID(r.customerID), id)
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ourAddresses are the company's mailbox addresses: mail from one of them
// is a loop.
func (in *Intake) ourAddresses(ctx context.Context) ([]string, error) {
	rows, err := in.db.RQ(ctx).QueryContext(ctx, `SELECT address FROM mailboxes`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, strings.ToLower(a))
	}
	return out, rows.Err()
}

// takeMail is an ordinary mail: a reply on the sender's ticket it threads
// to, else a new ticket for the sender's customer (found by email, else
// created). r and res receive the outcome.
func (in *Intake) takeMail(ctx context.Context, mb Mailbox, m *Mail, files []attachments.Staged, refused []RefusedFile, r *inbound, res *Result) error {
	addr, err := mail.ParseAddress(m.From)
	if m.From == "" || err != nil || len(m.From) > 254 {
		r.outcome, r.reason = OutcomeRejected, "no sender address it can answer"
		return nil
	}
	if m.MessageID != "" {
		// The customer wrote to two of our mailboxes: one ticket.
		var ticket, customer int64
		err := in.db.Q(ctx).QueryRowContext(ctx, `SELECT ticket_id, customer_id FROM email_threads WHERE message_id = $1 AND direction = 'in'`,
			m.MessageID).Scan(&ticket, &customer)
		if err == nil {
			r.outcome, r.reason, r.ticketID, r.customerID = OutcomeDuplicate, "taken in by another mailbox", ticket, customer
			return nil
		} else if !errors.Is(err, errNoRows) {
			return err
		}
	}
	custs, err := in.customers.IDsByEmail(ctx, addr.Address)
	if err != nil {
		return err
	}
	th, err := in.thread(ctx, m, custs)
	if err != nil {
		return err
	}
	notes := []string{}
	if th.forged != "" {
		notes = append(notes, th.forged)
	}
	if m.Broken {
		notes = append(notes, "broken MIME: the raw body kept as text")
	}
	if m.Recipients > 50 {
		notes = append(notes, fmt.Sprintf("%d recipients (only counted)", m.Recipients))
	}
	for _, f := range refused {
		notes = append(notes, "attachment refused: "+f.Name+" ("+f.Key+")")
	}
	r.reason = strings.Join(notes, "; ")
	if th.ticketID != 0 {
		body := clipRunes(NewText(m.Text), tickets.MaxMessageBody)
		if body == "" {
			body = clipRunes(strings.TrimSpace(m.Text), tickets.MaxMessageBody)
		}
		if body == "" {
			body = in.cat.T(i18n.Default, "email.intake.no_text", nil)
		}
		id, err := in.tickets.AddCustomerMail(ctx, th.ticketID, "email", tickets.Mail{Body: body, Files: files})
		if err != nil {
			return err
		}
		r.outcome, r.ticketID, r.customerID, res.MessageID = OutcomeAppend, th.ticketID, th.customerID, id
	} else {
		if len(custs) == 0 {
			c, err := in.newCustomer(ctx, m, addr.Address)
			if err != nil {
				return err
			}
			custs = []int64{c}
		}
		subject := oneLine(m.Subject)
		if subject == "" {
			subject = in.cat.T(i18n.Default, "email.intake.no_subject", nil)
		}
		full := strings.TrimSpace(m.Text)
		desc := NewText(m.Text)
		if desc == "" {
			desc = full
		}
		body := clipRunes(full, tickets.MaxMessageBody)
		if body == "" {
			body = in.cat.T(i18n.Default, "email.intake.no_text", nil)
		}
		category, err := in.activeCategory(ctx, mb.CategoryID)
		if err != nil {
			return err
		}
		ref := inboundMail{mailboxID: mb.ID, references: m.References, from: addr.Address, quiet: quietReason(m)}
		if len(m.MessageID) <= 900 {
			ref.messageID = m.MessageID
		}
		tid, mid, err := in.tickets.CreateByMail(withInbound(ctx, ref), tickets.Input{CustomerID: custs[0], Type: "consultation", Channel: "email",
			Subject: clipRunes(subject, tickets.MaxSubject), Description: clipRunes(desc, tickets.MaxText), CategoryID: category},
			mb.TeamID, tickets.Mail{Body: body, Files: files})
		if err != nil {
			return err
		}
		r.outcome, r.ticketID, r.customerID, res.MessageID = OutcomeTicket, tid, custs[0], mid
	}
	q := in.db.Q(ctx)
	list, _ := json.Marshal(refused)
	if refused == nil {
		list = []byte("[]")
	}
	html := ""
	if m.HTML != "" {
		html = SanitizeHTML(m.HTML)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO email_bodies (ticket_message_id, html, refused) VALUES ($1, $2, $3)`,
		res.MessageID, html, string(list)); err != nil {
		return err
	}
	if m.MessageID != "" && len(m.MessageID) <= 900 {
		if _, err := q.ExecContext(ctx, `INSERT INTO email_threads (message_id, ticket_id, customer_id, direction, created_at)
			VALUES ($1, $2, $3, 'in', $4) ON CONFLICT (message_id) DO NOTHING`, m.MessageID, r.ticketID, r.customerID, db.Now(in.clock.Now())); err != nil {
			return err
		}
	}
	return nil
}

// newCustomer registers the sender: the name from the From display name,
// else the address's local part.
func (in *Intake) newCustomer(ctx context.Context, m *Mail, address string) (int64, error) {
	name := oneLine(m.FromName)
	if name == "" || strings.Contains(name, "@") {
		name = address[:strings.LastIndexByte(address, '@')]
	}
	name = clipRunes(name, 200)
	c, err := in.customers.Create(ctx, customers.Input{Name: &name, Email: &address})
	var v *domain.ValidationError
	if errors.As(err, &v) && len(v.Fields) > 0 && v.Fields[0].Field == "name" {
		name = address
		c, err = in.customers.Create(ctx, customers.Input{Name: &name, Email: &address})
	}
	if err != nil {
		return 0, fmt.Errorf("customer for %s: %w", address, err)
	}
	return c.ID, nil
}

// activeCategory is the mailbox's category while it is active (else none).
func (in *Intake) activeCategory(ctx context.Context, id *int64) (*int64, error) {
	if id == nil {
		return nil, nil
	}
	var active bool
	err := in.db.Q(ctx).QueryRowContext(ctx, `SELECT active FROM ticket_categories WHERE id = $1`, *id).Scan(&active)
	if errors.Is(err, errNoRows) || (err == nil && !active) {
		return nil, nil
	}
	return id, err
}

var spaceRE = regexp.MustCompile(`\s+`)

func oneLine(s string) string { return strings.TrimSpace(spaceRE.ReplaceAllString(s, " ")) }

// clipRunes cuts s to at most n characters.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
