package care

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/sla"
)

// RunReport says what a scheduler run did.
type RunReport struct {
	Day       sla.Date `json:"day"`
	Plans     int      `json:"plans"`
	Customers int      `json:"customers"`
	// Created counts the tasks this run inserted; a task another run made
	// first is not counted.
	Created  int           `json:"created"`
	Duration time.Duration `json:"duration_ns"`
}

// Candidate is a task a plan owes on a day (what a run inserts and a
// preview shows).
type Candidate struct {
	PlanID     int64 `json:"plan_id"`
	CustomerID int64 `json:"customer_id"`
	Occasion
	AssigneeID *int64 `json:"assignee_id"`
	Channel    string `json:"channel"`
}

// Today is the business day of the store's clock.
func (s *Store) Today() sla.Date { return sla.DateOf(s.clock.Now().In(s.zone)) }

// Run creates the tasks of every active plan for today. It is idempotent:
// however many runs overlap, each task is inserted once.
func (s *Store) Run(ctx context.Context) (RunReport, error) {
	return s.RunOn(ctx, s.Today())
}

// RunNow is Run asked for by someone (POST /api/v1/care/run): the same
// run, recorded in the audit trail with what it created. The hourly job
// is not audited; it is the system's own routine.
func (s *Store) RunNow(ctx context.Context) (RunReport, error) {
	rep, err := s.Run(ctx)
	if err != nil {
		return rep, err
	}
	err = s.audit.Record(ctx, "care.run", "care_run", rep.Day.String(), map[string]audit.Change{
		"created": {After: rep.Created}, "customers": {After: rep.Customers}})
	return rep, err
}

// RunOn creates the tasks of every active plan whose window is visible on
// day (tests and operators choose the day; the job uses Run).
func (s *Store) RunOn(ctx context.Context, day sla.Date) (RunReport, error) {
	start := time.Now()
	all, err := s.Plans(ctx)
	if err != nil {
		return RunReport{}, err
	}
	var plans []Plan
	for _, p := range all {
		if p.Active {
			plans = append(plans, p)
		}
	}
	rep := RunReport{Day: day, Plans: len(plans)}
	err = s.walk(ctx, plans, day, true, func(ctx context.Context, cs []Candidate) error {
		n, err := s.insert(ctx, cs)
		rep.Created += n
		return err
	}, &rep.Customers)
	rep.Duration = time.Since(start)
	return rep, err
}

// Preview is what a plan would create on a day, without creating it.
type Preview struct {
	PlanID int64       `json:"plan_id"`
	Day    sla.Date    `json:"day"`
	Count  int         `json:"count"`
	First  []Candidate `json:"first"`
}

// PreviewLimit is how many candidates a preview lists.
const PreviewLimit = 20

// Preview counts the tasks plan id would create on day (those that exist
// already excluded) and lists the first PreviewLimit, by customer. An
// inactive plan is previewed as if it were active.
func (s *Store) Preview(ctx context.Context, id int64, day sla.Date) (Preview, error) {
	p, err := s.Plan(ctx, id)
	if err != nil {
		return Preview{}, err
	}
	out := Preview{PlanID: id, Day: day, First: []Candidate{}}
	var seen int
	err = s.walk(ctx, []Plan{p}, day, false, func(_ context.Context, cs []Candidate) error {
		out.Count += len(cs)
		for _, c := range cs {
			if len(out.First) < PreviewLimit {
				out.First = append(out.First, c)
			}
		}
		return nil
	}, &seen)
	return out, err
}

// walk goes through the customers in batches (keyset by id, memory bounded
// by BatchSize) and hands each batch's new candidates to sink, in a write
// transaction of its own when write is set.
func (s *Store) walk(ctx context.Context, plans []Plan, day sla.Date, write bool,
	sink func(context.Context, []Candidate) error, scanned *int) error {
	if len(plans) == 0 {
		return nil
	}
	rules := customers.DefaultRules
	if s.cust != nil {
		r, err := s.cust.Rules(ctx)
		if err != nil {
			return err
		}
		rules = r
	}
	teams, err := s.teamMembers(ctx, plans)
	if err != nil {
		return err
	}
	need := needsOf(plans)
	var after int64
	for {
		batch, err := s.loadBatch(ctx, after, s.BatchSize, need)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		*scanned += len(batch)
		lo, hi := batch[0].ID, batch[len(batch)-1].ID
		after = hi
		have, err := s.existing(ctx, lo, hi, day)
		if err != nil {
			return err
		}
		var cs []Candidate
		for i := range batch {
			f := &batch[i]
			for pi := range plans {
				pl := &plans[pi]
				if !pl.selects(f, day, rules) {
					continue
				}
				for _, o := range pl.occasions(f, day) {
					if have[taskKey{pl.ID, f.ID, o.Key}] {
						continue
					}
					cs = append(cs, Candidate{PlanID: pl.ID, CustomerID: f.ID, Occasion: o,
						AssigneeID: pl.assignee(f, teams[pl.ID]), Channel: pl.channel(f)})
				}
			}
		}
		if len(cs) == 0 {
			continue
		}
		if !write {
			if err := sink(ctx, cs); err != nil {
				return err
			}
			continue
		}
		if err := s.db.WithTx(ctx, func(ctx context.Context) error { return sink(ctx, cs) }); err != nil {
			return err
		}
	}
}

