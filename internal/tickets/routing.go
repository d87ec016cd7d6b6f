package tickets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Strategies choose the person inside the rule's team.
var Strategies = []string{"round_robin", "least_load", "skill", "queue"}

// CustomerTiers a rule can match (the customers package's tiers).
var CustomerTiers = []string{"vip", "normal", "potential"}

// Rule sends matching tickets to a team. Empty condition lists match
// anything; a category matches itself and every category under it.
type Rule struct {
	ID         int64     `json:"id"`
	Position   int       `json:"position"`
	Name       string    `json:"name"`
	Active     bool      `json:"active"`
	Types      []string  `json:"types"`
	Categories []int64   `json:"categories"`
	Channels   []string  `json:"channels"`
	Severities []string  `json:"severities"`
	Tiers      []string  `json:"tiers"`
	TeamID     int64     `json:"team_id"`
	Strategy   string    `json:"strategy"`
	Skill      string    `json:"skill"`
	Version    int       `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// facts are what routing looks at.
type facts struct {
	Type, Channel, Severity, Tier string
	Categories                    []int64 // the ticket's category and its ancestors
	ManagerID                     *int64  // the customer's dedicated account manager
	// Team is the team the ticket's source names (a mailbox's team,
	// CreateByMail), ahead of the rules.
	Team *int64
}

func (r Rule) matches(f facts) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	if !r.Active || !in(r.Types, f.Type) || !in(r.Channels, f.Channel) || !in(r.Severities, f.Severity) || !in(r.Tiers, f.Tier) {
		return false
	}
	if len(r.Categories) == 0 {
		return true
	}
	for _, c := range f.Categories {
		if slices.Contains(r.Categories, c) {
			return true
		}
	}
	return false
}

// Decision is where routing sent a ticket, and why (the event says so).
type Decision struct {
	TeamID  *int64
	OwnerID *int64
	RuleID  int64
	Reason  string // vip_manager, mailbox, rule, fallback_team, creator, admin
}

// route decides a new ticket's owner inside the creating transaction.
func (s *Store) route(ctx context.Context, f facts, creator int64) (Decision, error) {
	q := s.db.Q(ctx)
	rules, err := s.activeRules(ctx)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	if f.Team != nil {
		var one int
		if err := q.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = $1`, *f.Team).Scan(&one); err == nil {
			d = Decision{TeamID: f.Team, Reason: "mailbox"}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return Decision{}, err
		}
	}
	for _, r := range rules {
		if d.TeamID != nil {
			break
		}
		if r.matches(f) {
			team := r.TeamID
			d = Decision{TeamID: &team, RuleID: r.ID, Reason: "rule"}
			break
		}
	}
	if f.Tier == "vip" && f.ManagerID != nil {
		if ok, err := s.onDuty(ctx, *f.ManagerID); err != nil {
			return Decision{}, err
		} else if ok {
			d.OwnerID, d.Reason = f.ManagerID, "vip_manager"
			if d.TeamID == nil {
				d.TeamID, err = s.firstTeamOf(ctx, *f.ManagerID)
				if err != nil {
					return Decision{}, err
				}
			}
			return d, nil
		}
	}
	if d.TeamID == nil {
		// No rule matched: the fallback team of the settings takes it
		// (else the team created first), so that nothing is left
		// without an owner.
		var team int64
		err := q.QueryRowContext(ctx, `SELECT id FROM teams ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END, id LIMIT 1`,
			s.currentSettings(ctx).FallbackTeamID).Scan(&team)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return s.routeWithoutTeams(ctx, creator)
		case err != nil:
			return Decision{}, err
		}
		d = Decision{TeamID: &team, Reason: "fallback_team"}
	}
	strategy, skill := "least_load", ""
	for _, r := range rules {
		if r.ID == d.RuleID {
			strategy, skill = r.Strategy, r.Skill
		}
	}
	owner, err := s.pick(ctx, *d.TeamID, strategy, skill)
	if err != nil {
		return Decision{}, err
	}
	d.OwnerID = owner
	return d, nil
}

