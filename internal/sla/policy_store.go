package sla

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// ErrDeleteDefaultPolicy: the seeded default policy cannot be deleted (it is
// the fallback when no other policy matches; deactivate or edit it
// instead). It wraps domain.ErrConflict.
var ErrDeleteDefaultPolicy = fmt.Errorf("the default SLA policy cannot be deleted: %w", domain.ErrConflict)

// PolicyStore keeps SLA policies (table sla_policies), audited and
// versioned. It is safe for concurrent use.
type PolicyStore struct {
	db        *db.DB
	clock     clock.Clock
	audit     *audit.Log
	calendars *Store
	vocab     Vocabulary
}

// NewPolicyStore returns a PolicyStore; conditions are checked against
// vocab and calendars are looked up in cals.
func NewPolicyStore(d *db.DB, c clock.Clock, log *audit.Log, cals *Store, vocab Vocabulary) *PolicyStore {
	return &PolicyStore{db: d, clock: c, audit: log, calendars: cals, vocab: vocab}
}

// Vocabulary is what conditions may name.
func (s *PolicyStore) Vocabulary() Vocabulary { return s.vocab }

// PolicyPatch changes the fields it names.
type PolicyPatch struct {
	Name       *string     `json:"name,omitempty"`
	Priority   *int        `json:"priority,omitempty"`
	Active     *bool       `json:"active,omitempty"`
	Calendar   *string     `json:"calendar,omitempty"`
	Conditions *Conditions `json:"conditions,omitempty"`
	Targets    *[]Target   `json:"targets,omitempty"`
}

const policyColumns = `id, name, priority, active, is_default, calendar, conditions, targets, version, created_at, updated_at`

// EnsureDefault seeds DefaultPolicy on the default calendar when no policy
// exists yet; it never overwrites an administrator's edits.
func (s *PolicyStore) EnsureDefault(ctx context.Context) error {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var n int
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_policies`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		p := DefaultPolicy()
		if err := p.Validate(s.vocab); err != nil {
			return err
		}
		if _, err := s.calendars.Calendar(ctx, p.Calendar); errors.Is(err, domain.ErrNotFound) {
			p.Calendar = "" // no default calendar: calendar time
		} else if err != nil {
			return err
		}
		_, err := s.insert(ctx, p, true)
		return err
	})
	if err != nil {
		return fmt.Errorf("seed SLA policy: %w", err)
	}
	return nil
}

// check validates p fully: its own fields, then what it refers to in the
// database (the calendar, categories, teams).
func (s *PolicyStore) check(ctx context.Context, p *Policy) error {
	bad := &domain.ValidationError{}
	if err := p.Validate(s.vocab); err != nil {
		var v *domain.ValidationError
		if !errors.As(err, &v) {
			return err
		}
		bad.Fields = append(bad.Fields, v.Fields...)
	}
	p.Calendar = strings.TrimSpace(p.Calendar)
	if p.Calendar != "" {
		cal, err := s.calendars.Calendar(ctx, p.Calendar)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			bad.Add("calendar", "sla_policy.calendar.unknown", map[string]any{"Name": p.Calendar})
		case err != nil:
			return err
		default:
			if _, err := cal.Add(s.clock.Now(), time.Minute); errors.Is(err, ErrNoWorkingTime) {
				bad.Add("calendar", "sla_policy.calendar.no_working_time", map[string]any{"Name": p.Calendar})
			} else if err != nil && !errors.Is(err, ErrOutOfRange) {
				return err
			}
		}
	}
	if err := s.exist(ctx, bad, "conditions.category_ids", "ticket_categories", p.Conditions.CategoryIDs); err != nil {
		return err
	}
	if err := s.exist(ctx, bad, "conditions.team_ids", "teams", p.Conditions.TeamIDs); err != nil {
		return err
	}
	for i, t := range p.Targets {
		for j, st := range t.Escalation {
			if st.TeamID > 0 {
				f := fmt.Sprintf("targets[%d].escalation[%d].team_id", i, j)
				if err := s.exist(ctx, bad, f, "teams", []int64{st.TeamID}); err != nil {
					return err
				}
			}
		}
	}
	return bad.Err()
}

// exist reports ids missing from table (a fixed table name, never input).
func (s *PolicyStore) exist(ctx context.Context, bad *domain.ValidationError, field, table string, ids []int64) error {
	for _, id := range ids {
		if id <= 0 {
			continue // reported by Validate
		}
		var n int
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			bad.Add(field, "sla_policy.unknown_id", map[string]any{"ID": id})
			return nil
		}
	}
	return nil
}

func (s *PolicyStore) insert(ctx context.Context, p Policy, seed bool) (int64, error) {
	conds, _ := json.Marshal(p.Conditions)
	targets, _ := json.Marshal(p.Targets)
	now := db.Now(s.clock.Now())
	var id int64
	// A new policy starts with its timers up to date (timers_version =
	// version): no timer refers to it yet, so the sweep has nothing to
	// recompute. Left at 0, the first sweep walked the policy's tickets while
	// new ones kept arriving, matching each again right after its creation.
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO sla_policies (name, priority, active, is_default, calendar, conditions, targets, created_at, updated_at, timers_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1) RETURNING id`,
		p.Name, p.Priority, p.Active, seed, p.Calendar, string(conds), string(targets), now).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, domain.Invalid("name", "sla_policy.name.taken", nil)
	}
	if err != nil {
		return 0, err
	}
	return id, s.audit.Record(ctx, "sla_policy.create", "sla_policy", strconv.FormatInt(id, 10), map[string]audit.Change{
		"name": {After: p.Name}, "priority": {After: p.Priority}, "active": {After: p.Active},
		"calendar": {After: p.Calendar}, "conditions": {After: string(conds)}, "targets": {After: targetsText(p.Targets)},
	})
}

