package customers_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// Listeners hear of creations, updates and merges in the change's
// transaction; a listener's error undoes the change.
func TestListenersHearCreateUpdateMerge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var heard []string
		fail := false
		f.store.Listen(func(ctx context.Context, c customers.Customer, e customers.Event) error {
			if fail {
				return errors.New("listener refused")
			}
			heard = append(heard, e.Kind+":"+c.Name)
			if e.Kind == customers.EventUpdated && !slices.Contains(e.Fields, "tier") {
				t.Errorf("update fields %v", e.Fields)
			}
			return nil
		})
		a, err := f.store.Create(ctx, customers.Input{Name: str("陈一"), Phones: strs("13911113333")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Update(ctx, a.ID, customers.Input{Tier: str("vip")}); err != nil {
			t.Fatal(err)
		}
		b, _ := f.store.Create(ctx, customers.Input{Name: str("陈一"), Phones: strs("13911113333"), AllowDuplicate: true})
		if _, err := f.store.Merge(ctx, a.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"customer.created:陈一", "customer.updated:陈一", "customer.created:陈一", "customer.merged:陈一"}
		if !slices.Equal(heard, want) {
			t.Fatalf("heard %v, want %v", heard, want)
		}
		fail = true
		if _, err := f.store.Create(ctx, customers.Input{Name: str("不存在"), Email: str("refused@example.cn")}); err == nil {
			t.Fatal("a refused creation succeeded")
		}
		if ids, _ := f.store.IDsByEmail(ctx, "refused@example.cn"); len(ids) != 0 {
			t.Fatal(ids)
		}
		if _, err := f.store.Update(ctx, a.ID, customers.Input{Tier: str("normal")}); err == nil {
			t.Fatal("a refused update succeeded")
		}
		if got, _ := f.store.Get(ctx, f.manager, a.ID); got.Tier != "vip" {
			t.Fatalf("the refused update stayed: %s", got.Tier)
		}
	})
}
