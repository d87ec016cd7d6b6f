package customers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
)

func ip(n int) *int { return &n }

// rulesIn builds a complete RulesInput.
func rulesIn(oldAfter, products, newFor, activeFor int) customers.RulesInput {
	return customers.RulesInput{OldAfterDays: ip(oldAfter), HighValueProducts: ip(products), NewForDays: ip(newFor), ActiveForDays: ip(activeFor)}
}

func rulesAudit(t *testing.T, f fixture) []audit.Entry {
	t.Helper()
	page, err := f.audit.List(context.Background(), audit.Filter{Entity: "customer_rules"})
	if err != nil {
		t.Fatal(err)
	}
	return page.Entries
}

func TestRulesDefaultsSetValidateAndAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		actx := audit.WithActor(ctx, audit.Actor{UserID: f.manager.UserID, Label: "manager@example.com"})
		r, err := f.store.Rules(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.OldAfterDays != 365 || r.HighValueProducts != 3 || r.NewForDays != 90 || r.ActiveForDays != 365 || r.Version != 1 || r.UpdatedAt != nil {
			t.Fatalf("defaults = %+v", r)
		}
		if r.Segments() != customers.DefaultSegments || r.Lifecycle() != customers.DefaultLifecycle {
			t.Fatalf("the seeded row differs from the code defaults: %+v", r)
		}

		// Invalid input: every bad field named, nothing written.
		for _, c := range []struct {
			name   string
			in     customers.RulesInput
			fields []string
			key    string
		}{
			{"missing", customers.RulesInput{OldAfterDays: ip(100)}, []string{"high_value_products", "new_for_days", "active_for_days"}, "validation.required"},
			{"zero days", rulesIn(0, 3, 90, 365), []string{"old_after_days"}, "validation.range"},
			{"too many days", rulesIn(365, 3, 90, 3651), []string{"active_for_days"}, "validation.range"},
			{"negative products", rulesIn(365, -1, 90, 365), []string{"high_value_products"}, "validation.range"},
			{"too many products", rulesIn(365, 1001, 90, 365), []string{"high_value_products"}, "validation.range"},
			{"active not after new", rulesIn(365, 3, 200, 200), []string{"active_for_days"}, "validation.active_after_new"},
		} {
			_, err := f.store.SetRules(actx, c.in)
			var ve *domain.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) != len(c.fields) {
				t.Errorf("%s: %v, want fields %v", c.name, err, c.fields)
				continue
			}
			for i, fe := range ve.Fields {
				if fe.Field != c.fields[i] || fe.Key != c.key {
					t.Errorf("%s: field %d = %s %s, want %s %s", c.name, i, fe.Field, fe.Key, c.fields[i], c.key)
				}
			}
		}
		if got, _ := f.store.Rules(ctx); got.Version != 1 || got.OldAfterDays != 365 || got.ActiveForDays != 365 {
			t.Fatalf("refused input changed the rules: %+v", got)
		}
		if n := len(rulesAudit(t, f)); n != 0 {
			t.Fatalf("%d audit entries after refused input", n)
		}

		// A valid change: seen at once by the same store (the cache was
		// primed above), versioned, audited with who and what.
		f.clock.Advance(time.Minute)
		in := rulesIn(180, 5, 90, 365)
		in.Version = ip(1)
		saved, err := f.store.SetRules(actx, in)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Version != 2 || saved.OldAfterDays != 180 || saved.HighValueProducts != 5 || saved.UpdatedBy != "manager@example.com" ||
			saved.UpdatedAt == nil || !saved.UpdatedAt.Equal(db.Now(f.clock.Now())) {
			t.Fatalf("saved = %+v", saved)
		}
		if got, _ := f.store.Rules(ctx); got.OldAfterDays != 180 || got.HighValueProducts != 5 || got.Version != 2 {
			t.Fatalf("the store did not see its own change: %+v", got)
		}
		entries := rulesAudit(t, f)
		if len(entries) != 1 {
			t.Fatalf("audit = %+v", entries)
		}
		e := entries[0]
		if e.Action != "customer_rules.update" || e.ActorLabel != "manager@example.com" || e.ActorID != f.manager.UserID ||
			fmt.Sprint(e.Changes["old_after_days"].Before) != "365" || fmt.Sprint(e.Changes["old_after_days"].After) != "180" ||
			fmt.Sprint(e.Changes["high_value_products"].After) != "5" || len(e.Changes) != 2 {
			t.Fatalf("audit entry = %+v", e)
		}

		// A stale version changes nothing.
		stale := rulesIn(30, 5, 90, 365)
		stale.Version = ip(1)
		if _, err := f.store.SetRules(actx, stale); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale version: %v", err)
		}
		if got, _ := f.store.Rules(ctx); got.OldAfterDays != 180 || got.Version != 2 {
			t.Fatalf("a stale save changed the rules: %+v", got)
		}
		// Saving the rules in force writes nothing.
		same := rulesIn(180, 5, 90, 365)
		same.Version = ip(2)
		if got, err := f.store.SetRules(actx, same); err != nil || got.Version != 2 {
			t.Fatalf("same rules: %+v %v", got, err)
		}
		if n := len(rulesAudit(t, f)); n != 1 {
			t.Fatalf("%d audit entries after saving the same rules", n)
		}
	})
}

