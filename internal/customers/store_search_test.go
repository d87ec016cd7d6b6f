package customers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/timeline"
)

func TestFTSKeyDropsBoilerplate(t *testing.T) {
	for q, want := range map[string]string{
		"长沙航盈科技有限公司":  "长沙航盈",
		"技术有限":        "技术有限", // nothing else: the whole text
		"华为技术有限公司":    "华为技术有限公司",
		"深圳华信科技":      "深圳华信",
		"北京分公司上海贸易公司": "北京分公司上海贸易公司",
		"张晓东":         "张晓东",
		"abc有限公司xyz1": "xyz1",
	} {
		if got := ftsKey(q); got != want {
			t.Errorf("ftsKey(%q) = %q, want %q", q, got, want)
		}
	}
}

// TestSearchPlansAgree checks the search paths that exist for speed (a scan
// of the newest customers for short prefixes, the index behind it, the
// trigram lookup by the non-boilerplate part of a company name) against
// the plain meaning of each query, page by page, on both databases.
func TestSearchPlansAgree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC))
		a := audit.New(d, clk)
		ids := identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
		if err := ids.EnsureDefaultRoles(ctx); err != nil {
			t.Fatal(err)
		}
		u, err := ids.CreateUser(ctx, identity.NewUser{Email: "m@example.com", Name: "m", Password: "long enough password", Roles: []string{"manager"}})
		if err != nil {
			t.Fatal(err)
		}
		manager, _ := ids.PrincipalFor(ctx, u.ID)
		s := NewStore(d, clk, a, timeline.New(d, clk))
		names := map[int64]string{}
		types := map[int64]string{}
		phones := map[int64][]string{}
		add := func(name, typ string, phone ...string) int64 {
			in := Input{Name: &name, Type: &typ, AllowDuplicate: true}
			if len(phone) > 0 {
				in.Phones = &phone
			}
			c, err := s.Create(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			names[c.ID], types[c.ID], phones[c.ID] = name, typ, c.Phones
			return c.ID
		}
		// Old customers first, then many newer ones sharing the prefixes.
		add("北京华信科技有限公司", TypeOrganization)
		add("北京长城科技有限公司", TypeOrganization)
		add("张伟", TypeIndividual)
		for i := 0; i < 30; i++ {
			add(fmt.Sprintf("北京%c%c贸易有限公司", '安'+rune(i), '华'+rune(i%5)), TypeOrganization)
			add(fmt.Sprintf("赵%c", '一'+rune(i)), TypeIndividual)
		}
		add("北京华信科技有限公司上海分公司", TypeOrganization)
		add("ABC科技有限公司", TypeOrganization)
		add("张伟强", TypeIndividual)
		add("3M中国有限公司", TypeOrganization)
		// Two characters inside names (the text index).
		add("上海北京路小红餐厅", TypeOrganization)
		add("李小红", TypeIndividual)
		add("王张伟", TypeIndividual)
		add("A座物业", TypeOrganization)
		add("a座咖啡", TypeOrganization)
		// Customers sharing the last four digits of a phone, one of them
		// twice, one merged away (its phones move to the one kept).
		for i := 0; i < 9; i++ {
			add(fmt.Sprintf("钱%c", '一'+rune(i)), TypeIndividual, fmt.Sprintf("1391234%04d", 5678+i%2))
		}
		twice := add("孙二", TypeIndividual, "13912345678", "13800005678")
		gone := add("孙三", TypeIndividual, "13700005678")
		if _, err := s.Merge(ctx, twice, gone); err != nil {
			t.Fatal(err)
		}
		delete(names, gone)
		phones[twice] = append(phones[twice], "13700005678")
		keys := map[int64]NameKeys{}
		for id, n := range names {
			keys[id] = NameSearchKeys(n)
		}
		all := make([]int64, 0, len(names))
		for id := range names {
			all = append(all, id)
		}
		slices.Sort(all)
		slices.Reverse(all)
		expect := func(match func(id int64) bool) []int64 {
			var out []int64
			for _, id := range all {
				if match(id) {
					out = append(out, id)
				}
			}
			return out
		}
		last4 := func(d string) func(int64) bool {
			return func(id int64) bool {
				for _, p := range phones[id] {
					if strings.HasSuffix(p, d) {
						return true
					}
				}
				return false
			}
		}
		prefixFold := func(p string) func(int64) bool {
			return func(id int64) bool { return strings.HasPrefix(strings.ToLower(names[id]), strings.ToLower(p)) }
		}
		contains := func(sub string) func(int64) bool {
			return func(id int64) bool { return strings.Contains(names[id], sub) }
		}
		prefix := func(p string) func(int64) bool {
			return func(id int64) bool { return strings.HasPrefix(names[id], p) }
		}
		initials := func(p string) func(int64) bool {
			return func(id int64) bool {
				k := keys[id]
				return strings.HasPrefix(k.Initials, p) || strings.HasPrefix(k.Full, p)
			}
		}
		org := func(match func(int64) bool) func(int64) bool {
			return func(id int64) bool { return types[id] == TypeOrganization && match(id) }
		}
		cases := []struct {
			q     string
			match func(int64) bool
			typ   string
		}{
			{"北京", contains("北京"), ""},
			{"北", prefix("北"), ""},
			{"张伟", contains("张伟"), ""},
			{"小红", contains("小红"), ""},
			{"华信", contains("华信"), ""},
			{"有限", contains("有限"), ""},
			{"公司", contains("公司"), ""},
			{"科技", org(contains("科技")), TypeOrganization},
			{"小红", org(contains("小红")), TypeOrganization},
			{"赵", prefix("赵"), ""},
			{"bj", initials("bj"), ""},
			{"z", initials("z"), ""},
			{"zhao", initials("zhao"), ""},
			{"有限公司", contains("有限公司"), ""},
			{"北京华信科技有限公司", contains("北京华信科技有限公司"), ""},
			{"华信科技有限公司上海", contains("华信科技有限公司上海"), ""},
			{"贸易有限", contains("贸易有限"), ""},
			{"nobody", func(int64) bool { return false }, ""},
			// Latin letters in any case, on both databases.
			{"abc科技有限公司", contains("ABC科技有限公司"), ""},
			{"Abc科技", contains("ABC科技"), ""},
			{"3m", prefixFold("3m"), ""},
			{"3M", prefixFold("3m"), ""},
			{"a座", prefixFold("a座"), ""},
			{"A", prefixFold("a"), ""},
			{"5678", last4("5678"), ""},
			{"5679", last4("5679"), ""},
			// With a filter as well.
			{"北京", org(contains("北京")), TypeOrganization},
			{"赵", org(prefix("赵")), TypeOrganization},
			{"bj", org(initials("bj")), TypeOrganization},
			{"有限公司", org(contains("有限公司")), TypeOrganization},
			{"5678", func(int64) bool { return false }, TypeOrganization},
		}
		// few 1000: every prefix is rare and answered from the indexes
		// (PostgreSQL); few 2: prefixes are common, and a window of 3000
		// holds every customer, one of 7 does not and the rest come from a
		// wider window (from one hit on, indexRows 0) and the indexes.
		for _, plan := range []struct{ window, few, indexRows int }{{3000, 1000, 50}, {3000, 2, 50}, {7, 2, 0}, {7, 2, 1000}} {
			window := plan.window
			oldWindow, oldCount, oldPG, oldFew, oldRows, oldSub, oldText := scanWindow, commonCount, pgWindow, pgFew, pgIndexRows, pgIndexRowsSubstring, pgIndexRowsText
			scanWindow, commonCount, pgWindow, pgFew, pgIndexRows, pgIndexRowsSubstring, pgIndexRowsText = window, 5, window, plan.few, plan.indexRows, plan.indexRows, plan.indexRows
			for _, c := range cases {
				want := expect(c.match)
				got := searchAll(t, s, manager, Filter{Q: c.q, Limit: 4, Type: c.typ})
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%+v: search %q (type %q) = %v, want %v", plan, c.q, c.typ, got, want)
				}
			}
			scanWindow, commonCount, pgWindow, pgFew, pgIndexRows, pgIndexRowsSubstring, pgIndexRowsText = oldWindow, oldCount, oldPG, oldFew, oldRows, oldSub, oldText
		}
	})
}