// Create stores a new policy (ID, Default, Version and times are ignored).
func (s *PolicyStore) Create(ctx context.Context, p Policy) (Policy, error) {
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.check(ctx, &p); err != nil {
			return err
		}
		var err error
		id, err = s.insert(ctx, p, false)
		return err
	})
	if err != nil {
		return Policy{}, fmt.Errorf("create SLA policy: %w", err)
	}
	return s.Get(ctx, id)
}

func scanPolicy(sc interface{ Scan(...any) error }) (Policy, error) {
	var p Policy
	var conds, targets string
	if err := sc.Scan(&p.ID, &p.Name, &p.Priority, &p.Active, &p.Default, &p.Calendar, &conds, &targets, &p.Version, &p.CreatedAt, &p.UpdatedAt); err != nil {
		return Policy{}, err
	}
	if err := json.Unmarshal([]byte(conds), &p.Conditions); err != nil {
		return Policy{}, fmt.Errorf("SLA policy %d: stored conditions: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(targets), &p.Targets); err != nil {
		return Policy{}, fmt.Errorf("SLA policy %d: stored targets: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// Get reads one policy; a missing one is domain.ErrNotFound.
func (s *PolicyStore) Get(ctx context.Context, id int64) (Policy, error) {
	p, err := scanPolicy(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+policyColumns+` FROM sla_policies WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Policy{}, fmt.Errorf("SLA policy %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Policy{}, fmt.Errorf("get SLA policy %d: %w", id, err)
	}
	return p, nil
}

// List returns every policy in matching order (priority, then id).
func (s *PolicyStore) List(ctx context.Context) ([]Policy, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+policyColumns+` FROM sla_policies ORDER BY priority, id`)
	if err != nil {
		return nil, fmt.Errorf("list SLA policies: %w", err)
	}
	defer rows.Close()
	out := []Policy{}
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("list SLA policies: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Move moves a policy one place up (or down) in matching order and
// renumbers the priorities 10, 20, 30, … in one transaction, so a
// concurrent edit or a failure never leaves the order half changed. At the
// top (or bottom) already, nothing changes.
func (s *PolicyStore) Move(ctx context.Context, id int64, down bool) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		list, err := s.List(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(list, func(p Policy) bool { return p.ID == id })
		if i < 0 {
			return domain.ErrNotFound
		}
		j := i - 1
		if down {
			j = i + 1
		}
		if j < 0 || j >= len(list) {
			return nil
		}
		list[i], list[j] = list[j], list[i]
		for k, p := range list {
			prio := (k + 1) * 10
			if p.Priority == prio {
				continue
			}
			if _, err := s.Patch(ctx, p.ID, PolicyPatch{Priority: &prio}, p.Version); err != nil {
				return err
			}
		}
		return nil
	})
}

// Patch changes the fields patch names. version is the version the caller
// read (0: do not check); a different one is domain.ErrStale.
func (s *PolicyStore) Patch(ctx context.Context, id int64, patch PolicyPatch, version int) (Policy, error) {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return fmt.Errorf("SLA policy %d version %d, not %d: %w", id, cur.Version, version, domain.ErrStale)
		}
		next := cur
		if patch.Name != nil {
			next.Name = *patch.Name
		}
		if patch.Priority != nil {
			next.Priority = *patch.Priority
		}
		if patch.Active != nil {
			next.Active = *patch.Active
		}
		if patch.Calendar != nil {
			next.Calendar = *patch.Calendar
		}
		if patch.Conditions != nil {
			next.Conditions = *patch.Conditions
		}
		if patch.Targets != nil {
			next.Targets = *patch.Targets
		}
		if err := s.check(ctx, &next); err != nil {
			return err
		}
		conds, _ := json.Marshal(next.Conditions)
		targets, _ := json.Marshal(next.Targets)
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE sla_policies SET name = $1, priority = $2, active = $3, calendar = $4,
			conditions = $5, targets = $6, version = version + 1, updated_at = $7 WHERE id = $8 AND version = $9`,
			next.Name, next.Priority, next.Active, next.Calendar, string(conds), string(targets), db.Now(s.clock.Now()), id, cur.Version)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("name", "sla_policy.name.taken", nil)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("SLA policy %d changed meanwhile: %w", id, domain.ErrStale)
		}
		changes := map[string]audit.Change{}
		diff := func(field string, before, after any) {
			if !reflect.DeepEqual(before, after) {
				changes[field] = audit.Change{Before: before, After: after}
			}
		}
		oldConds, _ := json.Marshal(cur.Conditions)
		diff("name", cur.Name, next.Name)
		diff("priority", cur.Priority, next.Priority)
		diff("active", cur.Active, next.Active)
		diff("calendar", cur.Calendar, next.Calendar)
		diff("conditions", string(oldConds), string(conds))
		diff("targets", targetsText(cur.Targets), targetsText(next.Targets))
		return s.audit.Record(ctx, "sla_policy.update", "sla_policy", strconv.FormatInt(id, 10), changes)
	})
	if err != nil {
		return Policy{}, fmt.Errorf("update SLA policy %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// Delete removes a policy (version 0: do not check). The seeded default
// policy is refused with ErrDeleteDefaultPolicy.
func (s *PolicyStore) Delete(ctx context.Context, id int64, version int) error {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if cur.Default {
			return ErrDeleteDefaultPolicy
		}
		if version != 0 && version != cur.Version {
			return fmt.Errorf("SLA policy %d: %w", id, domain.ErrStale)
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `DELETE FROM sla_policies WHERE id = $1`, id); err != nil {
			return err
		}
		// The timers it leaves behind are moved by the SLA sweep
		// (internal/ticketsla) to the policy their ticket matches now.
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO sla_policies_removed (policy_id, removed_at) VALUES ($1, $2)
			ON CONFLICT (policy_id) DO NOTHING`, id, db.Now(s.clock.Now())); err != nil {
			return err
		}
		return s.audit.Record(ctx, "sla_policy.delete", "sla_policy", strconv.FormatInt(id, 10), map[string]audit.Change{
			"name": {Before: cur.Name}, "targets": {Before: targetsText(cur.Targets)},
		})
	})
	if err != nil {
		return fmt.Errorf("delete SLA policy %d: %w", id, err)
	}
	return nil
}

// Match returns the policy that applies to a ticket with facts f (see
// Match); ok is false when no active policy matches.
func (s *PolicyStore) Match(ctx context.Context, f TicketFacts) (Policy, bool, error) {
	ps, err := s.List(ctx)
	if err != nil {
		return Policy{}, false, err
	}
	p, ok := Match(ps, f)
	return p, ok, nil
}

// CalendarOf returns p's compiled calendar (CalendarTime for calendar time).
// A calendar deleted since p was saved is domain.ErrNotFound.
func (s *PolicyStore) CalendarOf(ctx context.Context, p Policy) (*Calendar, error) {
	if p.Calendar == "" {
		return CalendarTime(), nil
	}
	return s.calendars.Calendar(ctx, p.Calendar)
}

// Preview gives p's due times for a ticket with facts f created at start,
// on p's calendar, and that calendar.
func (s *PolicyStore) Preview(ctx context.Context, p Policy, f TicketFacts, start time.Time) ([]Due, *Calendar, error) {
	cal, err := s.CalendarOf(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	due, err := Preview(p, cal, f, start)
	return due, cal, err
}

// targetsText renders targets for the audit trail: "first_response 10m; …".
func targetsText(ts []Target) string {
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		p := t.Kind + " " + string(t.Duration)
		for _, o := range t.Overrides {
			p += " (" + strings.Trim(o.Severity+" "+o.Type, " ") + ": " + string(o.Duration) + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}
