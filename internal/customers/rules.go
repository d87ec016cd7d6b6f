package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Limits of the admin-set rules.
const (
	MaxRuleDays     = 3650 // ten years
	MaxRuleProducts = 1000
)

// RulesCacheTTL is how long a Store trusts the rules it read without looking
// at the database again. A Store sees its own SetRules at once; a change made
// by another process (a second server on the same PostgreSQL) is seen within
// RulesCacheTTL.
const RulesCacheTTL = 5 * time.Second

// Rules are the admin-set rules of value segments and lifecycle stages
// (table customer_rules, one row). Version guards concurrent edits.
type Rules struct {
	OldAfterDays      int        `json:"old_after_days"`      // cooperating this many days or more: "old"
	HighValueProducts int        `json:"high_value_products"` // owning this many products or more: "high_value"
	NewForDays        int        `json:"new_for_days"`        // a first purchase under this many days ago: lifecycle "new"
	ActiveForDays     int        `json:"active_for_days"`     // a purchase under this many days ago: "active", else "churned"
	Version           int        `json:"version"`
	UpdatedAt         *time.Time `json:"updated_at,omitempty"` // nil until an administrator first saves
	UpdatedBy         string     `json:"updated_by,omitempty"` // the actor label of the last change
}

// DefaultRules are the shipped rules, the same as DefaultSegments and
// DefaultLifecycle (and the row seeded by migration 00006). Rules answers
// them, with version 0, if that row is missing.
var DefaultRules = Rules{OldAfterDays: 365, HighValueProducts: 3, NewForDays: 90, ActiveForDays: 365}

// Segments returns the value-segment rules.
func (r Rules) Segments() SegmentRules {
	return SegmentRules{OldAfter: days(r.OldAfterDays), HighValueProducts: r.HighValueProducts}
}

