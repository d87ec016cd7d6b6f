package customers_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

func TestMergeMovesEverythingAndRedirects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		keep, _ := f.store.Create(ctx, customers.Input{Name: str("刘洋"), Phones: strs("13911112222"), Tier: str("normal")})
		gone, _ := f.store.Create(ctx, customers.Input{Name: str("刘洋"), Phones: strs("13911112222", "021-61234567"), Email: str("ly@example.com"),
			Tier: str("vip"), CooperationStart: str("2020-01-01"), AllowDuplicate: true})
		cat := customers.NewCatalog(d, f.clock, f.audit)
		pw := 24
		prod, _ := cat.Create(ctx, customers.ProductInput{Name: str("净水器"), WarrantyMonths: &pw})
		if _, err := f.store.AddOwned(ctx, gone.ID, customers.OwnedInput{ProductID: prod.ID, Serial: "SN-9", PurchaseDate: "2024-05-01"}); err != nil {
			t.Fatal(err)
		}
		if err := f.store.SetConsent(ctx, gone.ID, "sms", true, "phone"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Merge(ctx, keep.ID, keep.ID); err == nil {
			t.Fatal("merged a customer into itself")
		}
		m, err := f.store.Merge(ctx, keep.ID, gone.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Phones) != 2 || m.Email != "ly@example.com" || m.Tier != "vip" || m.CooperationStart != "2020-01-01" {
			t.Fatalf("merged = %+v", m)
		}
		owned, _ := f.store.ListOwned(ctx, keep.ID)
		if len(owned) != 1 || owned[0].Serial != "SN-9" {
			t.Fatalf("products did not move: %+v", owned)
		}
		if ok, _ := f.store.MayContact(ctx, keep.ID, "sms"); ok {
			t.Fatal("the opt-out did not move")
		}
		// The old id says where it went; the old number finds the keeper.
		var moved *customers.MovedError
		if _, err := f.store.Get(ctx, f.manager, gone.ID); !errors.As(err, &moved) || moved.To != keep.ID {
			t.Fatalf("old id: %v", err)
		}
		p, _ := f.store.Search(ctx, f.manager, customers.Filter{Q: gone.Number})
		if len(p.Items) != 1 || p.Items[0].ID != keep.ID {
			t.Fatalf("old number search: %+v", p.Items)
		}
		p, _ = f.store.Search(ctx, f.manager, customers.Filter{Q: "2222"})
		if len(p.Items) != 1 {
			t.Fatalf("the tombstone still shows in search: %d results", len(p.Items))
		}
		events, _ := f.timeline.List(ctx, keep.ID, nil, 50, "")
		kinds := map[string]int{}
		for _, e := range events.Items {
			kinds[e.Kind]++
		}
		if kinds["customer.created"] != 2 || kinds["customer.merged"] != 1 || kinds["customer.product_added"] != 1 {
			t.Fatalf("timeline after merge: %v", kinds)
		}
		log, _ := f.audit.List(ctx, audit.Filter{Action: "customer.merge"})
		if len(log.Entries) != 2 {
			t.Fatalf("merge audit: %+v", log.Entries)
		}
		if _, err := f.store.Merge(ctx, keep.ID, gone.ID); err == nil {
			t.Fatal("merged a tombstone again")
		}
	})
}

func TestConsentCustomFieldsAndSegments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c, _ := f.store.Create(ctx, customers.Input{Name: str("陈静")})
		if ok, _ := f.store.MayContact(ctx, c.ID, "wechat"); !ok {
			t.Fatal("no consent recorded should allow contact")
		}
		if err := f.store.SetConsent(ctx, c.ID, "wechat", true, "电话告知"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.store.MayContact(ctx, c.ID, "wechat"); ok {
			t.Fatal("contact allowed after opt-out")
		}
		if ok, _ := f.store.MayContact(ctx, c.ID, "email"); !ok {
			t.Fatal("another channel was blocked")
		}
		if err := f.store.SetConsent(ctx, c.ID, "pigeon", true, ""); err == nil {
			t.Fatal("unknown channel accepted")
		}
		unsub := "unsubscribed"
		if _, err := f.store.Update(ctx, c.ID, customers.Input{LifecycleOverride: &unsub}); err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.store.MayContact(ctx, c.ID, "email"); ok {
			t.Fatal("an unsubscribed customer may be contacted")
		}
		// Custom fields.
		if _, err := f.store.CreateField(ctx, customers.CustomField{Key: "water_hardness", LabelZH: "水质硬度", LabelEN: "Water hardness", Type: "choice", Choices: []string{"软", "中", "硬"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.CreateField(ctx, customers.CustomField{Key: "household", LabelZH: "家庭人数", LabelEN: "Household size", Type: "number"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.CreateField(ctx, customers.CustomField{Key: "Bad Key", LabelZH: "x", LabelEN: "x", Type: "text"}); err == nil {
			t.Fatal("bad key accepted")
		}
		ok := map[string]any{"water_hardness": "硬", "household": "4"}
		got, err := f.store.Update(ctx, c.ID, customers.Input{Custom: &ok})
		if err != nil || got.Custom["household"] != 4.0 || got.Custom["water_hardness"] != "硬" {
			t.Fatalf("custom values: %+v %v", got.Custom, err)
		}
		for _, bad := range []map[string]any{{"water_hardness": "超硬"}, {"household": "four"}, {"nonsense": "x"}} {
			if _, err := f.store.Update(ctx, c.ID, customers.Input{Custom: &bad}); err == nil {
				t.Fatalf("custom %v accepted", bad)
			}
		}
		// Segments follow cooperation time and value.
		now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		seg := customers.DefaultSegments
		if s := seg.ValueSegments(customers.Customer{CooperationStart: "2025-01-01", Tier: "normal"}, 0, now); len(s) != 1 || s[0] != "old" {
			t.Fatalf("old customer: %v", s)
		}
		if s := seg.ValueSegments(customers.Customer{CooperationStart: "2026-03-01", Tier: "vip"}, 0, now); len(s) != 2 || s[0] != "new" || s[1] != "high_value" {
			t.Fatalf("new VIP: %v", s)
		}
		if s := seg.ValueSegments(customers.Customer{CreatedAt: now.AddDate(0, -2, 0)}, 3, now); s[len(s)-1] != "high_value" {
			t.Fatalf("three products: %v", s)
		}
	})
}
