package tickets

import (
	"context"
	"fmt"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// MergedConfirmation is the confirmation text a merged ticket is closed
// with (the business language; the number is the target's).
const MergedConfirmation = "已合并到工单 %s"

// Merge moves a duplicate ticket into another of the same customer: its
// replies, customer messages, internal notes, mentions and commitments
// move to into (their rows change ticket), its followers follow into too,
// and its time spent is added; the duplicate is closed with merged_into
// set, so that its number finds into (GetByNumber). Both get an
// EventMerged and an audit entry. Merging a ticket into itself, into or
// from a merged ticket, or across customers is refused.
func (s *Store) Merge(ctx context.Context, p *identity.Principal, id, into int64) (Ticket, error) {
	if id == into {
		return Ticket{}, domain.Invalid("into", "validation.ticket_merge_self", nil)
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		// Lock the smaller id first, so two opposite merges cannot deadlock.
		first, second := min(id, into), max(id, into)
		a, err := s.lockForUpdate(ctx, p, first)
		if err != nil {
			return err
		}
		b, err := s.lockForUpdate(ctx, p, second)
		if err != nil {
			if first == into {
				return err
			}
			return domain.Invalid("into", "validation.ticket_merge_unknown", nil)
		}
		src, dst := a, b
		if src.ID != id {
			src, dst = b, a
		}
		switch {
		case src.MergedInto != nil:
			return domain.Conflict("tickets.error.already_merged", map[string]any{"Number": src.Number}, map[string]any{"merged_into": *src.MergedInto})
		case dst.MergedInto != nil:
			return domain.Invalid("into", "validation.ticket_merge_merged", nil)
		case src.CustomerID != dst.CustomerID:
			return domain.Invalid("into", "validation.ticket_merge_customer", nil)
		}
		return s.merge(ctx, src, dst)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("merge ticket: %w", err)
	}
	return s.Get(ctx, p, into)
}

func (s *Store) merge(ctx context.Context, src, dst Ticket) error {
	q := s.db.Q(ctx)
	now := db.Now(s.clock.Now())
	for _, table := range []string{"ticket_messages", "ticket_notes", "ticket_commitments", "ticket_mentions"} {
		if _, err := q.ExecContext(ctx, `UPDATE `+table+` SET ticket_id = $1 WHERE ticket_id = $2`, dst.ID, src.ID); err != nil {
			return fmt.Errorf("merge %s: %w", table, err)
		}
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO ticket_followers (ticket_id, user_id)
		SELECT $1, user_id FROM ticket_followers WHERE ticket_id = $2 ON CONFLICT DO NOTHING`, dst.ID, src.ID); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `UPDATE tickets SET time_spent = time_spent + $1,
		last_message_id = COALESCE((SELECT MAX(id) FROM ticket_messages WHERE ticket_id = $2), 0),
		version = version + 1, updated_at = $3 WHERE id = $2`, src.TimeSpent, dst.ID, now); err != nil {
		return err
	}
	if _, err := q.ExecContext(ctx, `UPDATE tickets SET merged_into = $1, state = 'closed', is_open = FALSE, closed_at = $2,
		confirmation = $3, last_message_id = 0, time_spent = 0, version = version + 1, updated_at = $2 WHERE id = $4`,
		dst.ID, now, fmt.Sprintf(MergedConfirmation, dst.Number), src.ID); err != nil {
		return err
	}
	// The moved messages and notes are found under the target; the merged
	// ticket is no longer found by its words.
	if err := s.reindex(ctx, dst.ID); err != nil {
		return err
	}
	if err := ticketText.Delete(ctx, s.db, src.ID); err != nil {
		return err
	}
	if err := s.audit.Record(ctx, "ticket.merge", "ticket", fmt.Sprint(src.ID), map[string]audit.Change{
		"merged_into": {After: dst.Number}, "state": {Before: src.State, After: StateClosed}}); err != nil {
		return err
	}
	if err := s.audit.Record(ctx, "ticket.merge_target", "ticket", fmt.Sprint(dst.ID), map[string]audit.Change{
		"merged_from": {After: src.Number}}); err != nil {
		return err
	}
	from := src.State
	src.State = StateClosed
	if err := s.emit(ctx, src, EventMerged, map[string]any{"merged_into": dst.ID, "merged_into_number": dst.Number, "previous_state": from}); err != nil {
		return err
	}
	return s.emit(ctx, dst, EventMerged, map[string]any{"merged_from": src.ID, "merged_from_number": src.Number})
}

// Linked is a ticket related to another, as the viewer may see it.
type Linked struct {
	ID      int64  `json:"id"`
	Number  string `json:"number"`
	Subject string `json:"subject"`
	State   string `json:"state"`
}

// Link relates two tickets p may both see (stored once, smaller id first).
func (s *Store) Link(ctx context.Context, p *identity.Principal, a, b int64) error {
	return s.link(ctx, p, a, b, true)
}

// Unlink removes the relation of two tickets.
func (s *Store) Unlink(ctx context.Context, p *identity.Principal, a, b int64) error {
	return s.link(ctx, p, a, b, false)
}

func (s *Store) link(ctx context.Context, p *identity.Principal, a, b int64, on bool) error {
	if a == b {
		return domain.Invalid("related_id", "validation.link_self", nil)
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		ta, err := s.lockForUpdate(ctx, p, a)
		if err != nil {
			return err
		}
		tb, err := s.lockForUpdate(ctx, p, b)
		if err != nil {
			return domain.Invalid("related_id", "validation.unknown_ticket", nil)
		}
		lo, hi := min(a, b), max(a, b)
		q := s.db.Q(ctx)
		var n int64
		if on {
			res, err := q.ExecContext(ctx, `INSERT INTO ticket_links (ticket_id, related_id, created_by, created_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, lo, hi, actorID(p), db.Now(s.clock.Now()))
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
		} else {
			res, err := q.ExecContext(ctx, `DELETE FROM ticket_links WHERE ticket_id = $1 AND related_id = $2`, lo, hi)
			if err != nil {
				return err
			}
			if n, _ = res.RowsAffected(); n == 0 {
				return fmt.Errorf("link %d-%d: %w", a, b, domain.ErrNotFound)
			}
		}
		if n == 0 {
			return nil
		}
		action := "ticket.link"
		if !on {
			action = "ticket.unlink"
		}
		if err := s.audit.Record(ctx, action, "ticket", fmt.Sprint(a), map[string]audit.Change{"related": {After: tb.Number}}); err != nil {
			return err
		}
		if err := s.emit(ctx, ta, EventLinked, map[string]any{"related_id": b, "linked": on}); err != nil {
			return err
		}
		return s.emit(ctx, tb, EventLinked, map[string]any{"related_id": a, "linked": on})
	})
	if err != nil {
		return fmt.Errorf("link tickets: %w", err)
	}
	return nil
}

// Links returns the tickets related to id that p may see.
func (s *Store) Links(ctx context.Context, p *identity.Principal, id int64) ([]Linked, error) {
	if err := s.Visible(ctx, p, id); err != nil {
		return nil, err
	}
	cond, args := scopeSQL(p, 2)
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT t.id, t.number, t.subject, t.state FROM tickets t
		WHERE t.id IN (SELECT related_id FROM ticket_links WHERE ticket_id = $1 UNION SELECT ticket_id FROM ticket_links WHERE related_id = $1)
		AND `+cond+` ORDER BY t.id`, append([]any{id}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Linked{}
	for rows.Next() {
		var l Linked
		if err := rows.Scan(&l.ID, &l.Number, &l.Subject, &l.State); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func actorID(p *identity.Principal) any {
	if p == nil {
		return nil
	}
	return p.UserID
}
