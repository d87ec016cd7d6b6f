package email

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Securities are the ways a mailbox connects: implicit TLS, STARTTLS, or
// plain (loopback relays and tests only).
var Securities = []string{"tls", "starttls", "none"}

// MailboxInput is what an administrator sets; passwords are write-only.
type MailboxInput struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	IMAP    Server `json:"imap"`
	Folder  string `json:"folder"`
	SMTP    Server `json:"smtp"`
	TeamID  *int64 `json:"team_id"`
	// CategoryID is the category of new tickets from this mailbox.
	CategoryID *int64 `json:"category_id"`
	// PollInterval is how often the folder is read, in seconds (15 to
	// 86,400; 0: 60).
	PollInterval int  `json:"poll_interval_seconds"`
	IsDefault    bool `json:"is_default"`
	// IMAPPassword and SMTPPassword are stored sealed and never returned.
	IMAPPassword string `json:"imap_password"`
	SMTPPassword string `json:"smtp_password"`
}

// Mailboxes stores the mailboxes.
type Mailboxes struct {
	db     *db.DB
	clock  clock.Clock
	audit  *audit.Log
	sealer *Sealer
}

// NewMailboxes builds the store.
func NewMailboxes(d *db.DB, c clock.Clock, a *audit.Log, s *Sealer) *Mailboxes {
	return &Mailboxes{db: d, clock: c, audit: a, sealer: s}
}

func checkServer(v *domain.ValidationError, field string, s *Server, needed bool) {
	s.Host = strings.TrimSpace(s.Host)
	if s.Host == "" {
		if needed {
			v.Add(field+".host", "validation.required", nil)
		}
		return
	}
	if strings.ContainsAny(s.Host, " /:@") {
		v.Add(field+".host", "validation.host", nil)
	}
	if s.Port < 1 || s.Port > 65535 {
		v.Add(field+".port", "validation.port", nil)
	}
	if !slices.Contains(Securities, s.Security) {
		v.Add(field+".security", "validation.one_of", map[string]any{"Values": strings.Join(Securities, ", ")})
	}
}

// Create adds a mailbox; audited (never with its passwords).
func (s *Mailboxes) Create(ctx context.Context, in MailboxInput) (Mailbox, error) {
	var v domain.ValidationError
	in.Name, in.Address = strings.TrimSpace(in.Name), strings.TrimSpace(in.Address)
	if in.Name == "" {
		v.Add("name", "validation.required", nil)
	}
	if a, err := mail.ParseAddress(in.Address); err != nil || a.Address != in.Address {
		v.Add("address", "validation.email", nil)
	}
	checkServer(&v, "imap", &in.IMAP, false)
	checkServer(&v, "smtp", &in.SMTP, true)
	if in.Folder = strings.TrimSpace(in.Folder); in.Folder == "" {
		in.Folder = "INBOX"
	}
	if in.PollInterval == 0 {
		in.PollInterval = DefaultPollInterval
	}
	checkPollInterval(&v, in.PollInterval)
	if err := s.checkRefs(ctx, &v, in.TeamID, in.CategoryID); err != nil {
		return Mailbox{}, err
	}
	imapPass, err := s.sealer.Seal(in.IMAPPassword)
	if errors.Is(err, ErrNoKey) {
		v.Add("imap_password", "validation.no_secret_key", nil)
	}
	smtpPass, err2 := s.sealer.Seal(in.SMTPPassword)
	if errors.Is(err2, ErrNoKey) {
		v.Add("smtp_password", "validation.no_secret_key", nil)
	}
	if err := v.Err(); err != nil {
		return Mailbox{}, err
	}
	if err := errors.Join(err, err2); err != nil {
		return Mailbox{}, err
	}
	now := db.Now(s.clock.Now())
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		var any int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM mailboxes WHERE is_default`).Scan(&any); err != nil {
			return err
		}
		isDefault := in.IsDefault || any == 0 // the first mailbox sends by default
		if isDefault {
			if _, err := q.ExecContext(ctx, `UPDATE mailboxes SET is_default = FALSE, updated_at = $1 WHERE is_default`, now); err != nil {
				return err
			}
		}
		err := q.QueryRowContext(ctx, `INSERT INTO mailboxes (name, address, imap_host, imap_port, imap_security, imap_username, imap_password, imap_folder,
			smtp_host, smtp_port, smtp_security, smtp_username, smtp_password, team_id, is_default, active, created_at, updated_at,
			category_id, poll_interval)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, TRUE, $16, $16, $17, $18) RETURNING id`,
			in.Name, in.Address, in.IMAP.Host, in.IMAP.Port, orDefault(in.IMAP.Security, "tls"), in.IMAP.Username, imapPass, in.Folder,
			in.SMTP.Host, in.SMTP.Port, in.SMTP.Security, in.SMTP.Username, smtpPass, in.TeamID, isDefault, now,
			in.CategoryID, in.PollInterval).Scan(&id)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("address", "validation.taken", nil)
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, "mailbox.create", "mailbox", fmt.Sprint(id), map[string]audit.Change{
			"address": {After: in.Address}, "smtp_host": {After: in.SMTP.Host}, "imap_host": {After: in.IMAP.Host}})
	})
	if err != nil {
		return Mailbox{}, err
	}
	return s.Get(ctx, id)
}

// DefaultPollInterval is how often a mailbox is read, in seconds.
const DefaultPollInterval = 60

func checkPollInterval(v *domain.ValidationError, n int) {
	if n < 15 || n > 86400 {
		v.Add("poll_interval_seconds", "validation.range", map[string]any{"Min": 15, "Max": 86400})
	}
}

// checkRefs checks that the team and the category exist (the category
// active), so a wrong id is a 400 naming it, not a foreign key's 500.
func (s *Mailboxes) checkRefs(ctx context.Context, v *domain.ValidationError, team, category *int64) error {
	q := s.db.RQ(ctx)
	if team != nil {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = $1`, *team).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			v.Add("team_id", "validation.unknown_team", map[string]any{"Value": *team})
		} else if err != nil {
			return err
		}
	}
	if category != nil {
		var active bool
		err := q.QueryRowContext(ctx, `SELECT active FROM ticket_categories WHERE id = $1`, *category).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !active) {
			v.Add("category_id", "validation.unknown_category", map[string]any{"Value": *category})
		} else if err != nil {
			return err
		}
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

