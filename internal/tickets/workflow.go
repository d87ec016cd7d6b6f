package tickets

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// TransitionInput moves a ticket to another state. Closing records the
// customer's confirmation of the effect ("is the device running normally
// after the repair?"), which Confirmation holds; Note explains the move.
type TransitionInput struct {
	To           string `json:"to"`
	Note         string `json:"note"`
	Confirmation string `json:"confirmation"`
	// Version, when not 0, must be the ticket's version.
	Version int `json:"version"`
}

// Transition moves a ticket along Transitions. A move that is not allowed
// is a conflict naming the current state.
func (s *Store) Transition(ctx context.Context, p *identity.Principal, id int64, in TransitionInput) (Ticket, error) {
	if err := in.check(); err != nil {
		return Ticket{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, id)
		if err != nil {
			return err
		}
		if in.Version != 0 && in.Version != t.Version {
			return fmt.Errorf("ticket %d: %w", id, domain.ErrStale)
		}
		return s.move(ctx, t, in.To, in.Note, in.Confirmation, "")
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("ticket transition: %w", err)
	}
	return s.Get(ctx, p, id)
}

// check trims the input and checks what needs no ticket.
func (in *TransitionInput) check() error {
	in.Note, in.Confirmation = strings.TrimSpace(in.Note), strings.TrimSpace(in.Confirmation)
	var v domain.ValidationError
	checkOneOf(&v, "to", in.To, States)
	checkLen(&v, "note", in.Note, MaxText)
	checkLen(&v, "confirmation", in.Confirmation, MaxText)
	if in.To == StateClosed && in.Confirmation == "" {
		v.Add("confirmation", "validation.close_needs_confirmation", nil)
	}
	return v.Err()
}

// StateConflict says a move is not allowed from the ticket's state.
func StateConflict(t Ticket, to string) error {
	return domain.Conflict("tickets.error.transition", map[string]any{"Number": t.Number, "State": t.State, "To": to},
		map[string]any{"state": t.State, "to": to, "allowed": Transitions[t.State]})
}

