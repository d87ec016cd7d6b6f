// Package audit keeps Careloop's append-only audit trail.
//
// Invariants:
//   - An entry is written with the same transaction as the change it
//     describes (Record uses the transaction carried by ctx), so a change and
//     its audit entry commit or vanish together.
//   - Entries are never updated or deleted; the database refuses it.
//   - Who, from where and under which request come from the context
//     (WithActor), so domain code only says what changed.
package audit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
)

// Actor is who makes a change, and from where.
type Actor struct {
	UserID    int64  // 0 for the system or an anonymous caller
	Label     string // e.g. the user's email, "system", "cli"
	IP        string
	RequestID string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or a system actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Label: "system"}
}

// Change is a field's value before and after.
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// Entry is one audited change.
type Entry struct {
	ID         int64             `json:"id"`
	At         time.Time         `json:"at"`
	ActorID    int64             `json:"actor_id,omitempty"`
	ActorLabel string            `json:"actor"`
	Action     string            `json:"action"`
	Entity     string            `json:"entity"`
	EntityID   string            `json:"entity_id"`
	Changes    map[string]Change `json:"changes"`
	IP         string            `json:"ip"`
	RequestID  string            `json:"request_id"`
}

// Log writes and reads the audit trail.
type Log struct {
	db    *db.DB
	clock clock.Clock
}

// New returns a Log over d.
func New(d *db.DB, c clock.Clock) *Log { return &Log{db: d, clock: c} }

// Record appends an entry for the actor in ctx, inside the transaction in ctx
// if there is one.
func (l *Log) Record(ctx context.Context, action, entity, entityID string, changes map[string]Change) error {
	a := ActorFrom(ctx)
	if changes == nil {
		changes = map[string]Change{}
	}
	body, err := json.Marshal(changes)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", action, entity, err)
	}
	var actorID any
	if a.UserID != 0 {
		actorID = a.UserID
	}
	_, err = l.db.Q(ctx).ExecContext(ctx, `INSERT INTO audit_log
		(at, actor_id, actor_label, action, entity, entity_id, changes, ip, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		db.Now(l.clock.Now()), actorID, a.Label, action, entity, entityID, string(body), a.IP, a.RequestID)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", action, entity, err)
	}
	return nil
}

// Diff lists the fields whose values differ between before and after.
func Diff(before, after map[string]any) map[string]Change {
	out := map[string]Change{}
	for k, a := range after {
		b, ok := before[k]
		if !ok || fmt.Sprint(b) != fmt.Sprint(a) {
			out[k] = Change{Before: b, After: a}
		}
	}
	for k, b := range before {
		if _, ok := after[k]; !ok {
			out[k] = Change{Before: b}
		}
	}
	return out
}

// Filter selects audit entries. Zero fields do not filter.
type Filter struct {
	ActorID  int64
	Actor    string // substring of the actor label
	Action   string // prefix, e.g. "user." for every user action
	Entity   string
	EntityID string
	From, To time.Time // To is exclusive
	Limit    int
	Cursor   string // opaque, from Page.Next
}

// Page is one page of entries, newest first.
type Page struct {
	Entries []Entry `json:"items"`
	Next    string  `json:"next_cursor,omitempty"`
}

// ErrBadCursor is returned for a cursor that was not made by List.
var ErrBadCursor = errors.New("invalid cursor")

// List returns entries matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if f.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil {
			return Page{}, ErrBadCursor
		}
		id, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || id <= 0 {
			return Page{}, ErrBadCursor
		}
		add("id < ?", id)
	}
	if f.ActorID != 0 {
		add("actor_id = ?", f.ActorID)
	}
	if f.Actor != "" {
		add("LOWER(actor_label) LIKE ?", "%"+escapeLike(strings.ToLower(f.Actor))+"%")
		where[len(where)-1] += ` ESCAPE '\'`
	}
	if f.Action != "" {
		add("action LIKE ?", escapeLike(f.Action)+"%")
		where[len(where)-1] += ` ESCAPE '\'`
	}
	if f.Entity != "" {
		add("entity = ?", f.Entity)
	}
	if f.EntityID != "" {
		add("entity_id = ?", f.EntityID)
	}
	if !f.From.IsZero() {
		add("at >= ?", db.Now(f.From))
	}
	if !f.To.IsZero() {
		add("at < ?", db.Now(f.To))
	}
	q := `SELECT id, at, COALESCE(actor_id, 0), actor_label, action, entity, entity_id, changes, ip, request_id FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(f.Limit+1)
	rows, err := l.db.RQ(ctx).QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var p Page
	for rows.Next() {
		var e Entry
		var changes string
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorLabel, &e.Action, &e.Entity, &e.EntityID, &changes, &e.IP, &e.RequestID); err != nil {
			return Page{}, fmt.Errorf("list audit: %w", err)
		}
		if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
			return Page{}, fmt.Errorf("list audit: entry %d: %w", e.ID, err)
		}
		e.At = e.At.UTC()
		p.Entries = append(p.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list audit: %w", err)
	}
	if len(p.Entries) > f.Limit {
		p.Entries = p.Entries[:f.Limit]
		p.Next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.Entries[f.Limit-1].ID, 10)))
	}
	return p, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
