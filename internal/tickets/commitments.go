package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Commitment is a promise made to the customer ("I will get back to you
// within 2 hours"), shown until kept or broken.
type Commitment struct {
	ID        int64      `json:"id"`
	TicketID  int64      `json:"ticket_id"`
	OwnerID   *int64     `json:"owner_id"`
	Text      string     `json:"text"`
	DueAt     time.Time  `json:"due_at"`
	CreatedBy *int64     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	KeptAt    *time.Time `json:"kept_at"`
	// State is open, kept or broken (due passed, not kept), at read time.
	State string `json:"state"`
	// Ticket facts for the owner's queue.
	TicketNumber  string `json:"ticket_number,omitempty"`
	TicketSubject string `json:"ticket_subject,omitempty"`
}

// CommitmentInput is a promise: due at a time, or in a duration from now
// ("2h", "30m", "1d").
type CommitmentInput struct {
	Text  string     `json:"text"`
	DueAt *time.Time `json:"due_at"`
	DueIn string     `json:"due_in"`
}

// ParseDueIn reads a duration typed by an agent: 30m, 2h, 1d, 1h30m, or a
// number of minutes.
func ParseDueIn(s string) (time.Duration, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, false
	}
	var mins int
	if _, err := fmt.Sscanf(s, "%d", &mins); err == nil && fmt.Sprint(mins) == s {
		return time.Duration(mins) * time.Minute, mins > 0
	}
	days := time.Duration(0)
	if i := strings.Index(s, "d"); i > 0 {
		var n int
		if _, err := fmt.Sscanf(s[:i], "%d", &n); err != nil || n <= 0 {
			return 0, false
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
	}
	if s == "" {
		return days, days > 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, false
	}
	return days + d, true
}

func (s *Store) commitmentState(c *Commitment) {
	switch {
	case c.KeptAt != nil:
		c.State = "kept"
	case c.DueAt.Before(s.clock.Now()):
		c.State = "broken"
	default:
		c.State = "open"
	}
}

// AddCommitment records a promise on a ticket, owned by the ticket's owner
// (or the writer when the team holds the ticket).
func (s *Store) AddCommitment(ctx context.Context, p *identity.Principal, ticketID int64, in CommitmentInput) (Commitment, error) {
	now := s.clock.Now()
	in.Text = strings.TrimSpace(in.Text)
	var v domain.ValidationError
	if in.Text == "" {
		v.Add("text", "validation.required", nil)
	}
	checkLen(&v, "text", in.Text, 500)
	var due time.Time
	switch {
	case in.DueAt != nil:
		due = *in.DueAt
	case in.DueIn != "":
		d, ok := ParseDueIn(in.DueIn)
		if !ok {
			v.Add("due_in", "validation.due_in", nil)
		}
		due = now.Add(d)
	default:
		v.Add("due_at", "validation.required", nil)
	}
	if !due.IsZero() && (!due.After(now) || due.After(now.AddDate(1, 0, 0))) {
		v.Add("due_at", "validation.due_future", nil)
	}
	if err := v.Err(); err != nil {
		return Commitment{}, err
	}
	var c Commitment
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, ticketID)
		if err != nil {
			return err
		}
		if !t.Open() {
			return domain.Conflict("tickets.error.commitment_closed", map[string]any{"Number": t.Number}, map[string]any{"state": t.State})
		}
		owner := t.OwnerID
		if owner == nil {
			owner = &p.UserID
		}
		c = Commitment{TicketID: t.ID, OwnerID: owner, Text: in.Text, DueAt: db.Now(due), CreatedBy: &p.UserID, CreatedAt: db.Now(now)}
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO ticket_commitments (ticket_id, owner_id, text, due_at, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, t.ID, owner, c.Text, c.DueAt, p.UserID, c.CreatedAt).Scan(&c.ID); err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE tickets SET updated_at = $1 WHERE id = $2`, c.CreatedAt, t.ID); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "ticket.commitment", "ticket", fmt.Sprint(t.ID), map[string]audit.Change{
			"commitment": {After: c.Text}, "due_at": {After: c.DueAt}}); err != nil {
			return err
		}
		return s.emit(ctx, t, EventCommitmentMade, map[string]any{"commitment_id": c.ID, "due_at": c.DueAt, "owner_id": *owner})
	})
	if err != nil {
		return Commitment{}, fmt.Errorf("add commitment: %w", err)
	}
	s.commitmentState(&c)
	return c, nil
}

// KeepCommitment marks a promise kept (one click).
func (s *Store) KeepCommitment(ctx context.Context, p *identity.Principal, ticketID, id int64) (Commitment, error) {
	var c Commitment
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, ticketID)
		if err != nil {
			return err
		}
		now := db.Now(s.clock.Now())
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE ticket_commitments SET kept_at = $1, kept_by = $2
			WHERE id = $3 AND ticket_id = $4 AND kept_at IS NULL`, now, p.UserID, id, ticketID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := s.commitment(ctx, ticketID, id); err != nil {
				return err
			}
			return domain.Conflict("tickets.error.commitment_kept", nil, nil)
		}
		if c, err = s.commitment(ctx, ticketID, id); err != nil {
			return err
		}
		late := c.DueAt.Before(now)
		if err := s.audit.Record(ctx, "ticket.commitment_kept", "ticket", fmt.Sprint(t.ID), map[string]audit.Change{
			"commitment": {After: c.Text}, "late": {After: late}}); err != nil {
			return err
		}
		return s.emit(ctx, t, EventCommitmentKept, map[string]any{"commitment_id": id, "late": late})
	})
	if err != nil {
		return Commitment{}, fmt.Errorf("keep commitment: %w", err)
	}
	return c, nil
}