// move changes the state of a locked ticket, in the transaction of ctx.
// cause says why when the system moves it (a customer's message reopening
// it, auto-close), else "".
func (s *Store) move(ctx context.Context, t Ticket, to, note, confirmation, cause string) error {
	if !CanMove(t.State, to) {
		return StateConflict(t, to)
	}
	now := db.Now(s.clock.Now())
	set := `state = $1, is_open = $2, version = version + 1, updated_at = $3`
	args := []any{to, IsOpen(to), now}
	reopen := IsReopen(t.State, to)
	switch {
	case to == StateResolved:
		set += `, resolved_at = $3`
	case to == StateClosed:
		set += `, closed_at = $3, confirmation = $5`
		args = append(args, nil, confirmation)
	case reopen:
		set += `, reopen_count = reopen_count + 1, resolved_at = NULL, closed_at = NULL`
	}
	if len(args) == 3 {
		args = append(args, nil)
	}
	args[3] = t.ID
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE tickets SET `+set+` WHERE id = $4 AND state = '`+t.State+`'`, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("ticket %d moved meanwhile: %w", t.ID, domain.ErrStale)
	}
	from := t.State
	t.State = to
	changes := map[string]audit.Change{"state": {Before: from, After: to}}
	if note != "" {
		changes["note"] = audit.Change{After: note}
	}
	if confirmation != "" {
		changes["confirmation"] = audit.Change{After: confirmation}
	}
	if cause != "" {
		changes["cause"] = audit.Change{After: cause}
	}
	if err := s.audit.Record(ctx, "ticket.transition", "ticket", fmt.Sprint(t.ID), changes); err != nil {
		return err
	}
	data := map[string]any{"from": from, "to": to}
	if note != "" {
		data["note"] = note
	}
	if cause != "" {
		data["cause"] = cause
	}
	kind := EventStateChanged
	if reopen {
		kind = EventReopened
	}
	return s.emit(ctx, t, kind, data)
}

// AssignInput gives a ticket to a person or a team, saying why.
type AssignInput struct {
	OwnerID *int64 `json:"owner_id"`
	TeamID  *int64 `json:"team_id"`
	Reason  string `json:"reason"`
}

// Assign hands a ticket to a person (with their team when they are in the
// ticket's team or another) or to a team's queue. Reassigning says why.
func (s *Store) Assign(ctx context.Context, p *identity.Principal, id int64, in AssignInput) (Ticket, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	var v domain.ValidationError
	if in.OwnerID == nil && in.TeamID == nil {
		v.Add("owner_id", "validation.required", nil)
	}
	checkLen(&v, "reason", in.Reason, 500)
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, id)
		if err != nil {
			return err
		}
		if in.Reason == "" && (t.OwnerID != nil || in.OwnerID == nil) {
			return domain.Invalid("reason", "validation.reassign_reason", nil)
		}
		return s.assign(ctx, t, in.OwnerID, in.TeamID, in.Reason)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("assign ticket: %w", err)
	}
	return s.Get(ctx, p, id)
}

func (s *Store) assign(ctx context.Context, t Ticket, owner, team *int64, reason string) error {
	q := s.db.Q(ctx)
	var v domain.ValidationError
	if owner != nil {
		var active bool
		if err := q.QueryRowContext(ctx, `SELECT active FROM users WHERE id = $1`, *owner).Scan(&active); err != nil || !active {
			v.Add("owner_id", "validation.unknown_user", nil)
		}
	}
	if team != nil {
		var one int
		if err := q.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = $1`, *team).Scan(&one); err != nil {
			v.Add("team_id", "validation.unknown_team", nil)
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	if team == nil {
		// A person keeps the ticket's team when they belong to it, else
		// the ticket follows them to their first team.
		team = t.TeamID
		var one int
		if t.TeamID == nil || q.QueryRowContext(ctx, `SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2`, *t.TeamID, *owner).Scan(&one) != nil {
			var err error
			if team, err = s.firstTeamOf(ctx, *owner); err != nil {
				return err
			}
		}
	}
	if same(t.OwnerID, owner) && same(t.TeamID, team) {
		return nil
	}
	now := db.Now(s.clock.Now())
	if _, err := q.ExecContext(ctx, `UPDATE tickets SET owner_id = $1, team_id = $2, version = version + 1, updated_at = $3 WHERE id = $4`,
		owner, team, now, t.ID); err != nil {
		return err
	}
	if err := s.audit.Record(ctx, "ticket.assign", "ticket", fmt.Sprint(t.ID), map[string]audit.Change{
		"owner_id": {Before: idOrNil(t.OwnerID), After: idOrNil(owner)}, "team_id": {Before: idOrNil(t.TeamID), After: idOrNil(team)},
		"reason": {After: reason}}); err != nil {
		return err
	}
	before := t
	t.OwnerID, t.TeamID = owner, team
	return s.emit(ctx, t, EventAssigned, map[string]any{"owner_id": idOrNil(owner), "team_id": idOrNil(team),
		"previous_owner_id": idOrNil(before.OwnerID), "previous_team_id": idOrNil(before.TeamID), "reason": reason})
}

func same(a, b *int64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

// Take gives an unassigned ticket (its team's queue) to p. When two agents
// take it at once one wins; the other is told who has it.
func (s *Store) Take(ctx context.Context, p *identity.Principal, id int64) (Ticket, error) {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, id)
		if err != nil {
			return err
		}
		if t.OwnerID != nil {
			if *t.OwnerID == p.UserID {
				return nil
			}
			return domain.Conflict("tickets.error.taken", map[string]any{"Number": t.Number, "Name": t.OwnerName},
				map[string]any{"owner_id": *t.OwnerID, "owner_name": t.OwnerName})
		}
		me := p.UserID
		return s.assign(ctx, t, &me, t.TeamID, "take")
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("take ticket: %w", err)
	}
	return s.Get(ctx, p, id)
}

// AutoCloseAfter closes resolved tickets whose resolution is older than
// days without an answer from the customer (the admin's setting), as the
// system; it returns how many it closed.
func (s *Store) AutoClose(ctx context.Context, days int) (int, error) {
	if days <= 0 {
		return 0, nil
	}
	cutoff := db.Now(s.clock.Now().Add(-time.Duration(days) * 24 * time.Hour))
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id FROM tickets WHERE state = 'resolved' AND resolved_at < $1 ORDER BY id LIMIT 500`, cutoff)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			t, err := s.lockForUpdate(ctx, nil, id)
			if err != nil || t.State != StateResolved {
				return err
			}
			return s.move(ctx, t, StateClosed, "", "", "no_answer_after_resolution")
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
