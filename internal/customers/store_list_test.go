package customers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
)

// TestCountStopsAtTheCap counts searches of every kind exactly below the
// cap and reports "more" above it, on both databases.
func TestCountStopsAtTheCap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		old := customers.CountCap
		customers.CountCap = 4
		t.Cleanup(func() { customers.CountCap = old })
		for i := range 6 {
			if _, err := f.store.Create(ctx, customers.Input{Name: str(fmt.Sprintf("张%s有限公司", []string{"甲", "乙", "丙", "丁", "戊", "己"}[i])),
				Phones: strs(fmt.Sprintf("1391234%04d", 5670+i))}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.store.Create(ctx, customers.Input{Name: str("李娜"), Phones: strs("13800009999"), Tier: str("vip")}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			f      customers.Filter
			n      int
			capped bool
		}{
			{customers.Filter{}, 4, true},
			{customers.Filter{Tier: "vip"}, 1, false},
			{customers.Filter{Q: "李"}, 1, false},
			{customers.Filter{Q: "张"}, 4, true},
			{customers.Filter{Q: "zhang"}, 4, true},
			{customers.Filter{Q: "ln"}, 1, false},
			{customers.Filter{Q: "有限公司"}, 4, true},
			{customers.Filter{Q: "张乙有限公司"}, 1, false},
			{customers.Filter{Q: "9999"}, 1, false},
			{customers.Filter{Q: "13912345671"}, 1, false},
			// Filters narrow a search: it examines CountCap + 1 of its
			// candidates (of six) and says "at least 0".
			{customers.Filter{Q: "张", Tier: "vip"}, 0, true},
			{customers.Filter{Q: "李", Tier: "vip"}, 1, false},
			{customers.Filter{NoOwner: true, Tier: "vip"}, 1, false},
		} {
			n, capped, err := f.store.Count(ctx, f.agent, c.f)
			if err != nil || n != c.n || capped != c.capped {
				t.Errorf("count %+v = %d, %v, %v; want %d, %v", c.f, n, capped, err, c.n, c.capped)
			}
		}
	})
}

// TestCountOfARareFilterIsBounded: the filtered list's count examines at
// most CountWindow of the newest customers and gives a lower bound past
// them; a first page without a next page is its own count (no query), on
// both databases.
func TestCountOfARareFilterIsBounded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		oldCap, oldWindow := customers.CountCap, customers.CountWindow
		customers.CountCap, customers.CountWindow = 4, 6
		t.Cleanup(func() { customers.CountCap, customers.CountWindow = oldCap, oldWindow })
		// Eight customers, the oldest and the two newest tagged 稀有.
		for i := range 8 {
			in := customers.Input{Name: str(fmt.Sprintf("客户%d", i)), Phones: strs(fmt.Sprintf("1391234%04d", 5600+i))}
			if i == 0 || i >= 6 {
				in.Tags = &[]string{"稀有"}
			}
			if _, err := f.store.Create(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		rare := customers.Filter{Tag: "稀有"}
		// The newest six hold two of the three: "2+", not a scan on.
		if n, capped, err := f.store.Count(ctx, f.agent, rare); err != nil || n != 2 || !capped {
			t.Fatalf("count of a rare tag = %d, %v, %v; want 2, true (a lower bound)", n, capped, err)
		}
		// A window past every customer is exact.
		customers.CountWindow = 9
		if n, capped, err := f.store.Count(ctx, f.agent, rare); err != nil || n != 3 || capped {
			t.Fatalf("count within a window of all = %d, %v, %v; want 3, false", n, capped, err)
		}
		customers.CountWindow = 6
		// A page of one with a next: the count's lower bound, at least the
		// page and the next customer.
		one := rare
		one.Limit = 1
		page, err := f.store.Search(ctx, f.agent, one)
		if err != nil || len(page.Items) != 1 || page.NextCursor == "" {
			t.Fatalf("page of one: %+v, %v", page, err)
		}
		if n, capped, err := f.store.PageTotal(ctx, f.agent, one, page); err != nil || n != 2 || !capped {
			t.Fatalf("total of a page of one = %d, %v, %v; want 2, true", n, capped, err)
		}
		// The whole answer on one page: exact, from the page alone.
		rare.Limit = 20
		page, err = f.store.Search(ctx, f.agent, rare)
		if err != nil || len(page.Items) != 3 || page.NextCursor != "" {
			t.Fatalf("single page: %d items, next %q, %v", len(page.Items), page.NextCursor, err)
		}
		if n, capped, err := f.store.PageTotal(ctx, f.agent, rare, page); err != nil || n != 3 || capped {
			t.Fatalf("total of a single page = %d, %v, %v; want 3, false", n, capped, err)
		}
		// No query is made for it: a page the database does not hold
		// counts as what it shows.
		made := customers.Page{Items: make([]customers.Customer, 5)}
		if n, capped, err := f.store.PageTotal(ctx, f.agent, customers.Filter{Tag: "无此标签"}, made); err != nil || n != 5 || capped {
			t.Fatalf("total of a single page without a query = %d, %v, %v; want 5, false", n, capped, err)
		}
		// A name search that fills its page is "more than this page", with
		// no count: a page the database does not hold says so.
		named := customers.Filter{Q: "王"}
		full := customers.Page{Items: make([]customers.Customer, 4), NextCursor: "next"}
		if n, capped, err := f.store.PageTotal(ctx, f.agent, named, full); err != nil || n != 5 || !capped {
			t.Fatalf("total of a full page of a name search = %d, %v, %v; want 5, true", n, capped, err)
		}
	})
}