// routeWithoutTeams gives the ticket to its creator, or to the first active
// administrator when the system creates it, before any team exists.
func (s *Store) routeWithoutTeams(ctx context.Context, creator int64) (Decision, error) {
	if creator != 0 {
		return Decision{OwnerID: &creator, Reason: "creator"}, nil
	}
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id
		JOIN roles r ON r.id = ur.role_id WHERE u.active AND r.key = 'admin' ORDER BY u.id LIMIT 1`).Scan(&id)
	if err != nil {
		return Decision{}, fmt.Errorf("route: no team and no administrator: %w", err)
	}
	return Decision{OwnerID: &id, Reason: "admin"}, nil
}

func (s *Store) onDuty(ctx context.Context, user int64) (bool, error) {
	var ok bool
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT u.active AND COALESCE(p.on_duty, TRUE) FROM users u
		LEFT JOIN staff_presence p ON p.user_id = u.id WHERE u.id = $1`, user).Scan(&ok)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return ok, err
}

func (s *Store) firstTeamOf(ctx context.Context, user int64) (*int64, error) {
	var team int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id LIMIT 1`, user).Scan(&team)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &team, nil
}

// candidates are the team's active members on duty, by id.
const candidatesSQL = `SELECT m.user_id FROM team_members m JOIN users u ON u.id = m.user_id
	LEFT JOIN staff_presence p ON p.user_id = m.user_id
	WHERE m.team_id = $1 AND u.active AND COALESCE(p.on_duty, TRUE)`

// pick chooses the owner inside a team; nil leaves the ticket with the team
// (strategy queue, or nobody on duty).
func (s *Store) pick(ctx context.Context, team int64, strategy, skill string) (*int64, error) {
	q := s.db.Q(ctx)
	var id int64
	var err error
	switch strategy {
	case "queue":
		return nil, nil
	case "round_robin":
		if s.db.Counters != nil {
			return s.pickRoundRobinPG(ctx, team)
		}
		// The cursor row is created if need be, then read and moved in
		// the transaction (SQLite has one writer: creators take turns).
		if _, err := q.ExecContext(ctx, `INSERT INTO ticket_routing_cursor (team_id, last_user_id) VALUES ($1, 0)
			ON CONFLICT (team_id) DO NOTHING`, team); err != nil {
			return nil, err
		}
		var last int64
		if err := q.QueryRowContext(ctx, `SELECT last_user_id FROM ticket_routing_cursor WHERE team_id = $1`, team).Scan(&last); err != nil {
			return nil, err
		}
		err = q.QueryRowContext(ctx, `WITH c AS (`+candidatesSQL+`)
			SELECT COALESCE((SELECT MIN(user_id) FROM c WHERE user_id > $2), (SELECT MIN(user_id) FROM c), 0)`, team, last).Scan(&id)
		if err == nil && id != 0 {
			_, err = q.ExecContext(ctx, `UPDATE ticket_routing_cursor SET last_user_id = $1 WHERE team_id = $2`, id, team)
		}
	case "skill":
		err = q.QueryRowContext(ctx, leastLoadSQL(`AND EXISTS (SELECT 1 FROM staff_skills k WHERE k.user_id = m.user_id AND k.skill = $2)`), team, skill).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			err = q.QueryRowContext(ctx, leastLoadSQL(""), team).Scan(&id)
		}
	default:
		err = q.QueryRowContext(ctx, leastLoadSQL(""), team).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && id == 0) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("route in team %d: %w", team, err)
	}
	return &id, nil
}

// pickRoundRobinPG moves the team's cursor to the next person in one
// statement of its own (db.Counters), so that the cursor's row is locked
// for that statement only, not until the ticket's transaction commits:
// concurrent creators still take turns, without queueing behind each
// other's commits. A creation that then fails has used up a turn.
func (s *Store) pickRoundRobinPG(ctx context.Context, team int64) (*int64, error) {
	step := `WITH c AS (` + candidatesSQL + `)
		UPDATE ticket_routing_cursor r SET last_user_id = COALESCE((SELECT MIN(user_id) FROM c WHERE user_id > r.last_user_id),
			(SELECT MIN(user_id) FROM c), 0) WHERE r.team_id = $1 RETURNING r.last_user_id`
	var id int64
	err := s.db.Counters.QueryRowContext(ctx, step, team).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.db.Counters.ExecContext(ctx, `INSERT INTO ticket_routing_cursor (team_id, last_user_id) VALUES ($1, 0)
			ON CONFLICT (team_id) DO NOTHING`, team); err != nil {
			return nil, err
		}
		err = s.db.Counters.QueryRowContext(ctx, step, team).Scan(&id)
	}
	if err != nil {
		return nil, fmt.Errorf("route in team %d: %w", team, err)
	}
	if id == 0 {
		return nil, nil // nobody on duty: the team's queue
	}
	return &id, nil
}

// leastLoadSQL picks the candidate with the fewest open tickets (ties: the
// lowest id). The counts are staff_open_load's, which the database keeps
// with every ticket write (migration 00016): a few rows per candidate,
// however long the backlog.
func leastLoadSQL(extra string) string {
	return `SELECT m.user_id FROM team_members m JOIN users u ON u.id = m.user_id
		LEFT JOIN staff_presence p ON p.user_id = m.user_id
		WHERE m.team_id = $1 AND u.active AND COALESCE(p.on_duty, TRUE) ` + extra + `
		ORDER BY COALESCE((SELECT SUM(l.open_tickets) FROM staff_open_load l WHERE l.user_id = m.user_id), 0), m.user_id LIMIT 1`
}

// rules returns the routing rules in priority order.
func (s *Store) rules(ctx context.Context, activeOnly bool) ([]Rule, error) {
	query := `SELECT id, position, name, active, types, categories, channels, severities, tiers, team_id, strategy, skill,
		version, created_at, updated_at FROM ticket_routing_rules`
	if activeOnly {
		query += ` WHERE active`
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, query+` ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("routing rules: %w", err)
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		var types, cats, chans, sevs, tiers string
		if err := rows.Scan(&r.ID, &r.Position, &r.Name, &r.Active, &types, &cats, &chans, &sevs, &tiers, &r.TeamID,
			&r.Strategy, &r.Skill, &r.Version, &r.CreatedAt, &r.UpdatedAt); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(types), &r.Types)
		_ = json.Unmarshal([]byte(cats), &r.Categories)
		_ = json.Unmarshal([]byte(chans), &r.Channels)
		_ = json.Unmarshal([]byte(sevs), &r.Severities)
		_ = json.Unmarshal([]byte(tiers), &r.Tiers)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Rules lists every routing rule, inactive ones too, in priority order.
