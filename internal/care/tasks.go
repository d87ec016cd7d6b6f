package care

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/domain"
)

// Task states.
const (
	TaskOpen    = "open"
	TaskDone    = "done"
	TaskSkipped = "skipped"
)

// Task is a care task: one contact a plan owes one customer on one
// occasion. Channel is the suggested channel; Script is filled when the
// script is rendered for the customer (later work), ” until then.
type Task struct {
	ID           int64      `json:"id"`
	PlanID       int64      `json:"plan_id"`
	CustomerID   int64      `json:"customer_id"`
	OccasionKey  string     `json:"occasion_key"`
	OccasionDate string     `json:"occasion_date"`
	DueOn        string     `json:"due_on"`
	WindowEnd    string     `json:"window_end"`
	AssigneeID   *int64     `json:"assignee_id"`
	Channel      string     `json:"channel"`
	Script       string     `json:"script"`
	State        string     `json:"state"`
	DoneAt       *time.Time `json:"done_at"`
	Version      int        `json:"version"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// Due filters of the task list (open tasks only).
const (
	DueToday    = "today"    // due on or before today, window still open
	DueOverdue  = "overdue"  // window closed, still open
	DueUpcoming = "upcoming" // due after today (within the lead time)
)

// TaskFilter selects tasks. Scope, when not 0, limits the list to the
// tasks assigned to that user (an agent without care.plan sees their own).
type TaskFilter struct {
	AssigneeID int64
	Scope      int64
	Due        string
	PlanID     int64
	CustomerID int64
	Limit      int
	// After is the keyset cursor: the last task's due date and id.
	AfterDue string
	AfterID  int64
}

const taskColumns = `id, plan_id, customer_id, occasion_key, occasion_date, due_on, window_end, assignee_id, channel, script, state,
	done_at, version, created_at, updated_at`

func scanTask(sc interface{ Scan(...any) error }) (Task, error) {
	var t Task
	var assignee sql.NullInt64
	var done sql.NullTime
	err := sc.Scan(&t.ID, &t.PlanID, &t.CustomerID, &t.OccasionKey, &t.OccasionDate, &t.DueOn, &t.WindowEnd, &assignee,
		&t.Channel, &t.Script, &t.State, &done, &t.Version, &t.CreatedAt, &t.UpdatedAt)
	if assignee.Valid {
		t.AssigneeID = &assignee.Int64
	}
	if done.Valid {
		d := done.Time.UTC()
		t.DoneAt = &d
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

// Tasks lists tasks by due date then id (keyset: AfterDue, AfterID).
func (s *Store) Tasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Scope != 0 {
		conds = append(conds, "assignee_id = "+arg(f.Scope))
	}
	if f.AssigneeID != 0 {
		conds = append(conds, "assignee_id = "+arg(f.AssigneeID))
	}
	if f.PlanID != 0 {
		conds = append(conds, "plan_id = "+arg(f.PlanID))
	}
	if f.CustomerID != 0 {
		conds = append(conds, "customer_id = "+arg(f.CustomerID))
	}
	today := s.Today().String()
	switch f.Due {
	case "":
	case DueToday:
		conds = append(conds, "state = 'open'", "due_on <= "+arg(today), "window_end >= "+arg(today))
	case DueOverdue:
		conds = append(conds, "state = 'open'", "window_end < "+arg(today))
	case DueUpcoming:
		conds = append(conds, "state = 'open'", "due_on > "+arg(today))
	default:
		return nil, domain.Invalid("due", "validation.care_due", map[string]any{"Value": f.Due})
	}
	if f.AfterID != 0 {
		d := arg(f.AfterDue)
		conds = append(conds, "(due_on > "+d+" OR (due_on = "+d+" AND id > "+arg(f.AfterID)+"))")
	}
	q := `SELECT ` + taskColumns + ` FROM care_tasks`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY due_on, id LIMIT " + arg(f.Limit)
	rows, err := s.db.RQ(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list care tasks: %w", err)
	}
	defer rows.Close()
	out := []Task{}
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Task returns one task; scope, when not 0, hides the tasks of others
// (not found, as for tickets out of scope).
func (s *Store) Task(ctx context.Context, id, scope int64) (Task, error) {
	t, err := scanTask(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+taskColumns+` FROM care_tasks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || err == nil && scope != 0 && (t.AssigneeID == nil || *t.AssigneeID != scope) {
		return Task{}, fmt.Errorf("care task %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Task{}, fmt.Errorf("get care task: %w", err)
	}
	return t, nil
}
