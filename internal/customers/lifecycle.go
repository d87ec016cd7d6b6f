package customers

import (
	"context"
	"fmt"
	"time"
)

// LifecycleRules turn purchase history into a lifecycle stage. Stages move
// with time too, so a periodic job re-applies them; an override set by
// staff (audited) always wins over the computed stage.
type LifecycleRules struct {
	NewFor    time.Duration // a first purchase this recent makes a customer "new"
	ActiveFor time.Duration // a purchase this recent keeps them "active"; older means "churned"
}

// DefaultLifecycle: new for 90 days after the first purchase, active while
// the last purchase is under a year old.
var DefaultLifecycle = LifecycleRules{NewFor: 90 * 24 * time.Hour, ActiveFor: 365 * 24 * time.Hour}

// Stage computes the stage from the first and last purchase dates
// (YYYY-MM-DD, empty when none) at now.
func (lr LifecycleRules) Stage(first, last string, now time.Time) string {
	if first == "" {
		return "potential"
	}
	f, err1 := time.ParseInLocation("2006-01-02", first, BusinessZone)
	l, err2 := time.ParseInLocation("2006-01-02", last, BusinessZone)
	if err1 != nil || err2 != nil {
		return "potential"
	}
	switch {
	case now.Sub(f) < lr.NewFor:
		return "new"
	case now.Sub(l) < lr.ActiveFor:
		return "active"
	}
	return "churned"
}

// refreshLifecycle recomputes a customer's stage from their purchases.
func (s *Store) refreshLifecycle(ctx context.Context, id int64) error {
	var first, last *string
	if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT MIN(purchase_date), MAX(purchase_date) FROM customer_products WHERE customer_id = $1`, id).
		Scan(&first, &last); err != nil {
		return fmt.Errorf("lifecycle: %w", err)
	}
	f, l := "", ""
	if first != nil && last != nil {
		f, l = *first, *last
	}
	stage := DefaultLifecycle.Stage(f, l, s.clock.Now())
	if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE customers SET lifecycle = $1 WHERE id = $2 AND lifecycle <> $1`, stage, id); err != nil {
		return fmt.Errorf("lifecycle: %w", err)
	}
	return nil
}

// RefreshLifecycles re-applies the lifecycle rules to every live customer
// (stages move with time: "new" becomes "active", silence becomes
// "churned"). Dates are compared as YYYY-MM-DD text, so one statement
// serves both databases. It returns how many customers changed stage.
func (s *Store) RefreshLifecycles(ctx context.Context, lr LifecycleRules) (int64, error) {
	now := s.clock.Now().In(BusinessZone)
	newCut := now.Add(-lr.NewFor).Format("2006-01-02")
	activeCut := now.Add(-lr.ActiveFor).Format("2006-01-02")
	stage := `CASE
		WHEN NOT EXISTS (SELECT 1 FROM customer_products p WHERE p.customer_id = customers.id) THEN 'potential'
		WHEN (SELECT MIN(p.purchase_date) FROM customer_products p WHERE p.customer_id = customers.id) > $1 THEN 'new'
		WHEN (SELECT MAX(p.purchase_date) FROM customer_products p WHERE p.customer_id = customers.id) > $2 THEN 'active'
		ELSE 'churned' END`
	res, err := s.db.W.ExecContext(ctx, `UPDATE customers SET lifecycle = `+stage+`
		WHERE merged_into IS NULL AND erased_at IS NULL AND lifecycle <> `+stage, newCut, activeCut)
	if err != nil {
		return 0, fmt.Errorf("refresh lifecycles: %w", err)
	}
	return res.RowsAffected()
}
