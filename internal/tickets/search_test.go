package tickets_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/textindex"
	"github.com/careloop/careloop/internal/tickets"
)

func marks(segs []textindex.Segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.Match {
			b.WriteString("[" + s.Text + "]")
		} else {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// numbers lists the numbers of the tickets p finds for f.
func (f *fixture) find(t *testing.T, p *identity.Principal, flt tickets.Filter) []string {
	t.Helper()
	page, err := f.store.List(context.Background(), p, flt)
	if err != nil {
		t.Fatalf("search %+v: %v", flt, err)
	}
	out := []string{}
	for _, it := range page.Items {
		out = append(out, it.Number)
	}
	return out
}

func TestSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "tech", Active: true, TeamID: f.tech.ID, Strategy: "queue"}); err != nil {
			t.Fatal(err)
		}
		mk := func(subject, desc string, customer int64) tickets.Ticket {
			t.Helper()
			f.clock.Advance(time.Minute)
			in := f.input("fault")
			in.Subject, in.Description = subject, desc
			if customer != 0 {
				in.CustomerID = customer
			}
			tk, err := f.store.Create(ctx, f.boss, in)
			if err != nil {
				t.Fatal(err)
			}
			return tk
		}
		other, err := f.customers.Create(ctx, customers.Input{Name: ptr("王大明"), Phones: &[]string{"13900139000"}})
		if err != nil {
			t.Fatal(err)
		}
		swap := mk("空调申请换货", "外机有问题", other.ID)
		warranty := mk("咨询", "想问一下", other.ID)
		if _, _, err := f.store.AddPost(ctx, f.alice, warranty.ID, tickets.Post{Body: "您好，\n这台机器还在保修期内，可以免费上门。"}); err != nil {
			t.Fatal(err)
		}
		noted := mk("电视问题", "客户来电", other.ID)
		if _, _, err := f.store.AddPost(ctx, f.alice, noted.ID, tickets.Post{Body: "疑似主板故障，开机黑屏", Internal: true}); err != nil {
			t.Fatal(err)
		}
		mine := mk("净水器漏水", "底部漏水", 0) // 李小红's
		if _, err := f.store.AddCustomerMessage(ctx, nil, mine.ID, "晚上有异响", "phone"); err != nil {
			t.Fatal(err)
		}
		q := func(p *identity.Principal, s string) []string { return f.find(t, p, tickets.Filter{Q: s}) }
		for s, want := range map[string][]string{
			"换货":            {swap.Number},
			"申请换货":          {swap.Number},
			"保修":            {warranty.Number},
			"黑屏":            {noted.Number}, // in a note: staff search covers notes
			"异响":            {mine.Number},  // the customer's message
			"小红":            {mine.Number},  // the customer's name
			"王大明":           {noted.Number, warranty.Number, swap.Number},
			"13900139000":   {noted.Number, warranty.Number, swap.Number}, // phone
			"8000":          {mine.Number},                                // last four of 李小红's phone
			swap.Number:     {swap.Number},
			swap.Number[1:]: {swap.Number}, // its digits, through the index
			"换屏":            {},
			"换货 外机":         {swap.Number},
			"换货 保修":         {},
		} {
			if got := q(f.boss, s); !slices.Equal(got, want) {
				t.Errorf("%q: %v, want %v", s, got, want)
			}
		}
		// Carol, of the other team, finds none of the tech team's tickets.
		for _, s := range []string{"换货", "黑屏", "小红", "13900139000", swap.Number} {
			if got := q(f.carol, s); len(got) != 0 {
				t.Errorf("carol finds %q: %v", s, got)
			}
		}
		// Alice, in the team, does; the queue and filters combine with q.
		if got := q(f.alice, "黑屏"); !slices.Equal(got, []string{noted.Number}) {
			t.Errorf("alice: %v", got)
		}
		if got := f.find(t, f.alice, tickets.Filter{Q: "异响", Queue: "mine"}); len(got) != 0 {
			t.Errorf("mine queue: %v", got)
		}
		if got := f.find(t, f.boss, tickets.Filter{Q: "王大明", States: []string{"in_progress"}}); !slices.Equal(got, []string{warranty.Number}) {
			t.Errorf("with a state: %v", got)
		}
		if got := f.find(t, f.boss, tickets.Filter{Q: "王大明", Tier: "vip"}); len(got) != 0 {
			t.Errorf("with a tier: %v", got)
		}
		// Highlights: the subject, the customer, a snippet and where it is from.
		page, _ := f.store.List(ctx, f.boss, tickets.Filter{Q: "换货"})
		if h := page.Items[0].Highlight; h == nil || marks(h.Subject) != "空调申请[换货]" || h.Snippet != nil {
			t.Errorf("subject highlight: %+v", h)
		}
		page, _ = f.store.List(ctx, f.boss, tickets.Filter{Q: "保修"})
		if h := page.Items[0].Highlight; h == nil || marks(h.Subject) != "咨询" || marks(h.Snippet) != "您好， 这台机器还在[保修]期内，可以免费上门。" || h.SnippetFrom != "message" {
			t.Errorf("message snippet: %+v", h)
		}
		page, _ = f.store.List(ctx, f.boss, tickets.Filter{Q: "黑屏"})
		if h := page.Items[0].Highlight; h == nil || h.Snippet != nil || h.SnippetFrom != "note" { // no text of a note in a list
			t.Errorf("note snippet: %+v", h)
		}
		page, _ = f.store.List(ctx, f.boss, tickets.Filter{Q: "小红"})
		if h := page.Items[0].Highlight; h == nil || marks(h.Customer) != "李[小红]" {
			t.Errorf("customer highlight: %+v", h)
		}
		// A new subject is found by its words, the old one no longer.
		tk, _ := f.store.Get(ctx, f.boss, swap.ID)
		if _, err := f.store.Update(ctx, f.boss, swap.ID, tickets.Patch{Subject: ptr("空调申请退款")}, tk.Version); err != nil {
			t.Fatal(err)
		}
		if got := q(f.boss, "换货"); len(got) != 0 {
			t.Errorf("old subject: %v", got)
		}
		if got := q(f.boss, "退款"); !slices.Equal(got, []string{swap.Number}) {
			t.Errorf("new subject: %v", got)
		}
		// Merged: the moved messages are found under the target only.
		if _, err := f.store.Merge(ctx, f.boss, warranty.ID, swap.ID); err != nil {
			t.Fatal(err)
		}
		if got := q(f.boss, "保修"); !slices.Equal(got, []string{swap.Number}) {
			t.Errorf("after the merge: %v", got)
		}
		// Long snippets are cut around the match.
		if _, _, err := f.store.AddPost(ctx, f.alice, noted.ID, tickets.Post{Body: strings.Repeat("前文", 30) + "配件" + strings.Repeat("后文", 80)}); err != nil {
			t.Fatal(err)
		}
		page, _ = f.store.List(ctx, f.boss, tickets.Filter{Q: "配件"})
		if h := page.Items[0].Highlight; h == nil || marks(h.Snippet) != "…"+strings.Repeat("前文", 10)+"[配件]"+strings.Repeat("后文", 49)+"…" {
			t.Errorf("long snippet: %q", marks(page.Items[0].Highlight.Snippet))
		}
		if _, err := f.store.List(ctx, f.boss, tickets.Filter{Q: "🙂"}); err != nil {
			t.Errorf("nothing to search for: %v", err)
		}
	})
}