func (s *Store) Rules(ctx context.Context) ([]Rule, error) { return s.rules(ctx, false) }

func (r *Rule) check(ctx context.Context, s *Store) error {
	var v domain.ValidationError
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		v.Add("name", "validation.required", nil)
	}
	checkLen(&v, "name", r.Name, 60)
	subset := func(field string, list []string, values []string) []string {
		if list == nil {
			return []string{}
		}
		for _, x := range list {
			if !slices.Contains(values, x) {
				v.Add(field, "validation.one_of", map[string]any{"Values": strings.Join(values, ", ")})
				break
			}
		}
		return list
	}
	r.Types = subset("types", r.Types, Types)
	r.Channels = subset("channels", r.Channels, Channels)
	r.Severities = subset("severities", r.Severities, Severities)
	r.Tiers = subset("tiers", r.Tiers, CustomerTiers)
	if r.Categories == nil {
		r.Categories = []int64{}
	}
	for _, c := range r.Categories {
		if _, err := s.Category(ctx, c); err != nil {
			v.Add("categories", "validation.unknown_category", map[string]any{"Value": c})
			break
		}
	}
	if r.Strategy == "" {
		r.Strategy = "least_load"
	}
	checkOneOf(&v, "strategy", r.Strategy, Strategies)
	r.Skill = strings.TrimSpace(r.Skill)
	if r.Strategy == "skill" && r.Skill == "" {
		v.Add("skill", "validation.required", nil)
	}
	checkLen(&v, "skill", r.Skill, 30)
	var one int
	if err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = $1`, r.TeamID).Scan(&one); err != nil {
		v.Add("team_id", "validation.unknown_team", nil)
	}
	return v.Err()
}

// CreateRule adds a routing rule; Position 0 puts it last.
func (s *Store) CreateRule(ctx context.Context, r Rule) (Rule, error) {
	if err := r.check(ctx, s); err != nil {
		return Rule{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		if r.Position <= 0 {
			if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 10 FROM ticket_routing_rules`).Scan(&r.Position); err != nil {
				return err
			}
		}
		now := db.Now(s.clock.Now())
		if err := q.QueryRowContext(ctx, `INSERT INTO ticket_routing_rules (position, name, active, types, categories, channels,
			severities, tiers, team_id, strategy, skill, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
			RETURNING id`, r.Position, r.Name, r.Active, jsonText(r.Types), jsonText(r.Categories), jsonText(r.Channels),
			jsonText(r.Severities), jsonText(r.Tiers), r.TeamID, r.Strategy, r.Skill, now).Scan(&r.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, "routing_rule.create", "routing_rule", fmt.Sprint(r.ID), map[string]audit.Change{
			"name": {After: r.Name}, "team_id": {After: r.TeamID}, "strategy": {After: r.Strategy}, "position": {After: r.Position}})
	})
	if err != nil {
		return Rule{}, fmt.Errorf("create routing rule: %w", err)
	}
	s.forgetRules()
	return s.Rule(ctx, r.ID)
}

