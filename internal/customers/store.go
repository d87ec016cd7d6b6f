package customers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/timeline"
)

// Store keeps customer records.
type Store struct {
	db       *db.DB
	clock    clock.Clock
	audit    *audit.Log
	timeline *timeline.Log
	rules    rulesCache // segment and lifecycle rules (rules.go)
	// listeners hear of creations, updates and merges (events.go).
	listeners []Listener
}

// NewStore returns the customer store.
func NewStore(d *db.DB, c clock.Clock, a *audit.Log, t *timeline.Log) *Store {
	return &Store{db: d, clock: c, audit: a, timeline: t}
}

// DuplicateError says a customer with the same phone or email exists.
type DuplicateError struct {
	ExistingID     int64
	ExistingNumber string
	Field          string // "phones" or "email"
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("a customer with this %s exists: %s", e.Field, e.ExistingNumber)
}

// Unwrap makes a duplicate a conflict.
func (e *DuplicateError) Unwrap() error { return domain.ErrConflict }

func itoa(n int) string { return strconv.Itoa(n) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// Create registers a customer with a new number (or a valid, free imported
// one), after checking that no customer has the same phone or email unless
// in.AllowDuplicate.
func (s *Store) Create(ctx context.Context, in Input) (Customer, error) {
	now := s.clock.Now()
	c := Customer{Type: TypeIndividual, Tier: "normal", Lifecycle: "potential", Tags: []string{}, Custom: map[string]any{}, Phones: []string{}, Contacts: []Contact{}}
	if err := in.apply(&c, now); err != nil {
		return Customer{}, err
	}
	var wanted string
	if n := trimPtr(in.Number); n != "" {
		if _, _, _, err := ParseNumber(n); err != nil {
			return Customer{}, err
		}
		wanted = n
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.checkOwner(ctx, c.OwnerID); err != nil {
			return err
		}
		var err error
		if c.Custom, err = s.checkCustom(ctx, c.Custom); err != nil {
			return err
		}
		if !in.AllowDuplicate {
			if err := s.checkDuplicate(ctx, 0, c); err != nil {
				return err
			}
		}
		if wanted != "" {
			c.Number = wanted
			serial, _ := strconv.Atoi(wanted[6:])
			if err := s.reserveNumber(ctx, wanted[:6], serial); err != nil {
				return err
			}
		} else if c.Number, err = s.nextNumber(ctx, now); err != nil {
			return err
		}
		c.ID, err = s.insert(ctx, c)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("number", "validation.number_taken", nil)
		}
		if err != nil {
			return err
		}
		if err := s.indexName(ctx, c.ID, c.Name); err != nil {
			return err
		}
		if err := s.writeChildren(ctx, c); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "customer.create", "customer", fmt.Sprint(c.ID), map[string]audit.Change{
			"number": {After: c.Number}, "name": {After: c.Name}, "type": {After: c.Type}}); err != nil {
			return err
		}
		if err := s.timeline.Append(ctx, timeline.Event{CustomerID: c.ID, Kind: "customer.created", Key: "timeline.customer_created",
			Params: map[string]any{"Number": c.Number}, Entity: "customer", EntityID: fmt.Sprint(c.ID)}); err != nil {
			return err
		}
		return s.emit(ctx, EventCreated, c.ID, nil)
	})
	if err != nil {
		return Customer{}, fmt.Errorf("create customer: %w", err)
	}
	return s.get(ctx, c.ID)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Store) insert(ctx context.Context, c Customer) (int64, error) {
	keys := NameSearchKeys(c.Name)
	var id int64
	t := db.Now(s.clock.Now())
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO customers (number, type, name, name_pinyin, name_initials,
		name_pinyin_alt, name_initials_alt, email, wechat,
		address, industry, birthday, cooperation_start, preferred_channel, preferred_time, owner_id, tier, tags, remarks, custom,
		lifecycle, lifecycle_override, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $22, $23, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21) RETURNING id`,
		c.Number, c.Type, c.Name, keys.Full, keys.Initials, c.Email, c.WeChat, c.Address, c.Industry, c.Birthday,
		c.CooperationStart, c.PreferredChannel, c.PreferredTime, ownerArg(c.OwnerID), c.Tier, jsonText(c.Tags), c.Remarks,
		jsonText(c.Custom), c.Lifecycle, c.LifecycleOverride, t, keys.AltFull, keys.AltInitials).Scan(&id)
	return id, err
}

func ownerArg(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

// writeChildren replaces the phones and contacts of c.
func (s *Store) writeChildren(ctx context.Context, c Customer) error {
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `DELETE FROM customer_phones WHERE customer_id = $1`, c.ID); err != nil {
		return err
	}
	for i, raw := range c.Phones {
		p, err := ParsePhone(raw)
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO customer_phones (customer_id, phone, last4, kind, position) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, p.String(), p.Last4(), p.Kind.String(), i); err != nil {
			return err
		}
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM customer_contacts WHERE customer_id = $1`, c.ID); err != nil {
		return err
	}
	for i, ct := range c.Contacts {
		if _, err := q.ExecContext(ctx, `INSERT INTO customer_contacts (customer_id, name, title, phone, email, is_primary, position)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, c.ID, ct.Name, ct.Title, ct.Phone, ct.Email, ct.Primary, i); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) checkOwner(ctx context.Context, owner *int64) error {
	if owner == nil {
		return nil
	}
	var active bool
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT active FROM users WHERE id = $1`, *owner).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !active) {
		return domain.Invalid("owner_id", "validation.unknown_owner", map[string]any{"Value": *owner})
	}
	return err
}