// TestSearchPaging pages through a word's matches newest first on every
// path of the PostgreSQL plan (tiny windows), and backfills the index.
func TestSearchPaging(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "tech", Active: true, TeamID: f.tech.ID, Strategy: "queue"}); err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := range 30 {
			f.clock.Advance(time.Minute)
			in := f.input("fault")
			in.Subject = fmt.Sprintf("工单%d", i)
			if i%3 == 0 {
				in.Subject += "配件"
			}
			tk, err := f.store.Create(ctx, f.boss, in)
			if err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				want = append([]string{tk.Number}, want...)
			}
		}
		pages := func(p *identity.Principal, flt tickets.Filter) []string {
			t.Helper()
			var got []string
			for range 20 {
				page, err := f.store.List(ctx, p, flt)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range page.Items {
					got = append(got, it.Number)
				}
				if flt.Cursor = page.NextCursor; flt.Cursor == "" {
					break
				}
			}
			return got
		}
		for _, plan := range [][4]int64{{2000, 20000, 10000, 200}, {2, 4, 3000, 1}, {2, 4, 3000, 2}, {2, 4, 2, 200}, {1, 1, 1, 200}, {4, 4, 100, 3}} {
			restore := tickets.SetSearchPlan(plan[0], plan[1], int(plan[2]), int(plan[3]))
			for _, limit := range []int{1, 3, 50} {
				if got := pages(f.boss, tickets.Filter{Q: "配件", Limit: limit}); !slices.Equal(got, want) {
					t.Errorf("plan %v limit %d: %v, want %v", plan, limit, got, want)
				}
			}
			if got := pages(f.carol, tickets.Filter{Q: "配件", Limit: 2}); len(got) != 0 {
				t.Errorf("plan %v: carol finds %v", plan, got)
			}
			if got := pages(f.alice, tickets.Filter{Q: "配件", Limit: 2, Queue: "unassigned"}); !slices.Equal(got, want) {
				t.Errorf("plan %v: alice's unassigned: %v", plan, got)
			}
			restore()
		}
		// Tickets older than the index are indexed at start.
		if _, err := d.W.ExecContext(ctx, `DELETE FROM ticket_text`); err != nil {
			t.Fatal(err)
		}
		if got := pages(f.boss, tickets.Filter{Q: "配件"}); len(got) != 0 {
			t.Fatalf("without the index: %v", got)
		}
		if _, err := d.W.ExecContext(ctx, `INSERT INTO text_index_backfill (name, below) SELECT 'ticket_text', MAX(id) + 1 FROM tickets`); err != nil {
			t.Fatal(err)
		}
		if n, err := f.store.BackfillTextIndex(ctx); err != nil || n != 30 {
			t.Fatalf("backfill: %d %v", n, err)
		}
		if got := pages(f.boss, tickets.Filter{Q: "配件", Limit: 4}); !slices.Equal(got, want) {
			t.Errorf("backfilled: %v", got)
		}
	})
}