func TestRulesMoveStagesAndSegments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		cat := customers.NewCatalog(d, f.clock, f.audit)
		pr, err := cat.Create(ctx, customers.ProductInput{Name: str("净水器")})
		if err != nil {
			t.Fatal(err)
		}
		// Bought 60 days before the fixture's clock (31 May 2024).
		buyer, _ := f.store.Create(ctx, customers.Input{Name: str("买家"), CooperationStart: str("2024-01-01")})
		if _, err := f.store.AddOwned(ctx, buyer.ID, customers.OwnedInput{ProductID: pr.ID, PurchaseDate: "2024-04-01"}); err != nil {
			t.Fatal(err)
		}
		get := func(id int64) customers.Customer {
			c, err := f.store.Get(ctx, f.manager, id)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if s := get(buyer.ID).Lifecycle; s != "new" {
			t.Fatalf("stage under the defaults: %s", s)
		}
		r, _ := f.store.Rules(ctx)
		if seg := r.Segments().ValueSegments(get(buyer.ID), 1, f.clock.Now()); fmt.Sprint(seg) != "[new]" {
			t.Fatalf("segments under the defaults: %v", seg)
		}

		// Lower "new" to 30 days: the buyer is active at once.
		if _, err := f.store.SetRules(ctx, rulesIn(100, 1, 30, 365)); err != nil {
			t.Fatal(err)
		}
		if s := get(buyer.ID).Lifecycle; s != "active" {
			t.Fatalf("stage after new_for_days=30: %s", s)
		}
		r, _ = f.store.Rules(ctx)
		if seg := r.Segments().ValueSegments(get(buyer.ID), 1, f.clock.Now()); fmt.Sprint(seg) != "[old high_value]" {
			t.Fatalf("segments after old_after_days=100, high_value_products=1: %v", seg)
		}
		entries := rulesAudit(t, f)
		if len(entries) != 1 || fmt.Sprint(entries[0].Changes["new_for_days"].After) != "30" {
			t.Fatalf("audit = %+v", entries)
		}
		// A purchase is staged by the stored rules too.
		second, _ := f.store.Create(ctx, customers.Input{Name: str("二号买家")})
		if _, err := f.store.AddOwned(ctx, second.ID, customers.OwnedInput{ProductID: pr.ID, PurchaseDate: "2024-04-15"}); err != nil {
			t.Fatal(err)
		}
		if s := get(second.ID).Lifecycle; s != "active" {
			t.Fatalf("stage of a purchase 46 days ago under new_for_days=30: %s", s)
		}
		// The daily job applies the stored rules as time passes: 100 days
		// of silence are churn when "active" lasts 90 days.
		if _, err := f.store.SetRules(ctx, rulesIn(100, 1, 30, 90)); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(40 * 24 * time.Hour)
		n, err := f.store.ApplyLifecycleRules(ctx)
		if err != nil || n != 1 || get(buyer.ID).Lifecycle != "churned" || get(second.ID).Lifecycle != "active" {
			t.Fatalf("after 40 more days: %d %v %s %s", n, err, get(buyer.ID).Lifecycle, get(second.ID).Lifecycle)
		}
	})
}

