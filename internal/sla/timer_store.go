package sla

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
)

// TimerStore keeps SLA timers in the database (table sla_timers: one row per
// ticket, target and cycle, the Timer as JSON plus copies of its state, due
// and warning times for the sweeps' partial indexes) and the claims of
// warnings and escalation steps (table sla_escalations). It is safe for
// concurrent use, by several servers on one PostgreSQL too: the unique keys
// make a timer exist once and each step be claimed once.
type TimerStore struct {
	db    *db.DB
	clock clock.Clock
}

// NewTimerStore returns a TimerStore over d.
func NewTimerStore(d *db.DB, c clock.Clock) *TimerStore {
	return &TimerStore{db: d, clock: c}
}

// StoredTimer is a timer row.
type StoredTimer struct {
	ID       int64
	TicketID int64
	Target   string
	Cycle    int
	// CalendarID is the calendar the timer was last computed on (0 when
	// its name is not a stored calendar); PolicyID 0 means none.
	CalendarID int64
	PolicyID   int64
	// Warned: the warning sweep has handled the timer's warning.
	Warned    bool
	UpdatedAt time.Time
	Timer     Timer
}

// ErrTimerKey: a timer is saved without a ticket, target or positive cycle.
var ErrTimerKey = errors.New("sla: a stored timer needs a ticket, a target and a cycle ≥ 1")

const timerCols = `id, ticket_id, target, cycle, calendar_id, policy_id, warned, updated_at, data`

// The sweeps' statements: the states are literals so that the partial
// indexes sla_timers_due and sla_timers_warn match every plan, generic ones
// included.
const (
	dueQuery = `SELECT ` + timerCols + ` FROM sla_timers
		WHERE state = 'running' AND due_at <= $1 ORDER BY due_at, id LIMIT $2`
	warnQuery = `SELECT ` + timerCols + ` FROM sla_timers
		WHERE state = 'running' AND warned = FALSE AND warn_at <= $1 ORDER BY warn_at, id LIMIT $2`
)

// Save inserts or updates the timer of (ticketID, target, cycle) in ctx's
// transaction, if any: saving the same key again updates the one row, also
// when two servers save it at once. The row's calendar is the stored
// calendar named t.Calendar; policyID 0 stores none. The warned flag is
// kept on update (a warning once handled is not handled again; a new cycle
// is a new row). It returns the row's id.
func (s *TimerStore) Save(ctx context.Context, ticketID int64, target string, cycle int, policyID int64, t Timer) (int64, error) {
	if ticketID <= 0 || target == "" || cycle < 1 {
		return 0, ErrTimerKey
	}
	data, err := json.Marshal(t)
	if err != nil {
		return 0, fmt.Errorf("save timer: %w", err)
	}
	due, warn := timerTimes(&t)
	var id int64
	err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO sla_timers
		(ticket_id, target, cycle, state, due_at, warn_at, calendar_id, policy_id, data, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, (SELECT id FROM calendars WHERE name = $7), $8, $9, $10)
		ON CONFLICT (ticket_id, target, cycle) DO UPDATE SET state = excluded.state, due_at = excluded.due_at,
			warn_at = excluded.warn_at, calendar_id = excluded.calendar_id, policy_id = excluded.policy_id,
			data = excluded.data, updated_at = excluded.updated_at
		RETURNING id`,
		ticketID, target, cycle, string(t.State), due, warn, t.Calendar, nullID(policyID), string(data), db.Now(s.clock.Now())).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("save timer %d/%s/%d: %w", ticketID, target, cycle, err)
	}
	return id, nil
}

// timerTimes are the due_at and warn_at columns of t: its due time while it
// runs or has breached (NULL while paused, met or cancelled) and its warning
// time while it runs.
func timerTimes(t *Timer) (due, warn any) {
	if d, ok := t.DueAt(); ok {
		due = db.Now(d)
	}
	if t.State == TimerRunning && !t.WarnAt.IsZero() {
		warn = db.Now(t.WarnAt)
	}
	return due, warn
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// ForTicket returns the ticket's timers by target and cycle.
func (s *TimerStore) ForTicket(ctx context.Context, ticketID int64) ([]StoredTimer, error) {
	return s.query(ctx, s.db.RQ(ctx), `SELECT `+timerCols+` FROM sla_timers WHERE ticket_id = $1 ORDER BY target, cycle`, ticketID)
}

// Due returns up to limit running timers due at or before now+window,
// soonest first (index sla_timers_due; the state is a literal so that the
// partial index matches every plan).
func (s *TimerStore) Due(ctx context.Context, now time.Time, window time.Duration, limit int) ([]StoredTimer, error) {
	return s.query(ctx, s.db.ShapedQ(ctx), dueQuery, db.Now(now.Add(window)), limit)
}

// Warnings returns up to limit running timers whose warning time has come
// (at or before now) and whose warning is not yet handled, earliest first
// (index sla_timers_warn). The sweep claims step 0 and calls MarkWarned.
func (s *TimerStore) Warnings(ctx context.Context, now time.Time, limit int) ([]StoredTimer, error) {
	return s.query(ctx, s.db.ShapedQ(ctx), warnQuery, db.Now(now), limit)
}

// MarkWarned takes the timer out of the warning sweep, in ctx's transaction.
func (s *TimerStore) MarkWarned(ctx context.Context, id int64) error {
	if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE sla_timers SET warned = TRUE WHERE id = $1`, id); err != nil {
		return fmt.Errorf("mark timer %d warned: %w", id, err)
	}
	return nil
}