// Lifecycle returns the lifecycle-stage rules.
func (r Rules) Lifecycle() LifecycleRules {
	return LifecycleRules{NewFor: days(r.NewForDays), ActiveFor: days(r.ActiveForDays)}
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// RulesInput replaces every rule (PUT /api/v1/customer-rules); a missing
// one is a validation error. Version is the version read (If-Match); nil or
// 0 does not check.
type RulesInput struct {
	OldAfterDays      *int `json:"old_after_days"`
	HighValueProducts *int `json:"high_value_products"`
	NewForDays        *int `json:"new_for_days"`
	ActiveForDays     *int `json:"active_for_days"`
	Version           *int `json:"version,omitempty"`
}

// check validates in: every field present and in range, and a customer
// stays "active" longer than "new" (else a customer whose only purchase
// ages out of "new" would skip "active" and churn at once, while one who
// bought twice would churn sooner than one who bought once).
func (in RulesInput) check() (Rules, error) {
	v := &domain.ValidationError{}
	get := func(field string, p *int, max int) int {
		switch {
		case p == nil:
			v.Add(field, "validation.required", nil)
		case *p < 1 || *p > max:
			v.Add(field, "validation.range", map[string]any{"Min": 1, "Max": max})
		default:
			return *p
		}
		return 0
	}
	r := Rules{
		OldAfterDays:      get("old_after_days", in.OldAfterDays, MaxRuleDays),
		HighValueProducts: get("high_value_products", in.HighValueProducts, MaxRuleProducts),
		NewForDays:        get("new_for_days", in.NewForDays, MaxRuleDays),
		ActiveForDays:     get("active_for_days", in.ActiveForDays, MaxRuleDays),
	}
	if r.NewForDays > 0 && r.ActiveForDays > 0 && r.ActiveForDays <= r.NewForDays {
		v.Add("active_for_days", "validation.active_after_new", map[string]any{"NewFor": r.NewForDays})
	}
	return r, v.Err()
}

// rulesCache holds the last rules read outside a transaction. Its zero
// value is empty.
type rulesCache struct {
	restage RestageQueue // set by the composition root when jobs run
	mu      sync.Mutex
	val     Rules
	ok      bool
	checked time.Time // clock time of the read
	gen     uint64    // bumped by every SetRules, so a slow read cannot put back old rules
}

// Rules returns the segment and lifecycle rules in force, from a cache of
// at most RulesCacheTTL (see there).
func (s *Store) Rules(ctx context.Context) (Rules, error) {
	now := s.clock.Now()
	c := &s.rules
	c.mu.Lock()
	if c.ok && !now.Before(c.checked) && now.Sub(c.checked) < RulesCacheTTL {
		r := c.val
		c.mu.Unlock()
		return r, nil
	}
	gen := c.gen
	c.mu.Unlock()
	r, err := s.readRules(ctx, false)
	if err != nil {
		return Rules{}, err
	}
	// What a transaction reads may still roll back: do not keep it.
	if !db.InTx(ctx) {
		c.mu.Lock()
		if c.gen == gen {
			c.val, c.ok, c.checked = r, true, now
		}
		c.mu.Unlock()
	}
	return r, nil
}

// forgetRules empties the cache.
func (s *Store) forgetRules() {
	s.rules.mu.Lock()
	s.rules.ok = false
	s.rules.gen++
	s.rules.mu.Unlock()
}

// readRules reads the row; lock (inside a transaction) holds it against
// concurrent writers until the transaction ends: FOR UPDATE on PostgreSQL,
// the single writer on SQLite.
func (s *Store) readRules(ctx context.Context, lock bool) (Rules, error) {
	q := `SELECT old_after_days, high_value_products, new_for_days, active_for_days, version, updated_at, updated_by_label
		FROM customer_rules WHERE id = 1`
	if lock && s.db.Dialect == db.Postgres {
		q += ` FOR UPDATE`
	}
	var r Rules
	var at sql.NullTime
	err := s.db.RQ(ctx).QueryRowContext(ctx, q).Scan(&r.OldAfterDays, &r.HighValueProducts, &r.NewForDays, &r.ActiveForDays,
		&r.Version, &at, &r.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRules, nil
	}
	if err != nil {
		return Rules{}, fmt.Errorf("customer rules: %w", err)
	}
	if at.Valid {
		t := at.Time.UTC()
		r.UpdatedAt = &t
	}
	return r, nil
}

// RestageQueue enqueues a background pass of the lifecycle rules over every
// customer (ApplyLifecycleRules); the composition root sets it with
// SetRestageQueue when background jobs run.
type RestageQueue func(ctx context.Context) error

// SetRestageQueue makes SetRules leave the recomputation of stages to a
// background job through q instead of doing it before it returns.
func (s *Store) SetRestageQueue(q RestageQueue) {
	s.rules.mu.Lock()
	s.rules.restage = q
	s.rules.mu.Unlock()
}

// SetRules replaces the rules, audited in the same transaction. A version
// other than the current one is domain.ErrStale; invalid rules are a
// *domain.ValidationError and change nothing. Saving the rules in force
// changes nothing (no new version, no audit entry).
//
// When the lifecycle rules change, every customer's stage is recomputed
// after the save: by a background job when jobs run (SetRestageQueue),
// else before SetRules returns. Not in the save's transaction: at 1,000,000
// customers a change that moves most of them takes minutes on PostgreSQL
// and would hold SQLite's only writer all that time; ApplyLifecycleRules
// works in batches instead.
func (s *Store) SetRules(ctx context.Context, in RulesInput) (Rules, error) {
	next, err := in.check()
	if err != nil {
		return Rules{}, err
	}
	restage := false
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.readRules(ctx, true)
		if err != nil {
			return err
		}
		if in.Version != nil && *in.Version != 0 && *in.Version != cur.Version {
			return fmt.Errorf("customer rules version %d, not %d: %w", cur.Version, *in.Version, domain.ErrStale)
		}
		changes := audit.Diff(cur.values(), next.values())
		if len(changes) == 0 {
			return nil
		}
		if err := s.writeRules(ctx, cur, next); err != nil {
			return err
		}
		restage = cur.NewForDays != next.NewForDays || cur.ActiveForDays != next.ActiveForDays
		return s.audit.Record(ctx, "customer_rules.update", "customer_rules", "1", changes)
	})
	s.forgetRules()
	if err != nil {
		return Rules{}, fmt.Errorf("set customer rules: %w", err)
	}
	if restage {
		s.rules.mu.Lock()
		queue := s.rules.restage
		s.rules.mu.Unlock()
		// Without a queue, or when it fails, the stages follow now; the
		// rules are saved either way, and the daily job re-applies them.
		if queue == nil || queue(ctx) != nil {
			if _, err := s.ApplyLifecycleRules(ctx); err != nil {
				return Rules{}, fmt.Errorf("set customer rules: %w", err)
			}
		}
	}
	return s.readRules(ctx, false)
}