const mailboxColumns = `id, name, address, imap_host, imap_port, imap_security, imap_username, imap_password, imap_folder,
	smtp_host, smtp_port, smtp_security, smtp_username, smtp_password, team_id, is_default, active, last_error,
	category_id, poll_interval, last_polled_at`

// scan reads a row; with unseal the passwords are decrypted, else left out.
func (s *Mailboxes) scan(sc interface{ Scan(...any) error }, unseal bool) (Mailbox, error) {
	var m Mailbox
	var team, category sql.NullInt64
	var polled sql.NullTime
	var ip, sp string
	err := sc.Scan(&m.ID, &m.Name, &m.Address, &m.IMAP.Host, &m.IMAP.Port, &m.IMAP.Security, &m.IMAP.Username, &ip, &m.Folder,
		&m.SMTP.Host, &m.SMTP.Port, &m.SMTP.Security, &m.SMTP.Username, &sp, &team, &m.IsDefault, &m.Active, &m.LastError,
		&category, &m.PollInterval, &polled)
	if err != nil {
		return m, err
	}
	if team.Valid {
		m.TeamID = &team.Int64
	}
	if category.Valid {
		m.CategoryID = &category.Int64
	}
	if polled.Valid {
		t := polled.Time.UTC()
		m.LastPolledAt = &t
	}
	if unseal {
		if m.IMAP.Password, err = s.sealer.Open(ip); err != nil {
			return m, err
		}
		if m.SMTP.Password, err = s.sealer.Open(sp); err != nil {
			return m, err
		}
	}
	return m, nil
}

// Get returns a mailbox without its passwords.
func (s *Mailboxes) Get(ctx context.Context, id int64) (Mailbox, error) {
	m, err := s.scan(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes WHERE id = $1`, id), false)
	if errors.Is(err, sql.ErrNoRows) {
		return m, domain.ErrNotFound
	}
	return m, err
}

// List returns every mailbox without passwords.
func (s *Mailboxes) List(ctx context.Context) ([]Mailbox, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+mailboxColumns+` FROM mailboxes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Mailbox{}
	for rows.Next() {
		m, err := s.scan(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ForSending is the email channel's MailboxFor: mailbox id (0: the
// default one), active, with its passwords unsealed.
func (s *Mailboxes) ForSending(ctx context.Context, id int64) (Mailbox, error) {
	q := `SELECT ` + mailboxColumns + ` FROM mailboxes WHERE active AND id = $1`
	var arg any = id
	if id == 0 {
		q, arg = `SELECT `+mailboxColumns+` FROM mailboxes WHERE active AND is_default AND $1 = 0`, 0
	}
	m, err := s.scan(s.db.RQ(ctx).QueryRowContext(ctx, q, arg), true)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNoMailbox
	}
	return m, err
}
