package customers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/timeline"
)

// fieldsOf lists the audited fields of a customer.
func fieldsOf(c Customer) map[string]any {
	return map[string]any{
		"type": c.Type, "name": c.Name, "phones": strings.Join(c.Phones, ", "), "email": c.Email, "wechat": c.WeChat,
		"address": c.Address, "industry": c.Industry, "birthday": c.Birthday, "cooperation_start": c.CooperationStart,
		"preferred_channel": c.PreferredChannel, "preferred_time": c.PreferredTime, "owner_id": ownerArg(c.OwnerID),
		"tier": c.Tier, "tags": strings.Join(c.Tags, ", "), "remarks": c.Remarks, "custom": jsonText(c.Custom),
		"lifecycle_override": c.LifecycleOverride, "contacts": jsonText(c.Contacts),
	}
}

// Update changes a customer. A stale version fails with domain.ErrStale; a
// phone or email that another customer has fails with *DuplicateError
// unless in.AllowDuplicate.
func (s *Store) Update(ctx context.Context, id int64, in Input) (Customer, error) {
	return s.update(ctx, id, in, false)
}

// update is Update; masked says the caller saw phones masked (UpdateAs).
func (s *Store) update(ctx context.Context, id int64, in Input, masked bool) (Customer, error) {
	if in.Number != nil {
		return Customer{}, domain.Invalid("number", "validation.read_only", nil)
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		before, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		if before.Erased {
			return domain.Invalid("id", "validation.erased", nil)
		}
		if in.Version != nil && *in.Version != 0 && *in.Version != before.Version {
			return fmt.Errorf("customer %d: %w", id, domain.ErrStale)
		}
		if masked {
			keepHidden(&in, before)
		}
		keepMasked(before, &in)
		after := before
		after.Phones = slices.Clone(before.Phones)
		if err := in.apply(&after, s.clock.Now()); err != nil {
			return err
		}
		if err := s.checkOwner(ctx, after.OwnerID); err != nil {
			return err
		}
		if in.Custom != nil {
			if after.Custom, err = s.checkCustom(ctx, after.Custom); err != nil {
				return err
			}
		}
		// A duplicate already on file was accepted when it was saved: only a
		// change of phones or email asks again, or every later edit of such a
		// customer (a tier, a remark) would be refused.
		contactChanged := !slices.Equal(after.Phones, before.Phones) || after.Email != before.Email
		if !in.AllowDuplicate && contactChanged {
			if err := s.checkDuplicate(ctx, id, after); err != nil {
				return err
			}
		}
		changes := audit.Diff(fieldsOf(before), fieldsOf(after))
		if len(changes) == 0 {
			return nil
		}
		keys := NameSearchKeys(after.Name)
		_, err = s.db.Q(ctx).ExecContext(ctx, `UPDATE customers SET type = $1, name = $2, name_pinyin = $3, name_initials = $4,
			name_pinyin_alt = $21, name_initials_alt = $22, email = $5, wechat = $6, address = $7, industry = $8, birthday = $9, cooperation_start = $10, preferred_channel = $11,
			preferred_time = $12, owner_id = $13, tier = $14, tags = $15, remarks = $16, custom = $17, lifecycle_override = $18,
			version = version + 1, updated_at = $19 WHERE id = $20`,
			after.Type, after.Name, keys.Full, keys.Initials, after.Email, after.WeChat, after.Address, after.Industry,
			after.Birthday, after.CooperationStart, after.PreferredChannel, after.PreferredTime, ownerArg(after.OwnerID), after.Tier,
			jsonText(after.Tags), after.Remarks, jsonText(after.Custom), after.LifecycleOverride, db.Now(s.clock.Now()), id,
			keys.AltFull, keys.AltInitials)
		if err != nil {
			return err
		}
		if after.Name != before.Name {
			if err := s.indexName(ctx, id, after.Name); err != nil {
				return err
			}
		}
		_, phonesChanged := changes["phones"]
		_, contactsChanged := changes["contacts"]
		if phonesChanged || contactsChanged {
			if err := s.writeChildren(ctx, after); err != nil {
				return err
			}
		}
		action := "customer.update"
		if _, ok := changes["lifecycle_override"]; ok {
			action = "customer.lifecycle_override"
		}
		if err := s.audit.Record(ctx, action, "customer", fmt.Sprint(id), changes); err != nil {
			return err
		}
		fields := make([]string, 0, len(changes))
		for k := range changes {
			fields = append(fields, k)
		}
		slices.Sort(fields)
		if err := s.timeline.Append(ctx, timeline.Event{CustomerID: id, Kind: "customer.updated", Key: "timeline.customer_updated",
			Params: map[string]any{"Fields": strings.Join(fields, ", ")}, Entity: "customer", EntityID: fmt.Sprint(id)}); err != nil {
			return err
		}
		return s.emit(ctx, EventUpdated, id, fields)
	})
	if err != nil {
		return Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return s.get(ctx, id)
}
