package care

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/sla"
)

// stageExpr is the effective lifecycle stage (customers' own expression).
const stageExpr = `CASE WHEN lifecycle_override <> '' THEN lifecycle_override ELSE lifecycle END`

// needs says which of a customer's records the plans of a run read, so a
// run without product plans does not read products.
type needs struct{ products, contracts bool }

func needsOf(plans []Plan) needs {
	var n needs
	for _, p := range plans {
		switch p.Kind {
		case KindAfterPurchase, KindMaintenance, KindWarranty:
			n.products = true
		case KindContract:
			n.contracts = true
		}
		if len(p.Target.ProductIDs) > 0 || len(p.Target.Segments) > 0 {
			n.products = true
		}
	}
	return n
}

// loadBatch reads the next customers after id `after` (keyset by id), with
// their products and contracts as the plans need them. Merged and erased
// customers are skipped.
func (s *Store) loadBatch(ctx context.Context, after int64, limit int, n needs) ([]facts, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, type, tier, `+stageExpr+`, preferred_channel, birthday, lunar_birthday,
		cooperation_start, owner_id, tags, created_at FROM customers
		WHERE id > $1 AND merged_into IS NULL AND erased_at IS NULL ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("care batch: %w", err)
	}
	defer rows.Close()
	out := make([]facts, 0, limit)
	for rows.Next() {
		var f facts
		var owner sql.NullInt64
		var tags string
		var created time.Time
		if err := rows.Scan(&f.ID, &f.Type, &f.Tier, &f.Stage, &f.Preferred, &f.Birthday, &f.LunarBirthday,
			&f.CoopStart, &owner, &tags, &created); err != nil {
			return nil, err
		}
		f.OwnerID = owner.Int64
		if tags != "" && tags != "[]" {
			_ = json.Unmarshal([]byte(tags), &f.Tags)
		}
		f.Created = sla.DateOf(created.In(s.zone))
		out = append(out, f)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	lo, hi := out[0].ID, out[len(out)-1].ID
	index := make(map[int64]int, len(out))
	for i := range out {
		index[out[i].ID] = i
	}
	if n.products {
		if err := s.loadProducts(ctx, lo, hi, out, index); err != nil {
			return nil, err
		}
	}
	if n.contracts {
		if err := s.loadContracts(ctx, lo, hi, out, index); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) loadProducts(ctx context.Context, lo, hi int64, out []facts, index map[int64]int) error {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT cp.id, cp.customer_id, cp.product_id, cp.purchase_date, cp.warranty_end,
		p.maintenance_months FROM customer_products cp JOIN products p ON p.id = cp.product_id
		WHERE cp.customer_id BETWEEN $1 AND $2 ORDER BY cp.id`, lo, hi)
	if err != nil {
		return fmt.Errorf("care batch products: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o owned
		var cust int64
		var purchase, warranty string
		if err := rows.Scan(&o.ID, &cust, &o.ProductID, &purchase, &warranty, &o.MaintenanceMonths); err != nil {
			return err
		}
		i, ok := index[cust]
		if !ok {
			continue // merged or erased
		}
		o.Purchase, _ = sla.ParseDate(purchase)
		o.WarrantyEnd, _ = sla.ParseDate(warranty)
		out[i].Products = append(out[i].Products, o)
	}
	return rows.Err()
}

func (s *Store) loadContracts(ctx context.Context, lo, hi int64, out []facts, index map[int64]int) error {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, customer_id, ends_on FROM service_contracts
		WHERE customer_id BETWEEN $1 AND $2 ORDER BY id`, lo, hi)
	if err != nil {
		return fmt.Errorf("care batch contracts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c contract
		var cust int64
		var ends string
		if err := rows.Scan(&c.ID, &cust, &ends); err != nil {
			return err
		}
		if i, ok := index[cust]; ok {
			c.Ends, _ = sla.ParseDate(ends)
			out[i].Contracts = append(out[i].Contracts, c)
		}
	}
	return rows.Err()
}

// taskKey identifies a task as the unique constraint does.
type taskKey struct {
	plan, customer int64
	occasion       string
}

// existing reads the batch's tasks whose window has not closed by day:
// those the run need not insert again (the constraint would refuse them
// anyway; reading is cheaper than a refused insert).
func (s *Store) existing(ctx context.Context, lo, hi int64, day sla.Date) (map[taskKey]bool, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT plan_id, customer_id, occasion_key FROM care_tasks
		WHERE customer_id BETWEEN $1 AND $2 AND window_end >= $3`, lo, hi, day.String())
	if err != nil {
		return nil, fmt.Errorf("care batch tasks: %w", err)
	}
	defer rows.Close()
	out := map[taskKey]bool{}
	for rows.Next() {
		var k taskKey
		if err := rows.Scan(&k.plan, &k.customer, &k.occasion); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}