const commitmentCols = `c.id, c.ticket_id, c.owner_id, c.text, c.due_at, c.created_by, c.created_at, c.kept_at, t.number, t.subject`

func (s *Store) scanCommitment(sc interface{ Scan(...any) error }) (Commitment, error) {
	var c Commitment
	var owner, by sql.NullInt64
	var kept sql.NullTime
	err := sc.Scan(&c.ID, &c.TicketID, &owner, &c.Text, &c.DueAt, &by, &c.CreatedAt, &kept, &c.TicketNumber, &c.TicketSubject)
	c.OwnerID, c.CreatedBy, c.KeptAt = ptr(owner), ptr(by), tptr(kept)
	s.commitmentState(&c)
	return c, err
}

func (s *Store) commitment(ctx context.Context, ticketID, id int64) (Commitment, error) {
	c, err := s.scanCommitment(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+commitmentCols+` FROM ticket_commitments c
		JOIN tickets t ON t.id = c.ticket_id WHERE c.id = $1 AND c.ticket_id = $2`, id, ticketID))
	if errors.Is(err, sql.ErrNoRows) {
		return Commitment{}, fmt.Errorf("commitment %d: %w", id, domain.ErrNotFound)
	}
	return c, err
}

// Commitments returns a ticket's promises, oldest first.
func (s *Store) Commitments(ctx context.Context, p *identity.Principal, ticketID int64) ([]Commitment, error) {
	if err := s.Visible(ctx, p, ticketID); err != nil {
		return nil, err
	}
	return s.commitments(ctx, `c.ticket_id = $1 ORDER BY c.id`, ticketID)
}

// DueCommitments returns the open promises of a user due before until,
// soonest first (the owner's queue and home page).
func (s *Store) DueCommitments(ctx context.Context, userID int64, until time.Time) ([]Commitment, error) {
	return s.commitments(ctx, `c.owner_id = $1 AND c.kept_at IS NULL AND c.due_at < $2 ORDER BY c.due_at LIMIT 50`, userID, db.Now(until))
}

func (s *Store) commitments(ctx context.Context, where string, args ...any) ([]Commitment, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+commitmentCols+` FROM ticket_commitments c JOIN tickets t ON t.id = c.ticket_id
		WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Commitment{}
	for rows.Next() {
		c, err := s.scanCommitment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
