package tickets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/textindex"
	"github.com/careloop/careloop/internal/timeline"
)

// Store keeps tickets.
type Store struct {
	db        *db.DB
	clock     clock.Clock
	audit     *audit.Log
	timeline  *timeline.Log
	settings  *settings.Store
	files     *attachments.Store // nil: messages carry no files (attachments.go)
	listeners []Listener
	ruleCache ruleCache // routing_cache.go
}

// NewStore returns the ticket store.
func NewStore(d *db.DB, c clock.Clock, a *audit.Log, t *timeline.Log) *Store {
	return &Store{db: d, clock: c, audit: a, timeline: t}
}

// BusinessZone is the zone whose calendar day starts a ticket number: the
// one customer numbers use.
var BusinessZone = customers.BusinessZone

// nextNumber allocates T + YYYYMMDD + a four-digit (or longer) serial in
// the transaction of ctx. The day's counter row is updated with RETURNING:
// PostgreSQL locks it until commit, SQLite has one writer, so concurrent
// creators never share a serial; a rolled-back creation leaves a gap, never
// a reuse.
func (s *Store) nextNumber(ctx context.Context, now time.Time) (string, error) {
	day := now.In(BusinessZone).Format("20060102")
	// On PostgreSQL the day's counter steps in a statement of its own
	// (db.Counters): inside the creating transaction its row stayed locked
	// until that commit, and every concurrent creator queued on it (350
	// tickets/s at 8 clients). The price: a creation that fails after this
	// point leaves its number unused, never given again. SQLite has one
	// writer, so nothing queues there and the number stays in the
	// transaction.
	q := s.db.Q(ctx)
	if s.db.Counters != nil {
		q = s.db.Counters
	}
	var serial int
	err := q.QueryRowContext(ctx, `INSERT INTO ticket_number_seq (day, last) VALUES ($1, 1)
		ON CONFLICT (day) DO UPDATE SET last = ticket_number_seq.last + 1 RETURNING last`, day).Scan(&serial)
	if err != nil {
		return "", fmt.Errorf("allocate ticket number: %w", err)
	}
	return fmt.Sprintf("T%s%04d", day, serial), nil
}

// customerFacts reads what intake and routing need of the customer. A
// merged or erased customer cannot take new tickets.
type customerFacts struct {
	Name, Number, Tier string
	OwnerID            *int64
}

