package tickets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Macro applies, in one click and one transaction, a reply template (sent
// as a reply), a state, tags and an assignment. Every part is optional.
type Macro struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	TemplateID *int64    `json:"template_id"`
	SetState   string    `json:"set_state"`
	AddTags    []string  `json:"add_tags"`
	OwnerID    *int64    `json:"owner_id"`
	TeamID     *int64    `json:"team_id"`
	Active     bool      `json:"active"`
	Version    int       `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

const macroCols = `id, name, template_id, set_state, add_tags, owner_id, team_id, active, version, created_at, updated_at`

func scanMacro(sc interface{ Scan(...any) error }) (Macro, error) {
	var m Macro
	var tmpl, owner, team sql.NullInt64
	var tags string
	err := sc.Scan(&m.ID, &m.Name, &tmpl, &m.SetState, &tags, &owner, &team, &m.Active, &m.Version, &m.CreatedAt, &m.UpdatedAt)
	m.TemplateID, m.OwnerID, m.TeamID = ptr(tmpl), ptr(owner), ptr(team)
	m.AddTags = []string{}
	_ = json.Unmarshal([]byte(tags), &m.AddTags)
	return m, err
}

// Macros lists the macros by name.
func (s *Store) Macros(ctx context.Context) ([]Macro, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+macroCols+` FROM ticket_macros ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("macros: %w", err)
	}
	defer rows.Close()
	out := []Macro{}
	for rows.Next() {
		m, err := scanMacro(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Macro returns one macro.
func (s *Store) Macro(ctx context.Context, id int64) (Macro, error) {
	m, err := scanMacro(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+macroCols+` FROM ticket_macros WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Macro{}, fmt.Errorf("macro %d: %w", id, domain.ErrNotFound)
	}
	return m, err
}

func (m *Macro) check(ctx context.Context, s *Store) error {
	var v domain.ValidationError
	q := s.db.Q(ctx)
	m.Name = strings.TrimSpace(m.Name)
	if m.Name == "" {
		v.Add("name", "validation.required", nil)
	}
	checkLen(&v, "name", m.Name, 40)
	if m.SetState != "" {
		checkOneOf(&v, "set_state", m.SetState, States)
		if m.SetState == StateClosed {
			// Closing records the customer's confirmation, which a
			// macro cannot give.
			v.Add("set_state", "validation.macro_close", nil)
		}
	}
	tags, err := normalizeTags(m.AddTags)
	if err != nil {
		v.Add("add_tags", "validation.tags", map[string]any{"Max": MaxTags, "Len": MaxTagLen})
	}
	m.AddTags = tags
	if m.TemplateID != nil {
		if _, err := s.Template(ctx, *m.TemplateID); err != nil {
			v.Add("template_id", "validation.unknown_template", nil)
		}
	}
	if m.OwnerID != nil {
		var active bool
		if err := q.QueryRowContext(ctx, `SELECT active FROM users WHERE id = $1`, *m.OwnerID).Scan(&active); err != nil || !active {
			v.Add("owner_id", "validation.unknown_user", nil)
		}
	}
	if m.TeamID != nil {
		var one int
		if err := q.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = $1`, *m.TeamID).Scan(&one); err != nil {
			v.Add("team_id", "validation.unknown_team", nil)
		}
	}
	return v.Err()
}

// SaveMacro creates (ID 0) or updates a macro; an update must carry the
// macro's version.
func (s *Store) SaveMacro(ctx context.Context, m Macro) (Macro, error) {
	if err := m.check(ctx, s); err != nil {
		return Macro{}, err
	}
	view := func(m Macro) map[string]any {
		return map[string]any{"name": m.Name, "template_id": idOrNil(m.TemplateID), "set_state": m.SetState,
			"add_tags": jsonText(m.AddTags), "owner_id": idOrNil(m.OwnerID), "team_id": idOrNil(m.TeamID), "active": m.Active}
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		now := db.Now(s.clock.Now())
		if m.ID == 0 {
			err := q.QueryRowContext(ctx, `INSERT INTO ticket_macros (name, template_id, set_state, add_tags, owner_id, team_id, active,
				created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
				m.Name, m.TemplateID, m.SetState, jsonText(m.AddTags), m.OwnerID, m.TeamID, m.Active, now).Scan(&m.ID)
			if db.IsUniqueViolation(err) {
				return domain.Invalid("name", "validation.name_taken", nil)
			}
			if err != nil {
				return err
			}
			return s.audit.Record(ctx, "macro.create", "ticket_macro", fmt.Sprint(m.ID), audit.Diff(map[string]any{}, view(m)))
		}
		before, err := s.Macro(ctx, m.ID)
		if err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, `UPDATE ticket_macros SET name = $1, template_id = $2, set_state = $3, add_tags = $4,
			owner_id = $5, team_id = $6, active = $7, version = version + 1, updated_at = $8 WHERE id = $9 AND version = $10`,
			m.Name, m.TemplateID, m.SetState, jsonText(m.AddTags), m.OwnerID, m.TeamID, m.Active, now, m.ID, m.Version)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("name", "validation.name_taken", nil)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("macro %d: %w", m.ID, domain.ErrStale)
		}
		return s.audit.Record(ctx, "macro.update", "ticket_macro", fmt.Sprint(m.ID), audit.Diff(view(before), view(m)))
	})
	if err != nil {
		return Macro{}, fmt.Errorf("save macro: %w", err)
	}
	return s.Macro(ctx, m.ID)
}

// ApplyMacro applies a macro to a ticket in one transaction: the template
// rendered and posted as p's reply, the state (an allowed move only, else a
// conflict naming the current state and nothing applied), the tags, the
// assignment. A macro that assigns needs tickets.assign of whoever applies
// it (as the assign action does), unless it gives the ticket to them
// alone: a macro must not be a way around the permission; it is refused
// with ErrForbidden before anything is applied.
func (s *Store) ApplyMacro(ctx context.Context, p *identity.Principal, ticketID, macroID int64) (Ticket, error) {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, ticketID)
		if err != nil {
			return err
		}
		m, err := s.Macro(ctx, macroID)
		if err != nil {
			return err
		}
		if !m.Active {
			return fmt.Errorf("macro %d inactive: %w", macroID, domain.ErrNotFound)
		}
		if !MayAssign(p, m.OwnerID, m.TeamID) {
			return fmt.Errorf("macro %d assigns: %w", macroID, domain.ErrForbidden)
		}
		// The state the reply leaves, to check the move before anything.
		state := t.State
		if m.TemplateID != nil && (state == StateNew || state == StateAcknowledged) {
			state = StateInProgress
		}
		if m.SetState != "" && m.SetState != state && !CanMove(state, m.SetState) {
			return StateConflict(t, m.SetState)
		}
		if m.TemplateID != nil {
			tmpl, err := s.Template(ctx, *m.TemplateID)
			if err != nil {
				return err
			}
			body := RenderTemplate(tmpl.Body, t, t.CustomerName, p.Name)
			if _, err := s.addReply(ctx, p, t, Post{Body: body}); err != nil {
				return err
			}
			if t, err = s.lockForUpdate(ctx, p, ticketID); err != nil {
				return err
			}
		}
		if m.SetState != "" && m.SetState != t.State {
			if err := s.move(ctx, t, m.SetState, "", "", "macro"); err != nil {
				return err
			}
			if t, err = s.lockForUpdate(ctx, p, ticketID); err != nil {
				return err
			}
		}
		if len(m.AddTags) > 0 {
			if err := s.addTags(ctx, t, m.AddTags); err != nil {
				return err
			}
			if t, err = s.lockForUpdate(ctx, p, ticketID); err != nil {
				return err
			}
		}
		if m.OwnerID != nil || m.TeamID != nil {
			// Without an owner the ticket goes to the team's queue.
			if err := s.assign(ctx, t, m.OwnerID, m.TeamID, "macro: "+m.Name); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, "ticket.macro", "ticket", fmt.Sprint(ticketID), map[string]audit.Change{
			"macro_id": {After: m.ID}, "macro": {After: m.Name}})
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("apply macro: %w", err)
	}
	return s.Get(ctx, p, ticketID)
}

// MayAssign tells whether p may give a ticket to owner/team: nothing to
// assign, anyone with tickets.assign, or without it only to oneself alone
// (as taking does).
func MayAssign(p *identity.Principal, owner, team *int64) bool {
	if owner == nil && team == nil {
		return true
	}
	if p == nil {
		return true // the system (routing, jobs)
	}
	return p.Can(identity.TicketsAssign) || (owner != nil && *owner == p.UserID && team == nil)
}
