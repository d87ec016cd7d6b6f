package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/timeline"
)

// MovedError says a customer was merged into another one.
type MovedError struct{ To int64 }

func (e *MovedError) Error() string { return fmt.Sprintf("customer merged into %d", e.To) }

// Unwrap keeps a merged customer "not found" for callers that do not follow.
func (e *MovedError) Unwrap() error { return domain.ErrNotFound }

// movedTo tells where a merged customer went (0 when it was not merged).
func (s *Store) movedTo(ctx context.Context, id int64) (int64, error) {
	var to sql.NullInt64
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT merged_into FROM customers WHERE id = $1`, id).Scan(&to)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return to.Int64, err
}

// Merge moves everything of customer gone into customer keep: phones,
// contacts, products, contracts, consents and history; fields keep lacks are
// filled from gone. Gone stays as a tombstone whose number redirects to
// keep, so old references and searches still find the customer.
func (s *Store) Merge(ctx context.Context, keep, gone int64) (Customer, error) {
	if keep == gone {
		return Customer{}, domain.Invalid("from", "validation.merge_self", nil)
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		k, err := s.get(ctx, keep)
		if err != nil {
			return err
		}
		g, err := s.get(ctx, gone)
		if err != nil {
			return domain.Invalid("from", "validation.merge_unknown", map[string]any{"Value": gone})
		}
		if k.Erased || g.Erased {
			return domain.Invalid("from", "validation.erased", nil)
		}
		before := fieldsOf(k)
		merged := k
		for _, p := range g.Phones {
			if !slices.Contains(merged.Phones, p) {
				merged.Phones = append(merged.Phones, p)
			}
		}
		for _, c := range g.Contacts {
			c.Primary = c.Primary && len(k.Contacts) == 0
			merged.Contacts = append(merged.Contacts, c)
		}
		for _, f := range []struct{ dst, src *string }{
			{&merged.Email, &g.Email}, {&merged.WeChat, &g.WeChat}, {&merged.Address, &g.Address}, {&merged.Industry, &g.Industry},
			{&merged.Birthday, &g.Birthday}, {&merged.CooperationStart, &g.CooperationStart}, {&merged.PreferredChannel, &g.PreferredChannel},
			{&merged.PreferredTime, &g.PreferredTime},
		} {
			if *f.dst == "" {
				*f.dst = *f.src
			}
		}
		// The older cooperation start is the true one.
		if g.CooperationStart != "" && g.CooperationStart < merged.CooperationStart {
			merged.CooperationStart = g.CooperationStart
		}
		for _, t := range g.Tags {
			if !slices.Contains(merged.Tags, t) {
				merged.Tags = append(merged.Tags, t)
			}
		}
		if g.Remarks != "" {
			if merged.Remarks != "" {
				merged.Remarks += "\n"
			}
			merged.Remarks += g.Remarks
		}
		if k.OwnerID == nil {
			merged.OwnerID = g.OwnerID
		}
		if tierRank(g.Tier) < tierRank(merged.Tier) {
			merged.Tier = g.Tier
		}
		q := s.db.Q(ctx)
		now := db.Now(s.clock.Now())
		_, err = q.ExecContext(ctx, `UPDATE customers SET email = $1, wechat = $2, address = $3, industry = $4, birthday = $5,
			cooperation_start = $6, preferred_channel = $7, preferred_time = $8, tags = $9, remarks = $10, owner_id = $11, tier = $12,
			version = version + 1, updated_at = $13 WHERE id = $14`,
			merged.Email, merged.WeChat, merged.Address, merged.Industry, merged.Birthday, merged.CooperationStart, merged.PreferredChannel,
			merged.PreferredTime, jsonText(merged.Tags), merged.Remarks, ownerArg(merged.OwnerID), merged.Tier, now, keep)
		if err != nil {
			return err
		}
		if err := s.writeChildren(ctx, merged); err != nil {
			return err
		}
		for _, stmt := range []string{
			`UPDATE customer_products SET customer_id = $1 WHERE customer_id = $2`,
			`UPDATE service_contracts SET customer_id = $1 WHERE customer_id = $2`,
			`INSERT INTO customer_consents (customer_id, channel, opted_out, at, source)
				SELECT $1, channel, opted_out, at, source FROM customer_consents WHERE customer_id = $2
				ON CONFLICT (customer_id, channel) DO NOTHING`,
			`UPDATE customer_number_redirects SET customer_id = $1 WHERE customer_id = $2`,
			// The merged customer's portal sign-ins now open the kept one.
			`UPDATE portal_accounts SET customer_id = $1 WHERE customer_id = $2`,
		} {
			if _, err := q.ExecContext(ctx, stmt, keep, gone); err != nil {
				return fmt.Errorf("merge: %w", err)
			}
		}
		for _, stmt := range []string{
			`DELETE FROM customer_consents WHERE customer_id = $1`,
			`DELETE FROM customer_phones WHERE customer_id = $1`,
			`DELETE FROM customer_contacts WHERE customer_id = $1`,
		} {
			if _, err := q.ExecContext(ctx, stmt, gone); err != nil {
				return fmt.Errorf("merge: %w", err)
			}
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO customer_number_redirects (number, customer_id) VALUES ($1, $2)`, g.Number, keep); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if _, err := q.ExecContext(ctx, `UPDATE customers SET merged_into = $1, version = version + 1, updated_at = $2 WHERE id = $3`, keep, now, gone); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		// The merged customer is found as the one kept, by the kept name.
		if err := nameIndex.Delete(ctx, s.db, gone); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if err := s.timeline.Move(ctx, gone, keep); err != nil {
			return err
		}
		// The kept customer's last contact is the later of the two.
		if _, err := q.ExecContext(ctx, `UPDATE customers SET last_contact_at = (SELECT last_contact_at FROM customers WHERE id = $1)
			WHERE id = $2 AND (SELECT last_contact_at FROM customers WHERE id = $1) IS NOT NULL
			AND (last_contact_at IS NULL OR last_contact_at < (SELECT last_contact_at FROM customers WHERE id = $1))`, gone, keep); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		if err := s.refreshLifecycle(ctx, keep); err != nil {
			return err
		}
		changes := audit.Diff(before, fieldsOf(merged))
		changes["merged_from"] = audit.Change{After: g.Number}
		if err := s.audit.Record(ctx, "customer.merge", "customer", fmt.Sprint(keep), changes); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "customer.merged_away", "customer", fmt.Sprint(gone), map[string]audit.Change{"merged_into": {After: k.Number}}); err != nil {
			return err
		}
		if err := s.timeline.Append(ctx, timeline.Event{CustomerID: keep, Kind: "customer.merged", Key: "timeline.customer_merged",
			Params: map[string]any{"Number": g.Number}, Entity: "customer", EntityID: fmt.Sprint(keep)}); err != nil {
			return err
		}
		return s.emit(ctx, EventMerged, keep, []string{"merged_from:" + g.Number})
	})
	if err != nil {
		return Customer{}, fmt.Errorf("merge customers: %w", err)
	}
	return s.get(ctx, keep)
}

// tierRank orders tiers from most to least valuable.
func tierRank(t string) int { return slices.Index(Tiers, t) }
