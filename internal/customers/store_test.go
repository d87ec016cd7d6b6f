package customers_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/timeline"
)

type fixture struct {
	store    *customers.Store
	clock    *clock.Fake
	audit    *audit.Log
	timeline *timeline.Log
	ids      *identity.Store
	agent    *identity.Principal
	manager  *identity.Principal
	quality  *identity.Principal
}

func setup(t *testing.T, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2024, 5, 31, 15, 0, 0, 0, time.UTC)) // 23:00 on 31 May in Shanghai
	a := audit.New(d, clk)
	tl := timeline.New(d, clk)
	ids := identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
	if err := ids.EnsureDefaultRoles(ctx); err != nil {
		t.Fatal(err)
	}
	f := fixture{store: customers.NewStore(d, clk, a, tl), clock: clk, audit: a, timeline: tl, ids: ids}
	for _, r := range []struct {
		role string
		dst  **identity.Principal
	}{{"agent", &f.agent}, {"manager", &f.manager}, {"quality", &f.quality}} {
		u, err := ids.CreateUser(ctx, identity.NewUser{Email: r.role + "@example.com", Name: r.role, Password: "long enough password", Roles: []string{r.role}})
		if err != nil {
			t.Fatal(err)
		}
		*r.dst, _ = ids.PrincipalFor(ctx, u.ID)
	}
	return f
}

func str(s string) *string       { return &s }
func strs(s ...string) *[]string { return &s }

func TestCreateNumbersAndDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c, err := f.store.Create(ctx, customers.Input{Name: str("张伟"), Phones: strs("+86 139-1234-5678"), Email: str("Zhang.Wei@Example.com")})
		if err != nil {
			t.Fatal(err)
		}
		// Registered at 23:00 on 31 May in Shanghai (15:00 UTC): a May number.
		if c.Number != "202405001" || c.Phones[0] != "13912345678" || c.Email != "zhang.wei@example.com" || c.Type != "individual" || c.Tier != "normal" {
			t.Fatalf("customer = %+v", c)
		}
		_, err = f.store.Create(ctx, customers.Input{Name: str("张伟（重复）"), Phones: strs("13912345678")})
		var dup *customers.DuplicateError
		if !errors.As(err, &dup) || dup.ExistingID != c.ID || !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("duplicate phone err = %v", err)
		}
		_, err = f.store.Create(ctx, customers.Input{Name: str("另一个"), Email: str("zhang.wei@example.com")})
		if !errors.As(err, &dup) || dup.Field != "email" {
			t.Fatalf("duplicate email err = %v", err)
		}
		second, err := f.store.Create(ctx, customers.Input{Name: str("张伟"), Phones: strs("13912345678"), AllowDuplicate: true})
		if err != nil || second.Number != "202405002" {
			t.Fatalf("allowed duplicate: %+v %v", second, err)
		}
		// Editing what is not a phone or email does not ask again about the
		// duplicate accepted at creation; changing the email to another's does.
		if _, err := f.store.Update(ctx, second.ID, customers.Input{Tier: str("vip")}); err != nil {
			t.Fatalf("an edit of the tier of an accepted duplicate: %v", err)
		}
		if _, err := f.store.Update(ctx, second.ID, customers.Input{Email: str("zhang.wei@example.com")}); !errors.As(err, &dup) || dup.ExistingID != c.ID {
			t.Fatalf("a new duplicate email on update: %v", err)
		}
		f.clock.Advance(2 * time.Hour) // 1 June in Shanghai
		third, _ := f.store.Create(ctx, customers.Input{Name: str("华为技术有限公司"), Type: str("organization")})
		if third.Number != "202406001" {
			t.Fatalf("June number = %s", third.Number)
		}
		// An imported number is kept and the serial continues after it.
		imported, err := f.store.Create(ctx, customers.Input{Number: str("202406050"), Name: str("导入客户")})
		if err != nil || imported.Number != "202406050" {
			t.Fatalf("imported: %+v %v", imported, err)
		}
		next, _ := f.store.Create(ctx, customers.Input{Name: str("下一个")})
		if next.Number != "202406051" {
			t.Fatalf("after import: %s", next.Number)
		}
		if _, err := f.store.Create(ctx, customers.Input{Number: str("202406050"), Name: str("撞号")}); err == nil {
			t.Fatal("a taken number was accepted")
		}
	})
}

