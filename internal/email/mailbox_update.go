package email

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"reflect"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// ServerPatch changes what is set of a mailbox's server.
type ServerPatch struct {
	Host     *string `json:"host"`
	Port     *int    `json:"port"`
	Security *string `json:"security"`
	Username *string `json:"username"`
}

// OptionalID is a PATCH field that is left out (no change), null (cleared)
// or an id.
type OptionalID struct {
	Set bool
	ID  *int64
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *OptionalID) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.ID = nil
		return nil
	}
	var v int64
	if err := json.Unmarshal(b, &v); err != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeOf(v)}
	}
	o.ID = &v
	return nil
}

// OpenAPISchema is the field's schema in the API document: an id or null.
func (OptionalID) OpenAPISchema() map[string]any {
	return map[string]any{"type": []string{"integer", "null"}}
}

// MailboxPatch is what PATCH /api/v1/mailboxes/{id} changes: only the
// fields it names. Passwords are write-only: a new one is sealed, "" removes
// it, and none is ever returned.
type MailboxPatch struct {
	Name         *string      `json:"name"`
	Address      *string      `json:"address"`
	Active       *bool        `json:"active"`
	IsDefault    *bool        `json:"is_default"` // true only: make another the default to change it
	IMAP         *ServerPatch `json:"imap"`
	SMTP         *ServerPatch `json:"smtp"`
	Folder       *string      `json:"folder"`
	TeamID       OptionalID   `json:"team_id"`
	CategoryID   OptionalID   `json:"category_id"`
	PollInterval *int         `json:"poll_interval_seconds"`
	IMAPPassword *string      `json:"imap_password"`
	SMTPPassword *string      `json:"smtp_password"`
}

func patchServer(s *Server, p *ServerPatch) {
	if p == nil {
		return
	}
	if p.Host != nil {
		s.Host = *p.Host
	}
	if p.Port != nil {
		s.Port = *p.Port
	}
	if p.Security != nil {
		s.Security = *p.Security
	}
	if p.Username != nil {
		s.Username = strings.TrimSpace(*p.Username)
	}
}

// Update changes a mailbox; audited as mailbox.update with what changed
// (a password only as "changed"). A new IMAP server, account or folder
// starts the folder's position anew: the next poll reads the folder from
// its first mail, and the once-per-Message-ID record keeps what was taken
// in before from coming in twice.
func (s *Mailboxes) Update(ctx context.Context, id int64, p MailboxPatch) (Mailbox, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Mailbox{}, err
	}
	next := cur
	var v domain.ValidationError
	if p.Name != nil {
		if next.Name = strings.TrimSpace(*p.Name); next.Name == "" {
			v.Add("name", "validation.required", nil)
		}
	}
	if p.Address != nil {
		next.Address = strings.TrimSpace(*p.Address)
		if a, err := mail.ParseAddress(next.Address); err != nil || a.Address != next.Address {
			v.Add("address", "validation.email", nil)
		}
	}
	if p.Active != nil {
		next.Active = *p.Active
	}
	if p.IsDefault != nil {
		if !*p.IsDefault && cur.IsDefault {
			v.Add("is_default", "validation.mailbox_default", nil)
		}
		next.IsDefault = cur.IsDefault || *p.IsDefault
	}
	patchServer(&next.IMAP, p.IMAP)
	patchServer(&next.SMTP, p.SMTP)
	if p.IMAP != nil {
		checkServer(&v, "imap", &next.IMAP, false)
	}
	if p.SMTP != nil {
		checkServer(&v, "smtp", &next.SMTP, true)
	}
	if p.Folder != nil {
		if next.Folder = strings.TrimSpace(*p.Folder); next.Folder == "" {
			next.Folder = "INBOX"
		}
	}
	if p.TeamID.Set {
		next.TeamID = p.TeamID.ID
	}
	if p.CategoryID.Set {
		next.CategoryID = p.CategoryID.ID
	}
	if p.PollInterval != nil {
		next.PollInterval = *p.PollInterval
		checkPollInterval(&v, next.PollInterval)
	}
	var team, category *int64
	if p.TeamID.Set {
		team = next.TeamID
	}
	if p.CategoryID.Set {
		category = next.CategoryID
	}
	if err := s.checkRefs(ctx, &v, team, category); err != nil {
		return Mailbox{}, err
	}
	sealed := map[string]string{}
	for field, pw := range map[string]*string{"imap_password": p.IMAPPassword, "smtp_password": p.SMTPPassword} {
		if pw == nil {
			continue
		}
		out, err := s.sealer.Seal(*pw)
		if errors.Is(err, ErrNoKey) {
			v.Add(field, "validation.no_secret_key", nil)
		} else if err != nil {
			return Mailbox{}, err
		}
		sealed[field] = out
	}
	if err := v.Err(); err != nil {
		return Mailbox{}, err
	}
	changes := mailboxDiff(cur, next)
	for field := range sealed {
		changes[field] = audit.Change{After: "changed"}
	}
	if len(changes) == 0 {
		return cur, nil
	}
	restart := cur.IMAP.Host != next.IMAP.Host || cur.IMAP.Port != next.IMAP.Port || cur.IMAP.Username != next.IMAP.Username ||
		cur.Folder != next.Folder
	now := db.Now(s.clock.Now())
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		if next.IsDefault && !cur.IsDefault {
			if _, err := q.ExecContext(ctx, `UPDATE mailboxes SET is_default = FALSE, updated_at = $1 WHERE is_default`, now); err != nil {
				return err
			}
		}
		_, err := q.ExecContext(ctx, `UPDATE mailboxes SET name = $1, address = $2, active = $3, is_default = $4,
			imap_host = $5, imap_port = $6, imap_security = $7, imap_username = $8, imap_folder = $9,
			smtp_host = $10, smtp_port = $11, smtp_security = $12, smtp_username = $13,
			team_id = $14, category_id = $15, poll_interval = $16, updated_at = $17 WHERE id = $18`,
			next.Name, next.Address, next.Active, next.IsDefault, next.IMAP.Host, next.IMAP.Port, next.IMAP.Security, next.IMAP.Username,
			next.Folder, next.SMTP.Host, next.SMTP.Port, next.SMTP.Security, next.SMTP.Username, next.TeamID, next.CategoryID,
			next.PollInterval, now, id)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("address", "validation.taken", nil)
		}
		if err != nil {
			return err
		}
		for col, value := range sealed { // col is one of the two password columns
			if _, err := q.ExecContext(ctx, `UPDATE mailboxes SET `+col+` = $1 WHERE id = $2`, value, id); err != nil {
				return err
			}
		}
		if restart || cur.IMAP.Security != next.IMAP.Security || p.IMAPPassword != nil || (next.Active && !cur.Active) {
			// New settings deserve a fresh look: the old error no longer
			// says anything, and the next poll comes at once.
			if _, err := q.ExecContext(ctx, `UPDATE mailboxes SET last_error = '', last_polled_at = NULL WHERE id = $1`, id); err != nil {
				return err
			}
		}
		if restart {
			if _, err := q.ExecContext(ctx, `UPDATE mailboxes SET uid_validity = 0, last_uid = 0 WHERE id = $1`, id); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, "mailbox.update", "mailbox", fmt.Sprint(id), changes)
	})
	if err != nil {
		return Mailbox{}, fmt.Errorf("update mailbox: %w", err)
	}
	return s.Get(ctx, id)
}