// ClaimStep claims step of the timer's cycle (0 = the warning, 1… the
// escalation steps) for claimedBy (a server's name), in ctx's transaction:
// true for the one caller whose row lands, false for every other, on any
// number of servers — the primary key of sla_escalations decides. The
// caller sends the step only on true (and, in the same transaction,
// enqueues it in the outbox, so that a rollback frees the claim).
func (s *TimerStore) ClaimStep(ctx context.Context, ticketID int64, target string, cycle, step int, claimedBy string) (bool, error) {
	res, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO sla_escalations (ticket_id, target, cycle, step, claimed_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, ticketID, target, cycle, step, claimedBy, db.Now(s.clock.Now()))
	if err != nil {
		return false, fmt.Errorf("claim step %d of %d/%s/%d: %w", step, ticketID, target, cycle, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim step: %w", err)
	}
	return n == 1, nil
}

// RecomputeReason is the history's reason of RecomputeAll.
const RecomputeReason = "calendar changed"

// RecomputeAll recomputes every open (running, paused or breached) timer
// computed on calendar calendarID with cal, its new form, at the clock's
// now, batch timers at a time (keyset by id, index sla_timers_calendar).
// Each batch is its own transaction, so requests wait at most one batch for
// the write lock; a timer saved between batches is read at its newest. A
// running or breached timer whose recompute changes nothing (state, due and
// warning times, paused time) is left as stored, without a history entry: a
// holiday after its due time does not concern it. A paused timer is always
// written, its history saying that the calendar its due time will be
// computed on when it resumes has changed. A timer that cannot be
// recomputed (its calendar has no working time left) stops the run with
// the error; the batches before it stay done. It returns how many timers it
// recomputed, those left unchanged included.
func (s *TimerStore) RecomputeAll(ctx context.Context, calendarID int64, cal *Calendar, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	after, total := int64(0), 0
	var w timerWrites
	var rows []recomputeRow
	for {
		n := 0
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			now := s.clock.Now()
			var err error
			rows, err = s.readRows(ctx, rows[:0], `WHERE calendar_id = $1 AND state IN ('running', 'paused', 'breached') AND id > $2
				ORDER BY id LIMIT $3`, calendarID, after, batch)
			if err != nil {
				return err
			}
			n = len(rows)
			if n > 0 {
				after = rows[n-1].ID
			}
			missed, err := s.recomputeRows(ctx, rows, cal, now, &w)
			if len(missed) == 0 || err != nil {
				return err
			}
			// Saved since they were read: again, locked this time (and
			// only if still open on this calendar).
			rows, err = s.readRows(ctx, rows[:0], `WHERE id = ANY($1) AND calendar_id = $2 AND state IN ('running', 'paused', 'breached')
				FOR UPDATE`, missed, calendarID)
			if err != nil {
				return err
			}
			if missed, err = s.recomputeRows(ctx, rows, cal, now, &w); err == nil && len(missed) > 0 {
				err = fmt.Errorf("timers %v changed while locked", missed)
			}
			return err
		})
		if err != nil {
			return total, fmt.Errorf("recompute timers of calendar %d: %w", calendarID, err)
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// recomputeRows recomputes rows and writes those that changed (update),
// returning the ids of those not written because they were saved since
// they were read.
func (s *TimerStore) recomputeRows(ctx context.Context, rows []recomputeRow, cal *Calendar, now time.Time, w *timerWrites) ([]int64, error) {
	w.reset()
	for i := range rows {
		t := &rows[i].Timer
		before := recomputeMarkOf(t)
		if err := t.Recompute(cal, 0, now, RecomputeReason); err != nil {
			return nil, fmt.Errorf("recompute timer %d: %w", rows[i].ID, err)
		}
		if t.State == TimerPaused || recomputeMarkOf(t) != before {
			if err := w.add(&rows[i], before.state); err != nil {
				return nil, fmt.Errorf("recompute timer %d: %w", rows[i].ID, err)
			}
		}
	}
	return s.update(ctx, w, now)
}

// recomputeRow is a timer as RecomputeAll reads it: the rest of the row
// stays as it is. Version is PostgreSQL's xmin of the row read, which any
// later update of the row changes.
type recomputeRow struct {
	ID      int64
	Version string
	Timer   Timer
}

// readRows appends the rows of sla_timers where (a condition and its
// arguments) to out, reused from batch to batch.
func (s *TimerStore) readRows(ctx context.Context, out []recomputeRow, where string, args ...any) ([]recomputeRow, error) {
	cols := `id, '', data`
	if s.db.Dialect == db.Postgres {
		cols = `id, xmin::text, data`
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT `+cols+` FROM sla_timers `+where, args...)
	if err != nil {
		return out, fmt.Errorf("timers: %w", err)
	}
	defer rows.Close()
	var data sql.RawBytes
	for rows.Next() {
		out = append(out, recomputeRow{})
		r := &out[len(out)-1]
		if err := rows.Scan(&r.ID, &r.Version, &data); err != nil {
			return out, fmt.Errorf("timers: %w", err)
		}
		if err := decodeTimerJSON(data, &r.Timer); err != nil {
			return out, fmt.Errorf("timer %d: %w", r.ID, err)
		}
	}
	return out, rows.Err()
}

// recomputeMark is what Timer.Recompute can change besides the history; a
// timer whose mark is the same after it needs no write. The instants are
// Unix nanoseconds so that the mark compares with == (time.Time's == also
// compares locations).
type recomputeMark struct {
	state                            TimerState
	calendar                         string
	duration, paused, business       time.Duration
	due, warn, breached, lastPauseTo int64
	pauses                           int
}

func recomputeMarkOf(t *Timer) recomputeMark {
	m := recomputeMark{state: t.State, calendar: t.Calendar, duration: t.Duration, paused: t.PausedTotal,
		business: t.BusinessTime, due: unixNano(t.Due), warn: unixNano(t.WarnAt), breached: unixNano(t.BreachedAt),
		pauses: len(t.Pauses)}
	if m.pauses > 0 {
		m.lastPauseTo = unixNano(t.Pauses[m.pauses-1].To)
	}
	return m
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// timerWrites are a batch's rows to write back, column by column, their
// JSON in one buffer; reused from batch to batch.
type timerWrites struct {
	ids       []int64
	states    []string
	sameState []bool // the state did not change (SQLite leaves the column alone)
	dues      []*time.Time
	warns     []*time.Time
	datas     []string
	versions  []string // PostgreSQL's xmin as read
	buf       []byte
}

func (w *timerWrites) reset() {
	w.ids, w.states, w.sameState = w.ids[:0], w.states[:0], w.sameState[:0]
	w.dues, w.warns, w.datas, w.versions = w.dues[:0], w.warns[:0], w.datas[:0], w.versions[:0]
}

func (w *timerWrites) add(r *recomputeRow, was TimerState) error {
	t := &r.Timer
	var err error
	w.buf, err = appendTimerJSON(w.buf[:0], t)
	if err != nil {
		return err
	}
	w.ids = append(w.ids, r.ID)
	w.versions = append(w.versions, r.Version)
	w.states = append(w.states, string(t.State))
	w.sameState = append(w.sameState, t.State == was)
	w.datas = append(w.datas, string(w.buf))
	due, warn := timerTimes(t)
	w.dues = append(w.dues, timePtr(due))
	w.warns = append(w.warns, timePtr(warn))
	return nil
}

// timePtr is a column value of timerTimes as a pointer, nil for NULL.
func timePtr(v any) *time.Time {
	if t, ok := v.(time.Time); ok {
		return &t
	}
	return nil
}

// nullTime is the driver value of a *time.Time.
func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// update writes the recomputed rows back and returns the ids of those it
// did not write. On PostgreSQL: one statement per batch (arrays unnested,
// saving a round trip per row) that writes a row only if its xmin is still
// the one read. Writers run side by side there, and a timer saved (paused,
// met) after the read would otherwise be overwritten by a recompute of its
// older version, READ COMMITTED re-checking only the UPDATE's condition on
// the newer row; RecomputeAll reads those again, locked. Locking every
// row as it is read would do too, but costs a WAL record and a dirtied
// page per row, also for the rows that need no write. On SQLite the
// transaction holds the one write lock from its read on; one prepared
// statement per row (in process, no round trip). One UPDATE … FROM
// (VALUES …) per 128 rows was slower there: it materialises the joined
// rows, JSON included, before writing them (docs/performance.md).
func (s *TimerStore) update(ctx context.Context, w *timerWrites, now time.Time) ([]int64, error) {
	if len(w.ids) == 0 {
		return nil, nil
	}
	q := s.db.Q(ctx)
	if s.db.Dialect == db.Postgres {
		rows, err := q.QueryContext(ctx, `UPDATE sla_timers AS t SET state = v.state,
			due_at = v.due_at, warn_at = v.warn_at, data = v.data, updated_at = $7
			FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[])
				AS v(id, state, due_at, warn_at, data, version)
			WHERE t.id = v.id AND t.xmin = v.version::xid
			RETURNING t.id`, w.ids, w.states, w.dues, w.warns, w.datas, w.versions, db.Now(now))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		written := make(map[int64]bool, len(w.ids))
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			written[id] = true
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		var missed []int64
		for _, id := range w.ids {
			if !written[id] {
				missed = append(missed, id)
			}
		}
		return missed, nil
	}
	at := db.Now(now)
	for i, id := range w.ids {
		// Most recomputes keep the state; leaving the column out then
		// spares SQLite the upkeep of sla_timers_calendar, whose
		// condition reads it.
		var err error
		if w.sameState[i] {
			_, err = q.ExecContext(ctx, `UPDATE sla_timers SET due_at = $1, warn_at = $2, data = $3, updated_at = $4 WHERE id = $5`,
				nullTime(w.dues[i]), nullTime(w.warns[i]), w.datas[i], at, id)
		} else {
			_, err = q.ExecContext(ctx, `UPDATE sla_timers SET state = $1, due_at = $2, warn_at = $3, data = $4, updated_at = $5 WHERE id = $6`,
				w.states[i], nullTime(w.dues[i]), nullTime(w.warns[i]), w.datas[i], at, id)
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func (s *TimerStore) query(ctx context.Context, q db.Querier, query string, args ...any) ([]StoredTimer, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("timers: %w", err)
	}
	defer rows.Close()
	out := []StoredTimer{}
	var data sql.RawBytes
	for rows.Next() {
		var st StoredTimer
		var cal, pol sql.NullInt64
		if err := rows.Scan(&st.ID, &st.TicketID, &st.Target, &st.Cycle, &cal, &pol, &st.Warned, &st.UpdatedAt, &data); err != nil {
			return nil, fmt.Errorf("timers: %w", err)
		}
		st.CalendarID, st.PolicyID = cal.Int64, pol.Int64
		st.UpdatedAt = st.UpdatedAt.UTC()
		// data is the driver's buffer until the next row: the decoder
		// copies what it keeps.
		if err := decodeTimerJSON(data, &st.Timer); err != nil {
			return nil, fmt.Errorf("timer %d: %w", st.ID, err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
