package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// ListFilter selects outbox rows for administrators.
type ListFilter struct {
	State   string // one of States, or "" for all
	Channel string
	Before  int64 // keyset: rows with id < Before (0: the newest)
	Limit   int   // at most 200 (50)
}

// List returns rows newest first.
func (o *Outbox) List(ctx context.Context, f ListFilter) ([]Message, error) {
	if f.State != "" && !slices.Contains(States, f.State) {
		return nil, domain.Invalid("state", "validation.one_of", map[string]any{"Values": fmt.Sprint(States)})
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := `SELECT ` + messageColumns + ` FROM outbox WHERE ($1 = '' OR state = $1) AND ($2 = '' OR channel = $2) AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`
	rows, err := o.db.RQ(ctx).QueryContext(ctx, q, f.State, f.Channel, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("outbox list: %w", err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Get returns one row.
func (o *Outbox) Get(ctx context.Context, id int64) (Message, error) {
	m, err := scanMessage(o.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+messageColumns+` FROM outbox WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, domain.ErrNotFound
	}
	return m, err
}

// Counts returns how many rows are in each state.
func (o *Outbox) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := o.db.RQ(ctx).QueryContext(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for _, s := range States {
		out[s] = 0
	}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// Retry puts a dead (or suppressed) row back in the queue, due now, with
// its attempts counted afresh; audited.
func (o *Outbox) Retry(ctx context.Context, id int64) (Message, error) {
	now := db.Now(o.clock.Now())
	err := o.db.WithTx(ctx, func(ctx context.Context) error {
		m, err := o.Get(ctx, id)
		if err != nil {
			return err
		}
		if m.State != StateDead && m.State != StateSuppressed {
			return domain.Conflict("conflict.outbox_not_dead", map[string]any{"State": m.State}, map[string]any{"state": m.State})
		}
		if _, err := o.db.Q(ctx).ExecContext(ctx, `UPDATE outbox SET state = 'queued', attempts = 0, next_at = $1 WHERE id = $2`, now, id); err != nil {
			return err
		}
		return o.audit.Record(ctx, "outbox.retry", "outbox", fmt.Sprint(id),
			map[string]audit.Change{"state": {Before: m.State, After: StateQueued}, "last_error": {Before: m.LastError, After: ""}})
	})
	if err != nil {
		return Message{}, err
	}
	o.Nudge()
	return o.Get(ctx, id)
}
