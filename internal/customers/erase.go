package customers

import (
	"context"
	"fmt"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/timeline"
)

// Erase anonymises a customer on request (PIPL): personal fields, phones,
// contacts and consents go; the number, type, tier, products, contracts and
// the timeline's kinds and times stay, so statistics and tickets keep
// counting without identity. It cannot be undone.
func (s *Store) Erase(ctx context.Context, id int64) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		if c.Erased {
			return nil
		}
		q := s.db.Q(ctx)
		_, err = q.ExecContext(ctx, `UPDATE customers SET name = $1, name_pinyin = '', name_initials = '', name_pinyin_alt = '',
			name_initials_alt = '', email = '', wechat = '', address = '', birthday = '', lunar_birthday = '', preferred_time = '',
			remarks = '', custom = '{}', tags = '[]', erased_at = $2, version = version + 1, updated_at = $2 WHERE id = $3`,
			"#"+c.Number, db.Now(s.clock.Now()), id)
		if err != nil {
			return err
		}
		// Not found by the old name any more (nor by the placeholder).
		if err := nameIndex.Delete(ctx, s.db, id); err != nil {
			return err
		}
		for _, stmt := range []string{`DELETE FROM customer_phones WHERE customer_id = $1`, `DELETE FROM customer_contacts WHERE customer_id = $1`,
			`DELETE FROM customer_consents WHERE customer_id = $1`, `UPDATE customer_products SET install_address = '' WHERE customer_id = $1`,
			// Portal accounts hold an address and a phone; their links,
			// codes, sessions and tokens go with them (ON DELETE CASCADE).
			`DELETE FROM portal_accounts WHERE customer_id = $1`} {
			if _, err := q.ExecContext(ctx, stmt, id); err != nil {
				return err
			}
		}
		if err := s.timeline.Anonymize(ctx, id); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "customer.erase", "customer", fmt.Sprint(id), map[string]audit.Change{"number": {Before: c.Number}}); err != nil {
			return err
		}
		return s.timeline.Append(ctx, timeline.Event{CustomerID: id, Kind: "customer.erased", Key: "timeline.customer_erased", Entity: "customer", EntityID: fmt.Sprint(id)})
	})
}