func (s *Store) customer(ctx context.Context, id int64) (customerFacts, error) {
	var f customerFacts
	var owner sql.NullInt64
	var merged sql.NullInt64
	var erased sql.NullTime
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT name, number, tier, owner_id, merged_into, erased_at FROM customers WHERE id = $1`, id).
		Scan(&f.Name, &f.Number, &f.Tier, &owner, &merged, &erased)
	if errors.Is(err, sql.ErrNoRows) || merged.Valid || erased.Valid {
		return f, domain.Invalid("customer_id", "validation.unknown_customer", nil)
	}
	if owner.Valid {
		f.OwnerID = &owner.Int64
	}
	return f, err
}

// Create records a request, numbers it and routes it to its owner, with its
// event, audit entry and timeline line, in one transaction.
func (s *Store) Create(ctx context.Context, p *identity.Principal, in Input) (Ticket, error) {
	if err := in.normalize(); err != nil {
		return Ticket{}, err
	}
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		id, err = s.create(ctx, p, in)
		return err
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	return s.Get(ctx, p, id)
}

// CreateInTx is Create for a caller that already holds a transaction (the
// intake page creating the customer in the same one). in is checked first.
func (s *Store) CreateInTx(ctx context.Context, p *identity.Principal, in Input) (int64, error) {
	if err := in.normalize(); err != nil {
		return 0, err
	}
	return s.create(ctx, p, in)
}

func (s *Store) create(ctx context.Context, p *identity.Principal, in Input) (int64, error) {
	if p.IsPortal() && in.CustomerID != p.CustomerID {
		// A customer opens requests for themself only.
		return 0, domain.Invalid("customer_id", "validation.unknown_customer", nil)
	}
	q := s.db.Q(ctx)
	now := db.Now(s.clock.Now())
	cust, err := s.customer(ctx, in.CustomerID)
	if err != nil {
		return 0, err
	}
	var v domain.ValidationError
	if in.OwnedProductID != nil {
		var owner int64
		if err := q.QueryRowContext(ctx, `SELECT customer_id FROM customer_products WHERE id = $1`, *in.OwnedProductID).Scan(&owner); err != nil || owner != in.CustomerID {
			v.Add("owned_product_id", "validation.unknown_owned_product", nil)
		}
	}
	f := facts{Type: in.Type, Channel: in.Channel, Severity: in.Severity, Tier: cust.Tier, ManagerID: cust.OwnerID, Team: in.team}
	if in.CategoryID != nil {
		c, err := s.Category(ctx, *in.CategoryID)
		if err != nil || !c.Active {
			v.Add("category_id", "validation.unknown_category", map[string]any{"Value": *in.CategoryID})
		} else if f.Categories, err = s.lineage(ctx, c.ID); err != nil {
			return 0, err
		}
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	custom, err := s.checkCustom(ctx, in.Type, in.Custom)
	if err != nil {
		return 0, err
	}
	var creator int64
	if p != nil {
		creator = p.UserID
	}
	d, err := s.route(ctx, f, creator)
	if err != nil {
		return 0, err
	}
	number, err := s.nextNumber(ctx, now)
	if err != nil {
		return 0, err
	}
	major := in.Type == "complaint" && in.Severity == "urgent"
	var complaint any
	if in.Complaint != nil {
		if major {
			in.Complaint.ReportedAt = &now
		}
		b, _ := json.Marshal(in.Complaint)
		complaint = string(b)
	}
	var createdBy any
	if creator != 0 {
		createdBy = creator
	}
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO tickets (number, customer_id, owned_product_id, category_id, type, channel, severity,
		severity_rank, state, is_open, subject, description, expectation, complaint, major_complaint, tags, owner_id, team_id,
		created_by, created_at, updated_at, custom)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'new', TRUE, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19) RETURNING id`,
		number, in.CustomerID, in.OwnedProductID, in.CategoryID, in.Type, in.Channel, in.Severity, SeverityRank(in.Severity),
		in.Subject, in.Description, in.Expectation, complaint, major, jsonText(in.Tags), d.OwnerID, d.TeamID, createdBy, now,
		jsonText(custom)).Scan(&id)
	if err != nil {
		return 0, err
	}
	if err := ticketText.Put(ctx, s.db, textindex.Doc{ID: id, Texts: []string{number, in.Subject, in.Description}}); err != nil {
		return 0, err
	}
	// What the listeners match on (SLA policies: tier, category; who
	// wrote it down) is filled in as the creation knows it.
	t := Ticket{ID: id, Number: number, CustomerID: in.CustomerID, CustomerTier: cust.Tier, Subject: in.Subject, Type: in.Type,
		State: StateNew, Severity: in.Severity, Channel: in.Channel, CategoryID: in.CategoryID, OwnedProductID: in.OwnedProductID,
		MajorComplaint: major, OwnerID: d.OwnerID, TeamID: d.TeamID, CreatedAt: now, UpdatedAt: now}
	if creator != 0 {
		t.CreatedBy = &creator
	}
	if err := s.audit.Record(ctx, "ticket.create", "ticket", fmt.Sprint(id), map[string]audit.Change{
		"number": {After: number}, "customer_id": {After: in.CustomerID}, "type": {After: in.Type}, "severity": {After: in.Severity},
		"owner_id": {After: idOrNil(d.OwnerID)}, "team_id": {After: idOrNil(d.TeamID)}}); err != nil {
		return 0, err
	}
	if err := s.emit(ctx, t, EventCreated, map[string]any{"owner_id": idOrNil(d.OwnerID), "team_id": idOrNil(d.TeamID),
		"rule_id": d.RuleID, "route": d.Reason, "channel": in.Channel, "type": in.Type, "severity": in.Severity}); err != nil {
		return 0, err
	}
	if major {
		if err := s.emit(ctx, t, EventMajorComplaint, nil); err != nil {
			return 0, err
		}
	}
	return id, nil
}