func TestValidationNamesEveryField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		long := make([]rune, 201)
		for i := range long {
			long[i] = '名'
		}
		owner := int64(999)
		_, err := f.store.Create(context.Background(), customers.Input{Name: str(string(long)), Phones: strs("12345"), Email: str("nope"),
			Birthday: str("2030-01-01"), Tier: str("gold"), Type: str("robot"), OwnerID: &owner})
		var v *domain.ValidationError
		if !errors.As(err, &v) {
			t.Fatalf("err = %v", err)
		}
		got := map[string]string{}
		for _, fe := range v.Fields {
			got[fe.Field] = fe.Key
		}
		for field, key := range map[string]string{"name": "validation.too_long", "phones[0]": "validation.phone_too_short", "email": "validation.email",
			"birthday": "validation.date_future", "tier": "validation.one_of", "type": "validation.one_of"} {
			if got[field] != key {
				t.Errorf("%s: %q, want %q (all %v)", field, got[field], key, got)
			}
		}
		_, err = f.store.Create(context.Background(), customers.Input{Name: str("好名字"), OwnerID: &owner})
		if !errors.As(err, &v) || v.Fields[0].Field != "owner_id" {
			t.Fatalf("unknown owner: %v", err)
		}
	})
}

func TestConcurrentCreatorsNeverShareANumber(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		const workers, each = 32, 20
		var mu sync.Mutex
		var numbers []string
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					c, err := f.store.Create(context.Background(), customers.Input{Name: str(fmt.Sprintf("客户%d-%d", w, i))})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					numbers = append(numbers, c.Number)
					mu.Unlock()
				}
			}(w)
		}
		wg.Wait()
		sort.Strings(numbers)
		if len(numbers) != workers*each {
			t.Fatalf("%d numbers", len(numbers))
		}
		for i, n := range numbers {
			if want := fmt.Sprintf("202405%03d", i+1); n != want {
				t.Fatalf("number %d = %s, want %s (duplicate or gap)", i, n, want)
			}
		}
	})
}

func TestSearchFindsEveryKindOfQuery(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		zw, _ := f.store.Create(ctx, customers.Input{Name: str("张伟"), Phones: strs("13912345678"), Email: str("zw@example.com")})
		zeng, _ := f.store.Create(ctx, customers.Input{Name: str("曾小贤"), Phones: strs("010-87654321")})
		hw, _ := f.store.Create(ctx, customers.Input{Name: str("华为技术有限公司"), Type: str("organization"), Tier: str("vip")})
		f.store.Create(ctx, customers.Input{Name: str("李娜"), Phones: strs("13700001111")})
		find := func(q string, want ...int64) {
			t.Helper()
			p, err := f.store.Search(ctx, f.manager, customers.Filter{Q: q})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var got []int64
			for _, c := range p.Items {
				got = append(got, c.ID)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("search %q (%s) = %v, want %v", q, p.Kind, got, want)
			}
		}
		find("张伟", zw.ID)
		find("张", zw.ID)
		find("zhangwei", zw.ID)
		find("zw", zw.ID)
		find("zengxiaoxian", zeng.ID)
		find("cengxiaoxian", zeng.ID)
		find("5678", zw.ID)
		find("4321", zeng.ID)
		find("139 1234 5678", zw.ID)
		find(zw.Number, zw.ID)
		find("ZW@example.com", zw.ID)
		find("技术有限", hw.ID)
		find("华为", hw.ID)
		find("nobody")
		p, _ := f.store.Search(ctx, f.manager, customers.Filter{Tier: "vip"})
		if len(p.Items) != 1 || p.Items[0].ID != hw.ID {
			t.Fatalf("tier filter: %+v", p.Items)
		}
		// Paging: newest first, every customer once.
		seen := map[int64]bool{}
		filter := customers.Filter{Limit: 3}
		for {
			p, err := f.store.Search(ctx, f.manager, filter)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Items {
				if seen[c.ID] {
					t.Fatalf("customer %d twice", c.ID)
				}
				seen[c.ID] = true
			}
			if p.NextCursor == "" {
				break
			}
			filter.Cursor = p.NextCursor
		}
		if len(seen) != 4 {
			t.Fatalf("paged %d customers", len(seen))
		}
	})
}

func TestMaskingRevealAndTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c, _ := f.store.Create(ctx, customers.Input{Name: str("王芳"), Phones: strs("13912345678"),
			Contacts: &[]customers.Contact{{Name: "王芳", Phone: "0755-12345678"}}})
		for _, viewer := range []*identity.Principal{f.agent, f.quality} {
			got, err := f.store.Get(ctx, viewer, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Masked || got.Phones[0] != "139****5678" || got.Contacts[0].Phone == "0755-12345678" {
				t.Fatalf("%v sees %+v", viewer.Roles, got)
			}
			p, _ := f.store.Search(ctx, viewer, customers.Filter{Q: "5678"})
			if len(p.Items) != 1 || p.Items[0].Phones[0] != "139****5678" {
				t.Fatalf("search result not masked for %v: %+v", viewer.Roles, p.Items)
			}
		}
		full, _ := f.store.Get(ctx, f.manager, c.ID)
		if full.Masked || full.Phones[0] != "13912345678" {
			t.Fatalf("manager sees %+v", full)
		}
		if _, err := f.store.Reveal(ctx, f.quality, c.ID, "call"); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("quality reveal: %v", err)
		}
		actx := audit.WithActor(ctx, audit.Actor{UserID: f.agent.UserID, Label: f.agent.Email})
		shown, err := f.store.Reveal(actx, f.agent, c.ID, "回访电话")
		if err != nil || shown.Phones[0] != "13912345678" {
			t.Fatalf("agent reveal: %+v %v", shown, err)
		}
		log, _ := f.audit.List(ctx, audit.Filter{Action: "customer.reveal"})
		if len(log.Entries) != 1 || log.Entries[0].ActorID != f.agent.UserID {
			t.Fatalf("reveal not audited: %+v", log.Entries)
		}
		// Updates: versioned, audited, on the timeline.
		f.clock.Advance(time.Minute)
		v := c.Version
		if _, err := f.store.Update(actx, c.ID, customers.Input{Tier: str("vip"), Version: &v}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Update(actx, c.ID, customers.Input{Tier: str("normal"), Version: &v}); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale update: %v", err)
		}
		events, _ := f.timeline.List(ctx, c.ID, nil, 10, "")
		if len(events.Items) != 2 || events.Items[0].Kind != "customer.updated" || events.Items[1].Kind != "customer.created" {
			t.Fatalf("timeline = %+v", events.Items)
		}
	})
}

func TestLifecycleStages(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, customers.BusinessZone)
	lr := customers.DefaultLifecycle
	for _, c := range []struct{ first, last, want string }{
		{"", "", "potential"},
		{"2026-05-01", "2026-05-01", "new"},
		{"2025-01-01", "2026-01-15", "active"},
		{"2023-01-01", "2025-03-01", "churned"},
		{"bad", "bad", "potential"},
	} {
		if got := lr.Stage(c.first, c.last, now); got != c.want {
			t.Errorf("Stage(%s, %s) = %s, want %s", c.first, c.last, got, c.want)
		}
	}
}

func TestRefreshLifecyclesFollowsTime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		cat := customers.NewCatalog(d, f.clock, f.audit)
		pr, _ := cat.Create(ctx, customers.ProductInput{Name: str("空气净化器")})
		buyer, _ := f.store.Create(ctx, customers.Input{Name: str("买家")})
		idle, _ := f.store.Create(ctx, customers.Input{Name: str("潜在")})
		if _, err := f.store.AddOwned(ctx, buyer.ID, customers.OwnedInput{ProductID: pr.ID, PurchaseDate: "2024-05-20"}); err != nil {
			t.Fatal(err)
		}
		stage := func(id int64) string {
			c, _ := f.store.Get(ctx, f.manager, id)
			return c.Lifecycle
		}
		if stage(buyer.ID) != "new" || stage(idle.ID) != "potential" {
			t.Fatalf("stages %s %s", stage(buyer.ID), stage(idle.ID))
		}
		f.clock.Advance(120 * 24 * time.Hour)
		if n, err := f.store.RefreshLifecycles(ctx, customers.DefaultLifecycle); err != nil || n != 1 || stage(buyer.ID) != "active" {
			t.Fatalf("after 120 days: %d %v %s", n, err, stage(buyer.ID))
		}
		f.clock.Advance(300 * 24 * time.Hour)
		if _, err := f.store.RefreshLifecycles(ctx, customers.DefaultLifecycle); err != nil || stage(buyer.ID) != "churned" || stage(idle.ID) != "potential" {
			t.Fatalf("after 420 days: %v %s %s", err, stage(buyer.ID), stage(idle.ID))
		}
	})
}