func TestRulesWithoutTheRowAreTheDefaults(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := d.W.ExecContext(ctx, `DELETE FROM customer_rules`); err != nil {
			t.Fatal(err)
		}
		r, err := f.store.Rules(ctx)
		if err != nil || r.Version != 0 || r.Segments() != customers.DefaultSegments || r.Lifecycle() != customers.DefaultLifecycle {
			t.Fatalf("rules without a row: %+v %v", r, err)
		}
		saved, err := f.store.SetRules(ctx, rulesIn(400, 3, 90, 365))
		if err != nil || saved.Version != 1 || saved.OldAfterDays != 400 || saved.UpdatedBy != "system" {
			t.Fatalf("first save without a row: %+v %v", saved, err)
		}
	})
}

// TestRulesRestageInTheBackgroundAndInBatches: with a job queue, a change
// of lifecycle rules saves at once and leaves the stages to the job; the
// job's pass covers every customer batch by batch.
func TestRulesRestageInTheBackgroundAndInBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		defer customers.SetRestageBatch(2)()
		pr, err := customers.NewCatalog(d, f.clock, f.audit).Create(ctx, customers.ProductInput{Name: str("净水器")})
		if err != nil {
			t.Fatal(err)
		}
		var buyers []int64
		for i := 0; i < 5; i++ {
			c, err := f.store.Create(ctx, customers.Input{Name: str(fmt.Sprint("买家", i))})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.AddOwned(ctx, c.ID, customers.OwnedInput{ProductID: pr.ID, PurchaseDate: "2024-04-01"}); err != nil {
				t.Fatal(err)
			}
			buyers = append(buyers, c.ID)
		}
		stages := func() string {
			var out []string
			for _, id := range buyers {
				c, err := f.store.Get(ctx, f.manager, id)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, c.Lifecycle)
			}
			return strings.Join(out, " ")
		}
		if got := stages(); got != "new new new new new" {
			t.Fatalf("stages under the defaults: %s", got)
		}
		queued := 0
		f.store.SetRestageQueue(func(context.Context) error { queued++; return nil })
		if _, err := f.store.SetRules(ctx, rulesIn(365, 3, 30, 365)); err != nil {
			t.Fatal(err)
		}
		if queued != 1 || stages() != "new new new new new" {
			t.Fatalf("after the save: %d passes queued, stages %s", queued, stages())
		}
		// Segment rules alone move no stage: nothing queued.
		if _, err := f.store.SetRules(ctx, rulesIn(100, 3, 30, 365)); err != nil || queued != 1 {
			t.Fatalf("segment change: %v, %d passes queued", err, queued)
		}
		n, err := f.store.ApplyLifecycleRules(ctx)
		if err != nil || n != 5 || stages() != "active active active active active" {
			t.Fatalf("the job's pass: %d %v, stages %s", n, err, stages())
		}
		// A queue that fails: the stages follow before SetRules returns.
		f.store.SetRestageQueue(func(context.Context) error { return errors.New("queue down") })
		if _, err := f.store.SetRules(ctx, rulesIn(100, 3, 90, 365)); err != nil || stages() != "new new new new new" {
			t.Fatalf("with the queue down: %v, stages %s", err, stages())
		}
	})
}