// assignee follows the plan's rule: the owner (else the team in turn);
// the team's active members in turn, chosen by customer id so that every
// server picks the same person for the same task.
func (pl *Plan) assignee(f *facts, members []int64) *int64 {
	if pl.AssigneeRule == AssignOwner && f.OwnerID != 0 {
		id := f.OwnerID
		return &id
	}
	if len(members) == 0 {
		return nil
	}
	id := members[f.ID%int64(len(members))]
	return &id
}

func (pl *Plan) channel(f *facts) string {
	if pl.ChannelRule == ChannelPreference {
		return f.Preferred
	}
	return pl.ChannelRule
}

// teamMembers reads the active members of each plan's team, by user id.
func (s *Store) teamMembers(ctx context.Context, plans []Plan) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	for _, p := range plans {
		if p.TeamID == nil {
			continue
		}
		rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT tm.user_id FROM team_members tm JOIN users u ON u.id = tm.user_id
			WHERE tm.team_id = $1 AND u.active ORDER BY tm.user_id`, *p.TeamID)
		if err != nil {
			return nil, fmt.Errorf("care team members: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[p.ID] = append(out[p.ID], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// insertChunk keeps a statement's parameters well under SQLite's limit.
const insertChunk = 500

// insert writes the candidates with ON CONFLICT DO NOTHING and counts the
// rows it inserted.
func (s *Store) insert(ctx context.Context, cs []Candidate) (int, error) {
	if s.db.Dialect == db.Postgres {
		return s.insertArrays(ctx, cs)
	}
	now := db.Now(s.clock.Now())
	total := 0
	for start := 0; start < len(cs); start += insertChunk {
		part := cs[start:min(start+insertChunk, len(cs))]
		var b strings.Builder
		b.WriteString(`INSERT INTO care_tasks (plan_id, customer_id, occasion_key, occasion_date, due_on, window_end, assignee_id,
			channel, created_at, updated_at) VALUES `)
		args := make([]any, 0, len(part)*10)
		for i, c := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			// "?" rather than "$n": the driver looks a numbered parameter's
			// name up in a list as long as the statement's, which made
			// binding a 500-row statement quadratic (half a run's CPU).
			b.WriteString("(?,?,?,?,?,?,?,?,?,?)")
			args = append(args, c.PlanID, c.CustomerID, c.Key, c.Date.String(), c.Due.String(), c.WindowEnd.String(), c.AssigneeID,
				c.Channel, now, now)
		}
		b.WriteString(` ON CONFLICT (plan_id, customer_id, occasion_key) DO NOTHING`)
		res, err := s.db.Q(ctx).ExecContext(ctx, b.String(), args...)
		if err != nil {
			return total, fmt.Errorf("insert care tasks: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// insertArrays is PostgreSQL's insert: the batch as one array per column,
// unnested by one statement of fixed text (prepared once per connection),
// instead of thousands of parameters parsed anew for every statement.
func (s *Store) insertArrays(ctx context.Context, cs []Candidate) (int, error) {
	plans, custs, assignees := make([]int64, len(cs)), make([]int64, len(cs)), make([]*int64, len(cs))
	keys, dates, dues, ends, chans := make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs))
	for i, c := range cs {
		plans[i], custs[i], assignees[i] = c.PlanID, c.CustomerID, c.AssigneeID
		keys[i], dates[i], dues[i], ends[i], chans[i] = c.Key, c.Date.String(), c.Due.String(), c.WindowEnd.String(), c.Channel
	}
	res, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO care_tasks (plan_id, customer_id, occasion_key, occasion_date, due_on,
		window_end, assignee_id, channel, created_at, updated_at)
		SELECT p, c, k, od, du, we, a, ch, $9, $9
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
			AS t(p, c, k, od, du, we, a, ch)
		ON CONFLICT (plan_id, customer_id, occasion_key) DO NOTHING`,
		plans, custs, keys, dates, dues, ends, assignees, chans, db.Now(s.clock.Now()))
	if err != nil {
		return 0, fmt.Errorf("insert care tasks: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
