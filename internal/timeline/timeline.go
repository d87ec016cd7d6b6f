// Package timeline is the customer's history that every domain appends to:
// changes, contacts, tickets, care records, service orders and survey
// answers, newest first, so an agent can speak from history.
//
// Invariants:
//   - Events are appended in the transaction of the change they describe
//     (Append uses the transaction carried by ctx), so history never shows
//     what did not happen nor misses what did.
//   - Events are never edited; erasing a customer's personal data rewrites
//     their events' summaries through Anonymize, which keeps kinds and times.
//   - A summary is a catalog key with parameters, so each reader sees it in
//     their own language.
package timeline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Event is one line of a customer's history.
type Event struct {
	ID         int64          `json:"id"`
	CustomerID int64          `json:"customer_id"`
	At         time.Time      `json:"at"`
	Kind       string         `json:"kind"` // e.g. customer.created, ticket.opened, care.recorded
	ActorID    int64          `json:"actor_id,omitempty"`
	Actor      string         `json:"actor"`
	Key        string         `json:"summary_key"` // catalog key of the summary
	Params     map[string]any `json:"params,omitempty"`
	Entity     string         `json:"entity,omitempty"` // what the event points at, e.g. "ticket"
	EntityID   string         `json:"entity_id,omitempty"`
}

// Log appends to and reads timelines.
type Log struct {
	db    *db.DB
	clock clock.Clock
}

// New returns the timeline log.
func New(d *db.DB, c clock.Clock) *Log { return &Log{db: d, clock: c} }

// Append adds an event for the actor in ctx, inside ctx's transaction.
func (l *Log) Append(ctx context.Context, e Event) error {
	if e.CustomerID <= 0 || e.Kind == "" || e.Key == "" {
		return fmt.Errorf("timeline: event needs a customer, a kind and a summary key")
	}
	a := audit.ActorFrom(ctx)
	params := "{}"
	if len(e.Params) > 0 {
		b, err := json.Marshal(e.Params)
		if err != nil {
			return fmt.Errorf("timeline: %w", err)
		}
		params = string(b)
	}
	var actorID any
	if a.UserID != 0 {
		actorID = a.UserID
	}
	at := e.At
	if at.IsZero() {
		at = l.clock.Now()
	}
	_, err := l.db.Q(ctx).ExecContext(ctx, `INSERT INTO timeline_events
		(customer_id, at, kind, actor_id, actor_label, summary_key, params, entity, entity_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.CustomerID, db.Now(at), e.Kind, actorID, a.Label, e.Key, params, e.Entity, e.EntityID)
	if err != nil {
		return fmt.Errorf("timeline append %s: %w", e.Kind, err)
	}
	return nil
}

// Page is a page of events, newest first.
type Page struct {
	Items      []Event `json:"items"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// List returns a customer's events, newest first; kinds filters by kind
// prefix (e.g. "ticket.") when not empty.
func (l *Log) List(ctx context.Context, customerID int64, kinds []string, limit int, cursor string) (Page, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	args := []any{customerID}
	where := []string{"customer_id = $1"}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		id, perr := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || perr != nil || id <= 0 {
			return Page{}, domain.Invalid("cursor", "validation.cursor", nil)
		}
		args = append(args, id)
		where = append(where, "id < $"+strconv.Itoa(len(args)))
	}
	if len(kinds) > 0 {
		var ors []string
		for _, k := range kinds {
			args = append(args, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(k)+"%")
			ors = append(ors, "kind LIKE $"+strconv.Itoa(len(args))+` ESCAPE '\'`)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	rows, err := l.db.RQ(ctx).QueryContext(ctx, `SELECT id, customer_id, at, kind, COALESCE(actor_id, 0), actor_label,
		summary_key, params, entity, entity_id FROM timeline_events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return Page{}, fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	p := Page{Items: []Event{}}
	for rows.Next() {
		var e Event
		var params string
		if err := rows.Scan(&e.ID, &e.CustomerID, &e.At, &e.Kind, &e.ActorID, &e.Actor, &e.Key, &params, &e.Entity, &e.EntityID); err != nil {
			return Page{}, fmt.Errorf("timeline: %w", err)
		}
		if params != "{}" {
			if err := json.Unmarshal([]byte(params), &e.Params); err != nil {
				return Page{}, fmt.Errorf("timeline: event %d: %w", e.ID, err)
			}
		}
		e.At = e.At.UTC()
		p.Items = append(p.Items, e)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(p.Items[limit-1].ID, 10)))
	}
	return p, nil
}

// Move gives every event of customer from to customer to (a merge).
func (l *Log) Move(ctx context.Context, from, to int64) error {
	_, err := l.db.Q(ctx).ExecContext(ctx, `UPDATE timeline_events SET customer_id = $1 WHERE customer_id = $2`, to, from)
	if err != nil {
		return fmt.Errorf("timeline move: %w", err)
	}
	return nil
}

// Anonymize drops the parameters of a customer's events (they may quote
// personal data) while keeping kinds, times and links for statistics.
func (l *Log) Anonymize(ctx context.Context, customerID int64) error {
	_, err := l.db.Q(ctx).ExecContext(ctx, `UPDATE timeline_events SET params = '{}' WHERE customer_id = $1`, customerID)
	if err != nil {
		return fmt.Errorf("timeline anonymize: %w", err)
	}
	return nil
}