// checkDuplicate finds another live customer with one of c's phones or its
// email.
func (s *Store) checkDuplicate(ctx context.Context, self int64, c Customer) error {
	q := s.db.Q(ctx)
	for _, p := range c.Phones {
		var id int64
		var number string
		err := q.QueryRowContext(ctx, `SELECT c.id, c.number FROM customer_phones p JOIN customers c ON c.id = p.customer_id
			WHERE p.phone = $1 AND c.id <> $2 AND c.merged_into IS NULL AND c.erased_at IS NULL LIMIT 1`, p, self).Scan(&id, &number)
		if err == nil {
			return &DuplicateError{ExistingID: id, ExistingNumber: number, Field: "phones"}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if c.Email != "" {
		var id int64
		var number string
		err := q.QueryRowContext(ctx, `SELECT id, number FROM customers WHERE email = $1 AND id <> $2 AND merged_into IS NULL AND erased_at IS NULL LIMIT 1`,
			c.Email, self).Scan(&id, &number)
		if err == nil {
			return &DuplicateError{ExistingID: id, ExistingNumber: number, Field: "email"}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return nil
}

const customerColumns = `id, number, type, name, email, wechat, address, industry, birthday, cooperation_start, preferred_channel,
	preferred_time, owner_id, tier, tags, remarks, custom, lifecycle, lifecycle_override, erased_at IS NOT NULL, version, created_at, updated_at, last_contact_at`

func scanCustomer(sc interface{ Scan(...any) error }) (Customer, error) {
	var c Customer
	var owner sql.NullInt64
	var tags, custom string
	var contact sql.NullTime
	err := sc.Scan(&c.ID, &c.Number, &c.Type, &c.Name, &c.Email, &c.WeChat, &c.Address, &c.Industry, &c.Birthday, &c.CooperationStart,
		&c.PreferredChannel, &c.PreferredTime, &owner, &c.Tier, &tags, &c.Remarks, &custom, &c.Lifecycle, &c.LifecycleOverride,
		&c.Erased, &c.Version, &c.CreatedAt, &c.UpdatedAt, &contact)
	if err != nil {
		return c, err
	}
	if contact.Valid {
		t := contact.Time.UTC()
		c.LastContactAt = &t
	}
	if owner.Valid {
		c.OwnerID = &owner.Int64
	}
	c.Tags, c.Custom = []string{}, map[string]any{}
	_ = json.Unmarshal([]byte(tags), &c.Tags)
	_ = json.Unmarshal([]byte(custom), &c.Custom)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.Phones, c.Contacts = []string{}, []Contact{}
	return c, nil
}

// get loads a customer with phones and contacts, unmasked (store-internal).
func (s *Store) get(ctx context.Context, id int64) (Customer, error) {
	c, err := scanCustomer(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1 AND merged_into IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		if to, merr := s.movedTo(ctx, id); merr == nil && to != 0 {
			return Customer{}, &MovedError{To: to}
		}
		return Customer{}, fmt.Errorf("customer %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Customer{}, fmt.Errorf("get customer: %w", err)
	}
	list := []*Customer{&c}
	if err := s.fillChildren(ctx, list); err != nil {
		return Customer{}, err
	}
	return c, nil
}

// Get returns a customer as the caller may see it: contact details masked
// unless they hold customers.contact_view.
func (s *Store) Get(ctx context.Context, p *identity.Principal, id int64) (Customer, error) {
	if !p.Can(identity.CustomersView) {
		return Customer{}, fmt.Errorf("customer %d: %w", id, domain.ErrNotFound)
	}
	c, err := s.get(ctx, id)
	if err != nil {
		return Customer{}, err
	}
	return ForViewer(p, c), nil
}

// ForViewer masks what the viewer may not see.
func ForViewer(p *identity.Principal, c Customer) Customer {
	if p.Can(identity.CustomersContactView) {
		return c
	}
	c.Masked = true
	phones := make([]string, len(c.Phones))
	for i, ph := range c.Phones {
		phones[i] = MaskPhone(ph)
	}
	c.Phones = phones
	contacts := make([]Contact, len(c.Contacts))
	for i, ct := range c.Contacts {
		if ct.Phone != "" {
			ct.Phone = MaskPhone(ct.Phone)
		}
		contacts[i] = ct
	}
	c.Contacts = contacts
	return c
}

// fillChildren loads phones and contacts of the customers in two queries.
func (s *Store) fillChildren(ctx context.Context, cs []*Customer) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[int64]*Customer, len(cs))
	ids := make([]int64, 0, len(cs))
	for _, c := range cs {
		byID[c.ID] = c
		ids = append(ids, c.ID)
	}
	// Phones and contacts in one statement: a page of search results is
	// one round trip more, not two. PostgreSQL takes the ids as one array
	// parameter, so the statement is the same for every page and prepared
	// once; SQLite has no arrays, and the ids, integers formatted here,
	// are safe to inline.
	in, args := "= ANY($1)", []any{ids}
	if s.db.Dialect == db.SQLite {
		list := make([]string, len(ids))
		for i, id := range ids {
			list[i] = strconv.FormatInt(id, 10)
		}
		in, args = "IN ("+strings.Join(list, ",")+")", nil
	}
	rows, err := s.db.ShapedQ(ctx).QueryContext(ctx, `SELECT customer_id, 0 AS kind, position, 0, '', '', phone, '', FALSE
		FROM customer_phones WHERE customer_id `+in+`
		UNION ALL SELECT customer_id, 1, position, id, name, title, phone, email, is_primary
		FROM customer_contacts WHERE customer_id `+in+`
		ORDER BY 1, 2, 3`, args...)
	if err != nil {
		return fmt.Errorf("customer phones and contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, position int
		var ct Contact
		if err := rows.Scan(&id, &kind, &position, &ct.ID, &ct.Name, &ct.Title, &ct.Phone, &ct.Email, &ct.Primary); err != nil {
			return fmt.Errorf("customer phones and contacts: %w", err)
		}
		if kind == 0 {
			byID[id].Phones = append(byID[id].Phones, ct.Phone)
		} else {
			byID[id].Contacts = append(byID[id].Contacts, ct)
		}
	}
	return rows.Err()
}