// searchAll follows f's pages to the end (at most 50) and returns the ids
// found, in order.
func searchAll(t *testing.T, s *Store, p *identity.Principal, f Filter) []int64 {
	t.Helper()
	var got []int64
	for page := 0; page < 50; page++ {
		res, err := s.Search(context.Background(), p, f)
		if err != nil {
			t.Fatalf("search %+v: %v", f, err)
		}
		for _, c := range res.Items {
			got = append(got, c.ID)
		}
		if res.NextCursor == "" {
			break
		}
		f.Cursor = res.NextCursor
	}
	return got
}

// TestSearchFiltersByEffectiveStage checks the stage filter: the override
// when set, else the computed stage.
func TestSearchFiltersByEffectiveStage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC))
		a := audit.New(d, clk)
		ids := identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
		if err := ids.EnsureDefaultRoles(ctx); err != nil {
			t.Fatal(err)
		}
		u, err := ids.CreateUser(ctx, identity.NewUser{Email: "m@example.com", Name: "m", Password: "long enough password", Roles: []string{"manager"}})
		if err != nil {
			t.Fatal(err)
		}
		manager, _ := ids.PrincipalFor(ctx, u.ID)
		s := NewStore(d, clk, a, timeline.New(d, clk))
		create := func(name, override string) int64 {
			in := Input{Name: &name}
			if override != "" {
				in.LifecycleOverride = &override
			}
			c, err := s.Create(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		plain := create("甲", "")
		unsub := create("乙", "unsubscribed")
		pinned := create("丙", "potential")
		want := map[string][]int64{"potential": {pinned, plain}, "unsubscribed": {unsub}, "active": nil}
		// More of each, interleaved, for the pages below.
		for i := 0; i < 7; i++ {
			if i%2 == 0 {
				want["unsubscribed"] = append([]int64{create(fmt.Sprint("丁", i), "unsubscribed")}, want["unsubscribed"]...)
			} else {
				want["potential"] = append([]int64{create(fmt.Sprint("戊", i), "")}, want["potential"]...)
			}
		}
		for stage, ids := range want {
			// Page by page, two at a time: the stage's own order must agree
			// with the cursor (newest first).
			got := searchAll(t, s, manager, Filter{Lifecycle: stage, Limit: 2})
			if fmt.Sprint(got) != fmt.Sprint(ids) {
				t.Errorf("stage %s: %v, want %v", stage, got, ids)
			}
		}
	})
}