// TestRevealGrantIsSingleUse: the page's reveal leaves a grant that shows
// the numbers once, to the same user, within its lifetime.
func TestRevealGrantIsSingleUse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c, err := f.store.Create(ctx, customers.Input{Name: str("王芳"), Phones: strs("13912345678")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.RevealOnce(ctx, f.agent, c.ID, " "); errKey(t, err) != "validation.required" {
			t.Fatalf("empty reason: %v", err)
		}
		if _, err := f.store.RevealOnce(ctx, f.quality, c.ID, "callback"); err == nil || !isForbidden(err) {
			t.Fatalf("quality may not reveal: %v", err)
		}
		token, err := f.store.RevealOnce(ctx, f.agent, c.ID, "callback")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := f.store.TakeReveal(ctx, f.manager, c.ID, token); ok {
			t.Fatal("another user used the grant")
		}
		if _, ok, _ := f.store.TakeReveal(ctx, f.agent, c.ID+1, token); ok {
			t.Fatal("the grant worked for another customer")
		}
		full, ok, err := f.store.TakeReveal(ctx, f.agent, c.ID, token)
		if err != nil || !ok || full.Phones[0] != "13912345678" {
			t.Fatalf("take: %v %v %+v", ok, err, full.Phones)
		}
		if _, ok, _ := f.store.TakeReveal(ctx, f.agent, c.ID, token); ok {
			t.Fatal("the grant worked twice")
		}
		late, _ := f.store.RevealOnce(ctx, f.agent, c.ID, "callback")
		f.clock.Advance(customers.RevealGrantTTL + time.Second)
		if _, ok, _ := f.store.TakeReveal(ctx, f.agent, c.ID, late); ok {
			t.Fatal("an expired grant worked")
		}
	})
}

func isForbidden(err error) bool { return errors.Is(err, domain.ErrForbidden) }

// TestTimelineBusinessTimeAndLastContact: a purchase is on the timeline at
// its purchase date with the time it was recorded; a contact moves the
// customer's last contact forward only; the actor is the staff name.
func TestTimelineBusinessTimeAndLastContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		c, err := f.store.Create(ctx, customers.Input{Name: str("赵磊")})
		if err != nil {
			t.Fatal(err)
		}
		now := f.clock.Now()
		if err := f.store.LogInteraction(ctx, c.ID, customers.Interaction{Channel: "phone", Note: "回访"}); err != nil {
			t.Fatal(err)
		}
		if err := f.store.LogInteraction(ctx, c.ID, customers.Interaction{Channel: "visit", At: now.Add(-72 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := f.store.LogInteraction(ctx, c.ID, customers.Interaction{Channel: "visit", At: now.Add(time.Hour)}); errKey(t, err) != "validation.date_future" {
			t.Fatalf("future contact: %v", err)
		}
		got, err := f.store.Get(ctx, f.manager, c.ID)
		if err != nil || got.LastContactAt == nil || !got.LastContactAt.Equal(now) {
			t.Fatalf("last contact = %v (%v), want %v", got.LastContactAt, err, now)
		}
		page, err := f.timeline.List(ctx, c.ID, nil, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		// Newest first by business time: the call now (and the
		// registration, recorded before it), then the visit three days ago.
		last := page.Items[len(page.Items)-1]
		if last.Kind != "contact.logged" || !last.At.Equal(now.Add(-72*time.Hour)) || last.RecordedAt == nil || !last.RecordedAt.Equal(now) {
			t.Fatalf("oldest event = %+v", last)
		}
		if page.Items[0].RecordedAt != nil {
			t.Fatalf("an event recorded when it happened has recorded_at: %+v", page.Items[0])
		}
		// Paging by business time keeps every event once.
		p1, _ := f.timeline.List(ctx, c.ID, nil, 1, "")
		p2, err := f.timeline.List(ctx, c.ID, nil, 5, p1.NextCursor)
		if err != nil || len(p1.Items)+len(p2.Items) != len(page.Items) || p2.Items[len(p2.Items)-1].ID != last.ID {
			t.Fatalf("paging: %v %d+%d of %d", err, len(p1.Items), len(p2.Items), len(page.Items))
		}
		if _, err := f.timeline.List(ctx, c.ID, nil, 5, "bm90IGEgY3Vyc29y"); errKey(t, err) != "validation.cursor" {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

// errKey returns the catalog key of the first field of a validation error
// ("" for nil or another error).
func errKey(t *testing.T, err error) string {
	t.Helper()
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 {
		return ""
	}
	return ve.Fields[0].Key
}

// TestSortByNumberIsNumeric: the 1,000th customer of a month sorts after
// the 999th, and paging by number crosses that boundary.
func TestSortByNumberIsNumeric(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for _, n := range []string{"202405998", "202405999", ""} {
			in := customers.Input{Name: str("客户" + n)}
			if n != "" {
				in.Number = str(n)
			}
			if _, err := f.store.Create(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		cursor := ""
		for range 5 {
			page, err := f.store.Search(ctx, f.agent, customers.Filter{Sort: "number", Limit: 1, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Items {
				got = append(got, c.Number)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if strings.Join(got, " ") != "202405998 202405999 2024051000" {
			t.Fatalf("by number: %v", got)
		}
		page, err := f.store.Search(ctx, f.agent, customers.Filter{Sort: "-number", Limit: 2})
		if err != nil || page.Items[0].Number != "2024051000" || page.Items[1].Number != "202405999" {
			t.Fatalf("by number, descending: %+v %v", page.Items, err)
		}
	})
}