// mailboxDiff is what changed between two readings, for the audit entry.
func mailboxDiff(a, b Mailbox) map[string]audit.Change {
	out := map[string]audit.Change{}
	add := func(field string, before, after any) {
		if !reflect.DeepEqual(before, after) {
			out[field] = audit.Change{Before: before, After: after}
		}
	}
	id := func(p *int64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	add("name", a.Name, b.Name)
	add("address", a.Address, b.Address)
	add("active", a.Active, b.Active)
	add("is_default", a.IsDefault, b.IsDefault)
	add("imap", a.IMAP, b.IMAP)
	add("smtp", a.SMTP, b.SMTP)
	add("folder", a.Folder, b.Folder)
	add("team_id", id(a.TeamID), id(b.TeamID))
	add("category_id", id(a.CategoryID), id(b.CategoryID))
	add("poll_interval_seconds", a.PollInterval, b.PollInterval)
	return out
}

// PollStatus is how a mailbox's intake stands, for administrators: when it
// was last read, the last poll's error, and the mails refused (too large,
// unreadable) with the latest of them.
type PollStatus struct {
	LastPolledAt  *time.Time    `json:"last_polled_at"`
	LastError     string        `json:"last_error"`
	UIDValidity   int64         `json:"uid_validity"`
	LastUID       int64         `json:"last_uid"`
	Taken         int           `json:"taken"`   // mails recorded, whatever became of them
	Refused       int           `json:"refused"` // of them, refused (outcome "rejected")
	RecentRefused []InboundMail `json:"recent_refused"`
}

// InboundMail is a mail taken in as email_inbound records it.
type InboundMail struct {
	ID         int64     `json:"id"`
	MessageID  string    `json:"message_id"`
	UID        int64     `json:"uid"`
	Sender     string    `json:"sender"`
	Subject    string    `json:"subject"`
	Outcome    string    `json:"outcome"`
	Reason     string    `json:"reason"`
	TicketID   *int64    `json:"ticket_id,omitempty"`
	CustomerID *int64    `json:"customer_id,omitempty"`
	Size       int64     `json:"size"`
	ReceivedAt time.Time `json:"received_at"`
}

// WithStatus returns a mailbox (without passwords) with its poll status.
func (s *Mailboxes) WithStatus(ctx context.Context, id int64) (Mailbox, error) {
	m, err := s.Get(ctx, id)
	if err != nil {
		return m, err
	}
	q := s.db.RQ(ctx)
	st := &PollStatus{LastPolledAt: m.LastPolledAt, LastError: m.LastError, RecentRefused: []InboundMail{}}
	if err := q.QueryRowContext(ctx, `SELECT uid_validity, last_uid FROM mailboxes WHERE id = $1`, id).Scan(&st.UIDValidity, &st.LastUID); err != nil {
		return m, err
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN outcome = $2 THEN 1 END) FROM email_inbound WHERE mailbox_id = $1`,
		id, OutcomeRejected).Scan(&st.Taken, &st.Refused); err != nil {
		return m, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, message_id, uid, sender, subject, outcome, reason, ticket_id, customer_id, size, received_at
		FROM email_inbound WHERE mailbox_id = $1 AND outcome = $2 ORDER BY id DESC LIMIT 10`, id, OutcomeRejected)
	if err != nil {
		return m, err
	}
	defer rows.Close()
	for rows.Next() {
		var r InboundMail
		var ticket, customer sql.NullInt64
		if err := rows.Scan(&r.ID, &r.MessageID, &r.UID, &r.Sender, &r.Subject, &r.Outcome, &r.Reason, &ticket, &customer, &r.Size, &r.ReceivedAt); err != nil {
			return m, err
		}
		if ticket.Valid {
			r.TicketID = &ticket.Int64
		}
		if customer.Valid {
			r.CustomerID = &customer.Int64
		}
		r.ReceivedAt = r.ReceivedAt.UTC()
		st.RecentRefused = append(st.RecentRefused, r)
	}
	m.Poll = st
	return m, rows.Err()
}
