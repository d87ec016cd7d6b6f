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
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
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
	ID         int64 `json:"id"`
	CustomerID int64 `json:"customer_id"`
	// At is the event's business time: when it happened (a purchase on
	// its purchase date), which orders the timeline.
	At time.Time `json:"at"`
	// RecordedAt is when the event was written, when that differs from At
	// (nil: the same).
	RecordedAt *time.Time `json:"recorded_at,omitempty"`
	Kind       string     `json:"kind"` // e.g. customer.created, ticket.opened, care.recorded
	ActorID    int64      `json:"actor_id,omitempty"`
	// Actor is the staff member's name (their sign-in label when the user
	// is gone, or "system").
	Actor    string         `json:"actor"`
	Key      string         `json:"summary_key"` // catalog key of the summary
	Params   map[string]any `json:"params,omitempty"`
	Entity   string         `json:"entity,omitempty"` // what the event points at, e.g. "ticket"
	EntityID string         `json:"entity_id,omitempty"`
}

// MarshalJSON writes the event with snake_case parameter names, as every
// key of the API is: the catalog's {{.Product}} is "product" there.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event
	p := plain(e)
	if len(e.Params) > 0 {
		p.Params = make(map[string]any, len(e.Params))
		for k, v := range e.Params {
			p.Params[SnakeCase(k)] = v
		}
	}
	return json.Marshal(p)
}

// SnakeCase turns a parameter name such as "Number" or "ProductName" into
// "number" or "product_name".
func SnakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + ('a' - 'A'))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// contactKinds are the kinds (by prefix) of events in which the customer
// was in touch with the company; the latest is the customer's last contact.
var contactKinds = []string{"contact.", "call.", "visit.", "ticket.", "care.", "survey."}

// kindDomains are the first words of the kinds that domains write (or will:
// tickets, care, surveys and field service add theirs as they land). A kind
// filter must start with one, so a mistyped filter is an error, not an
// empty history.
var kindDomains = []string{"customer", "contact", "call", "visit", "ticket", "care", "survey", "service"}

// KnownKindPrefix tells whether prefix (a kind filter such as "customer." or
// "contact.logged") starts with a known domain.
func KnownKindPrefix(prefix string) bool {
	first, _, _ := strings.Cut(prefix, ".")
	return slices.Contains(kindDomains, first)
}

// IsContact tells whether an event of kind is an interaction with the
// customer (it moves the customer's last contact).
func IsContact(kind string) bool {
	for _, p := range contactKinds {
		if strings.HasPrefix(kind, p) {
			return true
		}
	}
	return false
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
	now := db.Now(l.clock.Now())
	at, recorded := now, any(nil)
	if !e.At.IsZero() && !db.Now(e.At).Equal(now) {
		at, recorded = db.Now(e.At), now
	}
	q := l.db.Q(ctx)
	_, err := q.ExecContext(ctx, `INSERT INTO timeline_events
		(customer_id, at, recorded_at, kind, actor_id, actor_label, summary_key, params, entity, entity_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.CustomerID, at, recorded, e.Kind, actorID, a.Label, e.Key, params, e.Entity, e.EntityID)
	if err != nil {
		return fmt.Errorf("timeline append %s: %w", e.Kind, err)
	}
	if IsContact(e.Kind) {
		// The customer's last contact moves forward only: a call logged
		// late for last week does not hide today's visit.
		if _, err := q.ExecContext(ctx, `UPDATE customers SET last_contact_at = $1
			WHERE id = $2 AND (last_contact_at IS NULL OR last_contact_at < $1)`, at, e.CustomerID); err != nil {
			return fmt.Errorf("timeline append %s: last contact: %w", e.Kind, err)
		}
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
	where := []string{"e.customer_id = $1"}
	if cursor != "" {
		at, id, ok := decodeCursor(cursor)
		if !ok {
			return Page{}, domain.Invalid("cursor", "validation.cursor", nil)
		}
		args = append(args, at, id)
		where = append(where, "(e.at < $2 OR (e.at = $2 AND e.id < $3))")
	}
	for _, k := range kinds {
		if !KnownKindPrefix(k) {
			return Page{}, domain.Invalid("kind", "validation.timeline_kind", map[string]any{"Values": strings.Join(kindDomains, ", ")})
		}
	}
	if len(kinds) > 0 {
		var ors []string
		for _, k := range kinds {
			args = append(args, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(k)+"%")
			ors = append(ors, "e.kind LIKE $"+strconv.Itoa(len(args))+` ESCAPE '\'`)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	rows, err := l.db.RQ(ctx).QueryContext(ctx, `SELECT e.id, e.customer_id, e.at, e.recorded_at, e.kind, COALESCE(e.actor_id, 0),
		COALESCE(u.name, e.actor_label), e.summary_key, e.params, e.entity, e.entity_id
		FROM timeline_events e LEFT JOIN users u ON u.id = e.actor_id WHERE `+strings.Join(where, " AND ")+
		` ORDER BY e.at DESC, e.id DESC LIMIT `+strconv.Itoa(limit+1), args...)
	if err != nil {
		return Page{}, fmt.Errorf("timeline: %w", err)
	}
	defer rows.Close()
	p := Page{Items: []Event{}}
	for rows.Next() {
		var e Event
		var params string
		var recorded sql.NullTime
		if err := rows.Scan(&e.ID, &e.CustomerID, &e.At, &recorded, &e.Kind, &e.ActorID, &e.Actor, &e.Key, &params, &e.Entity, &e.EntityID); err != nil {
			return Page{}, fmt.Errorf("timeline: %w", err)
		}
		if params != "{}" {
			if err := json.Unmarshal([]byte(params), &e.Params); err != nil {
				return Page{}, fmt.Errorf("timeline: event %d: %w", e.ID, err)
			}
		}
		e.At = e.At.UTC()
		if recorded.Valid {
			t := recorded.Time.UTC()
			e.RecordedAt = &t
		}
		p.Items = append(p.Items, e)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		last := p.Items[limit-1]
		p.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.At.UnixMicro(), 10) + "." + strconv.FormatInt(last.ID, 10)))
	}
	return p, nil
}

// decodeCursor reads a cursor of List: the time and id of the last event
// of the previous page.
func decodeCursor(c string) (time.Time, int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, false
	}
	us, ids, ok := strings.Cut(string(raw), ".")
	micro, err1 := strconv.ParseInt(us, 10, 64)
	id, err2 := strconv.ParseInt(ids, 10, 64)
	if !ok || err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, false
	}
	return time.UnixMicro(micro).UTC(), id, true
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