// values are the rules as audit.Diff compares them.
func (r Rules) values() map[string]any {
	return map[string]any{"old_after_days": r.OldAfterDays, "high_value_products": r.HighValueProducts,
		"new_for_days": r.NewForDays, "active_for_days": r.ActiveForDays}
}

// writeRules stores next over cur, guarded by cur's version (the row is
// created if it was missing).
func (s *Store) writeRules(ctx context.Context, cur, next Rules) error {
	a := audit.ActorFrom(ctx)
	var by any
	if a.UserID != 0 {
		by = a.UserID
	}
	now := db.Now(s.clock.Now())
	q := `UPDATE customer_rules SET old_after_days = $1, high_value_products = $2, new_for_days = $3, active_for_days = $4,
		version = version + 1, updated_at = $5, updated_by = $6, updated_by_label = $7 WHERE id = 1 AND version = $8`
	if cur.Version == 0 {
		q = `INSERT INTO customer_rules (id, old_after_days, high_value_products, new_for_days, active_for_days,
			version, updated_at, updated_by, updated_by_label) VALUES (1, $1, $2, $3, $4, 1, $5, $6, $7)
			ON CONFLICT (id) DO NOTHING`
	}
	args := []any{next.OldAfterDays, next.HighValueProducts, next.NewForDays, next.ActiveForDays, now, by, a.Label}
	if cur.Version != 0 {
		args = append(args, cur.Version)
	}
	res, err := s.db.Q(ctx).ExecContext(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("customer rules changed meanwhile: %w", domain.ErrStale)
	}
	return nil
}

// restageBatch is how many customer ids one transaction of
// ApplyLifecycleRules covers: a few tens of milliseconds of SQLite's single
// writer, so other writes get their turn in between.
var restageBatch int64 = 20000

// ApplyLifecycleRules re-applies the stored lifecycle rules to every live
// customer (the daily job, and the pass after a change of rules), batch by
// batch of ids. Each batch reads the rules holding their row, so a
// concurrent SetRules waits for the batch, and the pass it triggers comes
// after. It returns how many customers changed stage.
func (s *Store) ApplyLifecycleRules(ctx context.Context) (int64, error) {
	var top, total int64
	if err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM customers`).Scan(&top); err != nil {
		return 0, fmt.Errorf("apply lifecycle rules: %w", err)
	}
	for lo := int64(0); lo < top; lo += restageBatch {
		err := s.db.WithTx(ctx, func(ctx context.Context) error {
			r, err := s.readRules(ctx, true)
			if err != nil {
				return err
			}
			n, err := s.refreshLifecycles(ctx, r.Lifecycle(), lo, lo+restageBatch)
			total += n
			return err
		})
		if err != nil {
			return total, fmt.Errorf("apply lifecycle rules: %w", err)
		}
	}
	return total, nil
}
