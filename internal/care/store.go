package care

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Deps are what the care store uses.
type Deps struct {
	DB        *db.DB
	Clock     clock.Clock
	Audit     *audit.Log
	Customers *customers.Store
	// Zone is the business time zone the days are counted in (nil:
	// customers.BusinessZone).
	Zone *time.Location
}

// Store keeps care plans and tasks and runs the scheduler.
type Store struct {
	db    *db.DB
	clock clock.Clock
	audit *audit.Log
	cust  *customers.Store
	zone  *time.Location
	voc   Vocabulary
	// BatchSize is how many customers one scheduler transaction covers.
	BatchSize int
}

// New returns the care store.
func New(d Deps) *Store {
	z := d.Zone
	if z == nil {
		z = customers.BusinessZone
	}
	return &Store{db: d.DB, clock: d.Clock, audit: d.Audit, cust: d.Customers, zone: z, BatchSize: 5000,
		voc: Vocabulary{Types: []string{customers.TypeIndividual, customers.TypeOrganization}, Tiers: customers.Tiers,
			Stages: customers.Stages, Channels: customers.Channels}}
}

const planColumns = `id, key, name, kind, params, lead_days, window_start, window_end, target, assignee_rule, team_id,
	channel_rule, script, active, version, created_at, updated_at`

func scanPlan(sc interface{ Scan(...any) error }) (Plan, error) {
	var p Plan
	var params, target string
	var team sql.NullInt64
	err := sc.Scan(&p.ID, &p.Key, &p.Name, &p.Kind, &params, &p.LeadDays, &p.WindowStart, &p.WindowEnd, &target,
		&p.AssigneeRule, &team, &p.ChannelRule, &p.Script, &p.Active, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return Plan{}, err
	}
	if team.Valid {
		p.TeamID = &team.Int64
	}
	if err := json.Unmarshal([]byte(params), &p.Params); err != nil {
		return Plan{}, fmt.Errorf("plan %d params: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(target), &p.Target); err != nil {
		return Plan{}, fmt.Errorf("plan %d target: %w", p.ID, err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, nil
}

// Plans lists every plan by id.
func (s *Store) Plans(ctx context.Context) ([]Plan, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+planColumns+` FROM care_plans ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list care plans: %w", err)
	}
	defer rows.Close()
	out := []Plan{}
	for rows.Next() {
		p, err := scanPlan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Plan returns one plan.
func (s *Store) Plan(ctx context.Context, id int64) (Plan, error) {
	p, err := scanPlan(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+planColumns+` FROM care_plans WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Plan{}, fmt.Errorf("care plan %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Plan{}, fmt.Errorf("get care plan: %w", err)
	}
	return p, nil
}

// CreatePlan adds a plan; omitted rules take their defaults (owner,
// preference). Active is as given: a new plan may be previewed before it
// makes tasks.
func (s *Store) CreatePlan(ctx context.Context, p Plan) (Plan, error) {
	p.ID, p.Key, p.Version = 0, "", 1
	if p.AssigneeRule == "" {
		p.AssigneeRule = AssignOwner
	}
	if p.ChannelRule == "" {
		p.ChannelRule = ChannelPreference
	}
	if err := p.Validate(s.voc); err != nil {
		return Plan{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.checkTeam(ctx, p.TeamID); err != nil {
			return err
		}
		if err := s.insertPlan(ctx, &p, db.Now(s.clock.Now()), false); err != nil {
			return err
		}
		return s.audit.Record(ctx, "care_plan.create", "care_plan", fmt.Sprint(p.ID), planChanges(Plan{}, p))
	})
	if err != nil {
		return Plan{}, fmt.Errorf("create care plan: %w", err)
	}
	return s.Plan(ctx, p.ID)
}

// insertPlan writes p; seeding (ifMissing) skips a key already there.
func (s *Store) insertPlan(ctx context.Context, p *Plan, now time.Time, ifMissing bool) error {
	params, _ := json.Marshal(p.Params)
	target, _ := json.Marshal(p.Target)
	q := `INSERT INTO care_plans (key, name, kind, params, lead_days, window_start, window_end, target, assignee_rule, team_id,
		channel_rule, script, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`
	if ifMissing {
		_, err := s.db.Q(ctx).ExecContext(ctx, q+` ON CONFLICT (key) WHERE key <> '' DO NOTHING`, p.Key, p.Name, p.Kind, string(params),
			p.LeadDays, p.WindowStart, p.WindowEnd, string(target), p.AssigneeRule, p.TeamID, p.ChannelRule, p.Script, p.Active, now)
		return err
	}
	return s.db.Q(ctx).QueryRowContext(ctx, q+` RETURNING id`, p.Key, p.Name, p.Kind, string(params),
		p.LeadDays, p.WindowStart, p.WindowEnd, string(target), p.AssigneeRule, p.TeamID, p.ChannelRule, p.Script, p.Active, now).Scan(&p.ID)
}

// PatchPlan changes the fields named. version must match (0: any).
// Existing tasks keep what they were made with; the next run uses the new
// plan for occasions that have no task yet (docs/care.md).
func (s *Store) PatchPlan(ctx context.Context, id int64, patch PlanPatch, version int) (Plan, error) {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		before, err := s.Plan(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && version != before.Version {
			return fmt.Errorf("care plan %d: %w", id, domain.ErrStale)
		}
		after := before
		patch.apply(&after)
		if err := after.Validate(s.voc); err != nil {
			return err
		}
		if err := s.checkTeam(ctx, after.TeamID); err != nil {
			return err
		}
		params, _ := json.Marshal(after.Params)
		target, _ := json.Marshal(after.Target)
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE care_plans SET name = $1, kind = $2, params = $3, lead_days = $4, window_start = $5,
			window_end = $6, target = $7, assignee_rule = $8, team_id = $9, channel_rule = $10, script = $11, active = $12,
			version = version + 1, updated_at = $13 WHERE id = $14 AND version = $15`,
			after.Name, after.Kind, string(params), after.LeadDays, after.WindowStart, after.WindowEnd, string(target),
			after.AssigneeRule, after.TeamID, after.ChannelRule, after.Script, after.Active, db.Now(s.clock.Now()), id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("care plan %d: %w", id, domain.ErrStale)
		}
		return s.audit.Record(ctx, "care_plan.update", "care_plan", fmt.Sprint(id), planChanges(before, after))
	})
	if err != nil {
		return Plan{}, fmt.Errorf("update care plan: %w", err)
	}
	return s.Plan(ctx, id)
}

func (s *Store) checkTeam(ctx context.Context, id *int64) error {
	if id == nil {
		return nil
	}
	var n int
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM teams WHERE id = $1`, *id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return domain.Invalid("team_id", "validation.unknown_team", map[string]any{"Value": *id})
	}
	return nil
}

func planChanges(b, a Plan) map[string]audit.Change {
	view := func(p Plan) map[string]any {
		params, _ := json.Marshal(p.Params)
		target, _ := json.Marshal(p.Target)
		team := int64(0)
		if p.TeamID != nil {
			team = *p.TeamID
		}
		return map[string]any{"name": p.Name, "kind": p.Kind, "params": string(params), "lead_days": p.LeadDays,
			"window_start": p.WindowStart, "window_end": p.WindowEnd, "target": string(target), "assignee_rule": p.AssigneeRule,
			"team_id": team, "channel_rule": p.ChannelRule, "script": p.Script, "active": p.Active}
	}
	if b.Kind == "" {
		return audit.Diff(map[string]any{}, view(a))
	}
	return audit.Diff(view(b), view(a))
}