// Rule returns one routing rule.
func (s *Store) Rule(ctx context.Context, id int64) (Rule, error) {
	rules, err := s.rules(ctx, false)
	if err != nil {
		return Rule{}, err
	}
	for _, r := range rules {
		if r.ID == id {
			return r, nil
		}
	}
	return Rule{}, fmt.Errorf("routing rule %d: %w", id, domain.ErrNotFound)
}

// UpdateRule replaces a rule's conditions, team, strategy, position and
// state, if version still matches.
func (s *Store) UpdateRule(ctx context.Context, r Rule, version int) (Rule, error) {
	before, err := s.Rule(ctx, r.ID)
	if err != nil {
		return Rule{}, err
	}
	if r.Position <= 0 {
		r.Position = before.Position
	}
	if err := r.check(ctx, s); err != nil {
		return Rule{}, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE ticket_routing_rules SET position = $1, name = $2, active = $3, types = $4,
			categories = $5, channels = $6, severities = $7, tiers = $8, team_id = $9, strategy = $10, skill = $11,
			version = version + 1, updated_at = $12 WHERE id = $13 AND version = $14`,
			r.Position, r.Name, r.Active, jsonText(r.Types), jsonText(r.Categories), jsonText(r.Channels), jsonText(r.Severities),
			jsonText(r.Tiers), r.TeamID, r.Strategy, r.Skill, db.Now(s.clock.Now()), r.ID, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("routing rule %d: %w", r.ID, domain.ErrStale)
		}
		return s.audit.Record(ctx, "routing_rule.update", "routing_rule", fmt.Sprint(r.ID), audit.Diff(
			map[string]any{"name": before.Name, "active": before.Active, "team_id": before.TeamID, "strategy": before.Strategy,
				"position": before.Position, "conditions": conditions(before)},
			map[string]any{"name": r.Name, "active": r.Active, "team_id": r.TeamID, "strategy": r.Strategy,
				"position": r.Position, "conditions": conditions(r)}))
	})
	if err != nil {
		return Rule{}, fmt.Errorf("update routing rule: %w", err)
	}
	s.forgetRules()
	return s.Rule(ctx, r.ID)
}

func conditions(r Rule) string {
	return jsonText(map[string]any{"types": r.Types, "categories": r.Categories, "channels": r.Channels,
		"severities": r.Severities, "tiers": r.Tiers, "skill": r.Skill})
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
