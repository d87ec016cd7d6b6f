package tickets_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
)

type fixture struct {
	d         *db.DB
	store     *tickets.Store
	customers *customers.Store
	ids       *identity.Store
	clock     *clock.Fake
	audit     *audit.Log
	timeline  *timeline.Log
	tech      identity.Team // tech support team: alice, bob
	service   identity.Team // after-sales team: carol
	alice     *identity.Principal
	bob       *identity.Principal
	carol     *identity.Principal
	tom       *identity.Principal // technician in the tech team
	boss      *identity.Principal // supervisor: sees every team
	customer  customers.Customer
}

func setup(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)) // 10:00 in Shanghai
	a := audit.New(d, clk)
	tl := timeline.New(d, clk)
	ids := identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
	if err := ids.EnsureDefaultRoles(ctx); err != nil {
		t.Fatal(err)
	}
	f := &fixture{d: d, store: tickets.NewStore(d, clk, a, tl), customers: customers.NewStore(d, clk, a, tl), ids: ids, clock: clk, audit: a, timeline: tl}
	var err error
	if f.tech, err = ids.CreateTeam(ctx, "技术支持组"); err != nil {
		t.Fatal(err)
	}
	if f.service, err = ids.CreateTeam(ctx, "售后组"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name, role string
		team       int64
		dst        **identity.Principal
	}{{"alice", "tech_support", f.tech.ID, &f.alice}, {"bob", "tech_support", f.tech.ID, &f.bob},
		{"carol", "agent", f.service.ID, &f.carol}, {"tom", "technician", f.tech.ID, &f.tom}, {"boss", "supervisor", 0, &f.boss}} {
		nu := identity.NewUser{Email: u.name + "@example.com", Name: u.name, Password: "long enough password", Roles: []string{u.role}}
		if u.team != 0 {
			nu.TeamIDs = []int64{u.team}
		}
		created, err := ids.CreateUser(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		*u.dst, _ = ids.PrincipalFor(ctx, created.ID)
	}
	// Tom the technician is off duty, so routing in the tech team skips him.
	if _, err := d.W.ExecContext(ctx, `INSERT INTO staff_presence (user_id, on_duty, updated_at) VALUES ($1, FALSE, $2)`, f.tom.UserID, db.Now(clk.Now())); err != nil {
		t.Fatal(err)
	}
	name, phone := "李小红", "13800138000"
	if f.customer, err = f.customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{phone}}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.EnsureDefaultCategories(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) input(typ string) tickets.Input {
	return tickets.Input{CustomerID: f.customer.ID, Type: typ, Channel: "phone", Severity: "general", Subject: "打印机黑屏", Description: "开机后黑屏"}
}

func conflictKey(err error) string {
	var c *domain.ConflictError
	if errors.As(err, &c) {
		return c.Key
	}
	return ""
}

func TestCreateRoutesToOneOwnerWithEventsAuditAndTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var heard []string
		f.store.Listen(func(ctx context.Context, tk tickets.Ticket, e tickets.Event) error {
			heard = append(heard, e.Kind+" "+tk.Number)
			return nil
		})
		cats, _ := f.store.Categories(ctx)
		var fault int64
		for _, c := range cats {
			if c.Name == "技术故障" {
				fault = c.ID
			}
		}
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "故障到技术组", Active: true, Types: []string{"fault"}, TeamID: f.tech.ID, Strategy: "round_robin"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "其他到售后", Active: true, TeamID: f.service.ID, Strategy: "least_load"}); err != nil {
			t.Fatal(err)
		}
		in := f.input("fault")
		in.CategoryID = &fault
		a, err := f.store.Create(ctx, f.carol, in)
		if err != nil {
			t.Fatal(err)
		}
		if a.Number != "T202612020001" || a.State != "new" || a.TeamID == nil || *a.TeamID != f.tech.ID || a.OwnerID == nil {
			t.Fatalf("first ticket: %+v", a)
		}
		b, _ := f.store.Create(ctx, f.carol, in)
		c, _ := f.store.Create(ctx, f.carol, in)
		// Round robin in the tech team: alice, bob, alice; never tom (off duty).
		if *a.OwnerID != f.alice.UserID || *b.OwnerID != f.bob.UserID || *c.OwnerID != f.alice.UserID {
			t.Fatalf("round robin: %d %d %d (alice %d bob %d)", *a.OwnerID, *b.OwnerID, *c.OwnerID, f.alice.UserID, f.bob.UserID)
		}
		q, _ := f.store.Create(ctx, f.alice, f.input("consultation"))
		if *q.TeamID != f.service.ID || *q.OwnerID != f.carol.UserID {
			t.Fatalf("catch-all rule: %+v", q)
		}
		if len(heard) != 4 || heard[0] != "ticket.created T202612020001" {
			t.Fatalf("listeners heard %v", heard)
		}
		events, _ := f.store.Events(ctx, a.ID)
		if len(events) != 1 || events[0].Data["route"] != "rule" {
			t.Fatalf("events: %+v", events)
		}
		page, _ := f.timeline.List(ctx, f.customer.ID, nil, 100, "")
		found := 0
		for _, e := range page.Items {
			if e.Kind == tickets.EventCreated {
				found++
			}
		}
		if found != 4 {
			t.Fatalf("timeline has %d ticket lines", found)
		}
		entries, _ := f.audit.List(ctx, audit.Filter{Action: "ticket.create"})
		if len(entries.Entries) != 4 {
			t.Fatalf("audit: %d", len(entries.Entries))
		}
		// The next business day starts a new serial.
		f.clock.Advance(24 * time.Hour)
		n, _ := f.store.Create(ctx, f.carol, in)
		if n.Number != "T202612030001" {
			t.Fatalf("next day: %s", n.Number)
		}
	})
}

func TestVIPManagerFirstWhenOnDuty(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		tier, owner := "vip", f.bob.UserID
		vip, err := f.customers.Create(ctx, customers.Input{Name: ptr("深圳华强电子有限公司"), Type: ptr("organization"), Tier: &tier, OwnerID: &owner})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "all", Active: true, TeamID: f.service.ID, Strategy: "least_load"}); err != nil {
			t.Fatal(err)
		}
		in := f.input("consultation")
		in.CustomerID = vip.ID
		tk, err := f.store.Create(ctx, f.carol, in)
		if err != nil || *tk.OwnerID != f.bob.UserID {
			t.Fatalf("vip manager: %+v %v", tk, err)
		}
		// Off duty: the rule's team takes it.
		if _, err := d.W.ExecContext(ctx, `INSERT INTO staff_presence (user_id, on_duty, updated_at) VALUES ($1, FALSE, $2)`, f.bob.UserID, db.Now(f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		tk, _ = f.store.Create(ctx, f.carol, in)
		if *tk.OwnerID != f.carol.UserID {
			t.Fatalf("manager off duty: owner %d", *tk.OwnerID)
		}
	})
}

func ptr[T any](v T) *T { return &v }

func TestConcurrentCreatorsGetDistinctNumbersAndOneOwnerEach(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "rr", Active: true, TeamID: f.tech.ID, Strategy: "round_robin"}); err != nil {
			t.Fatal(err)
		}
		const n = 32
		var wg sync.WaitGroup
		numbers := make([]string, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tk, err := f.store.Create(ctx, f.carol, f.input("fault"))
				numbers[i], errs[i] = tk.Number, err
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("creator %d: %v", i, errs[i])
			}
			if seen[numbers[i]] {
				t.Fatalf("number %s twice", numbers[i])
			}
			seen[numbers[i]] = true
		}
		for i := 1; i <= n; i++ {
			if !seen[fmt.Sprintf("T20261202%04d", i)] {
				t.Fatalf("number %d missing: %v", i, seen)
			}
		}
		var noOwner, perAlice, perBob int
		_ = d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE owner_id IS NULL`).Scan(&noOwner)
		_ = d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE owner_id = $1`, f.alice.UserID).Scan(&perAlice)
		_ = d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets WHERE owner_id = $1`, f.bob.UserID).Scan(&perBob)
		if noOwner != 0 || perAlice != 16 || perBob != 16 {
			t.Fatalf("owners: none %d alice %d bob %d", noOwner, perAlice, perBob)
		}
	})
}

func TestStateMachine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		tk, _ := f.store.Create(ctx, f.carol, f.input("repair"))
		p := f.boss
		if _, err := f.store.Transition(ctx, p, tk.ID, tickets.TransitionInput{To: "closed", Confirmation: "ok"}); conflictKey(err) != "tickets.error.transition" {
			t.Fatalf("new → closed: %v", err)
		}
		for _, to := range []string{"acknowledged", "in_progress", "waiting_customer", "in_progress", "waiting_third_party", "resolved"} {
			if tk, _ = f.store.Transition(ctx, p, tk.ID, tickets.TransitionInput{To: to}); tk.State != to {
				t.Fatalf("→ %s: %s", to, tk.State)
			}
		}
		if _, err := f.store.Transition(ctx, p, tk.ID, tickets.TransitionInput{To: "closed"}); err == nil {
			t.Fatal("closing without the customer's confirmation")
		}
		tk, err := f.store.Transition(ctx, p, tk.ID, tickets.TransitionInput{To: "closed", Confirmation: "客户确认设备运行正常"})
		if err != nil || tk.State != "closed" || tk.ClosedAt == nil || tk.Confirmation == "" || tk.Open() {
			t.Fatalf("close: %+v %v", tk, err)
		}
		// An agent's reply on a closed ticket is refused; the customer's reopens it.
		if _, _, err := f.store.AddPost(ctx, p, tk.ID, tickets.Post{Body: "还有问题吗"}); conflictKey(err) != "tickets.error.reply_closed" {
			t.Fatalf("reply on closed: %v", err)
		}
		if _, err := f.store.AddCustomerMessage(ctx, nil, tk.ID, "还是黑屏", ""); err != nil {
			t.Fatal(err)
		}
		tk, _ = f.store.Get(ctx, p, tk.ID)
		if tk.State != "in_progress" || tk.ReopenCount != 1 || tk.ClosedAt != nil {
			t.Fatalf("reopened: %+v", tk)
		}
		// A stale version is refused.
		if _, err := f.store.Transition(ctx, p, tk.ID, tickets.TransitionInput{To: "resolved", Version: tk.Version - 1}); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale: %v", err)
		}
		// Auto-close after the admin's days without an answer.
		tk, _ = f.store.Transition(ctx, p, tk.ID, tickets.TransitionInput{To: "resolved"})
		f.clock.Advance(8 * 24 * time.Hour)
		if n, err := f.store.AutoClose(ctx, 7); err != nil || n != 1 {
			t.Fatalf("auto close: %d %v", n, err)
		}
		if tk, _ = f.store.Get(ctx, p, tk.ID); tk.State != "closed" {
			t.Fatalf("after auto close: %s", tk.State)
		}
	})
}

func TestRepliesNotesCommitmentsAndDoubleReply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		tk, _ := f.store.Create(ctx, f.carol, f.input("fault"))
		seen := tk.LastMessageID
		m, _, err := f.store.AddPost(ctx, f.alice, tk.ID, tickets.Post{Body: "已收到，我们正在处理", TimeSpent: 5, SeenMessageID: &seen})
		if err != nil || m.ID == 0 {
			t.Fatal(err)
		}
		// Bob answered the same state of the ticket: refused and shown Alice's reply.
		_, _, err = f.store.AddPost(ctx, f.bob, tk.ID, tickets.Post{Body: "您好", SeenMessageID: &seen})
		var dr *tickets.DoubleReplyError
		if !errors.As(err, &dr) || dr.First.ID != m.ID || !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("double reply: %v", err)
		}
		_, n, err := f.store.AddPost(ctx, f.alice, tk.ID, tickets.Post{Body: "内部：客户脾气急 @bob", Internal: true, TimeSpent: 3, Mentions: []int64{f.bob.UserID}})
		if err != nil || n.ID == 0 || len(n.Mentions) != 1 {
			t.Fatalf("note: %+v %v", n, err)
		}
		msgs, _ := f.store.Messages(ctx, f.alice, tk.ID)
		for _, m := range msgs {
			if m.Body == n.Body {
				t.Fatal("a note among the customer's messages")
			}
		}
		tk, _ = f.store.Get(ctx, f.alice, tk.ID)
		if tk.State != "in_progress" || tk.FirstResponseAt == nil || tk.TimeSpent != 8 {
			t.Fatalf("after reply: %+v", tk)
		}
		// Bob sees it now in his mentions queue, though it is Alice's.
		page, err := f.store.List(ctx, f.bob, tickets.Filter{Queue: "mentions"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("mentions: %+v %v", page, err)
		}
		c, err := f.store.AddCommitment(ctx, f.alice, tk.ID, tickets.CommitmentInput{Text: "两小时内回电", DueIn: "2h"})
		if err != nil || c.State != "open" || !c.DueAt.Equal(db.Now(f.clock.Now().Add(2*time.Hour))) {
			t.Fatalf("commitment: %+v %v", c, err)
		}
		due, _ := f.store.DueCommitments(ctx, f.alice.UserID, f.clock.Now().Add(24*time.Hour))
		if len(due) != 1 {
			t.Fatalf("due: %+v", due)
		}
		f.clock.Advance(3 * time.Hour)
		list, _ := f.store.Commitments(ctx, f.alice, tk.ID)
		if list[0].State != "broken" {
			t.Fatalf("past due: %s", list[0].State)
		}
		if c, err = f.store.KeepCommitment(ctx, f.alice, tk.ID, c.ID); err != nil || c.State != "kept" {
			t.Fatalf("keep: %+v %v", c, err)
		}
		if _, err := f.store.KeepCommitment(ctx, f.alice, tk.ID, c.ID); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("kept twice: %v", err)
		}
		if _, err := f.store.AddCommitment(ctx, f.alice, tk.ID, tickets.CommitmentInput{Text: "x", DueIn: "soon"}); err == nil {
			t.Fatal("bad duration accepted")
		}
	})
}

func TestScopeTakeAndQueues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "queue", Active: true, TeamID: f.tech.ID, Strategy: "queue"}); err != nil {
			t.Fatal(err)
		}
		tk, err := f.store.Create(ctx, f.boss, f.input("fault"))
		if err != nil || tk.OwnerID != nil || *tk.TeamID != f.tech.ID {
			t.Fatalf("team queue: %+v %v", tk, err)
		}
		// Carol (after-sales) neither sees nor can take a tech ticket.
		if _, err := f.store.Get(ctx, f.carol, tk.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("carol sees it: %v", err)
		}
		if page, _ := f.store.List(ctx, f.carol, tickets.Filter{}); len(page.Items) != 0 {
			t.Fatalf("carol lists %d", len(page.Items))
		}
		if _, err := f.store.Take(ctx, f.carol, tk.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("carol takes it: %v", err)
		}
		// Tom the technician is in the team: he sees it.
		if _, err := f.store.Get(ctx, f.tom, tk.ID); err != nil {
			t.Fatal(err)
		}
		counts, _ := f.store.QueueCounts(ctx, f.alice, 100)
		if counts["unassigned"] != 1 || counts["team"] != 1 || counts["mine"] != 0 {
			t.Fatalf("counts %v", counts)
		}
		// Alice and Bob take it at once: one wins, the other is told who.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, p := range []*identity.Principal{f.alice, f.bob} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = f.store.Take(ctx, p, tk.ID)
			}()
		}
		wg.Wait()
		won, lost := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case conflictKey(err) == "tickets.error.taken":
				lost++
			default:
				t.Fatalf("take: %v", err)
			}
		}
		if won != 1 || lost != 1 {
			t.Fatalf("won %d lost %d", won, lost)
		}
		// Reassigning needs a reason and is audited.
		if _, err := f.store.Assign(ctx, f.boss, tk.ID, tickets.AssignInput{OwnerID: &f.carol.UserID}); err == nil {
			t.Fatal("reassigned without a reason")
		}
		tk, err = f.store.Assign(ctx, f.boss, tk.ID, tickets.AssignInput{OwnerID: &f.carol.UserID, Reason: "客户要求售后处理"})
		if err != nil || *tk.OwnerID != f.carol.UserID || *tk.TeamID != f.service.ID {
			t.Fatalf("assign: %+v %v", tk, err)
		}
		entries, _ := f.audit.List(ctx, audit.Filter{Action: "ticket.assign"})
		if len(entries.Entries) != 2 {
			t.Fatalf("assign audit: %d", len(entries.Entries))
		}
		// Paging: keyset pages cover every ticket once.
		for range 7 {
			f.clock.Advance(time.Minute)
			if _, err := f.store.Create(ctx, f.boss, f.input("fault")); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[int64]bool{}
		cursor := ""
		for {
			page, err := f.store.List(ctx, f.boss, tickets.Filter{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				if seen[it.ID] {
					t.Fatal("a ticket on two pages")
				}
				seen[it.ID] = true
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(seen) != 8 {
			t.Fatalf("pages held %d tickets", len(seen))
		}
	})
}

func TestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		bad := []tickets.Input{
			{CustomerID: 999999, Type: "fault", Channel: "phone", Subject: "x"},
			{CustomerID: f.customer.ID, Type: "bogus", Channel: "phone", Subject: "x"},
			{CustomerID: f.customer.ID, Type: "fault", Channel: "phone", Subject: string(make([]rune, 300))},
			{CustomerID: f.customer.ID, Type: "fault", Channel: "phone", Subject: "x", CategoryID: ptr(int64(99999))},
			{CustomerID: f.customer.ID, Type: "fault", Channel: "phone", Subject: "x", OwnedProductID: ptr(int64(99999))},
			{CustomerID: f.customer.ID, Type: "fault", Channel: "phone", Subject: "x", Complaint: &tickets.Complaint{}},
		}
		for i, in := range bad {
			var v *domain.ValidationError
			if _, err := f.store.Create(ctx, f.carol, in); !errors.As(err, &v) {
				t.Errorf("bad input %d: %v", i, err)
			}
		}
		var n int
		_ = d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d tickets saved from bad input", n)
		}
		// A complaint of severity urgent is reported at once.
		in := f.input("complaint")
		in.Severity = "urgent"
		in.Complaint = &tickets.Complaint{Against: "上门师傅", Place: "客户家中", WantedRemedy: "道歉并退款",
			Compensation: &tickets.Compensation{Kind: "coupon", Value: 5000}}
		tk, err := f.store.Create(ctx, f.carol, in)
		if err != nil || !tk.MajorComplaint || tk.Complaint.ReportedAt == nil || tk.Complaint.Compensation.Value != 5000 {
			t.Fatalf("major complaint: %+v %v", tk, err)
		}
		page, _ := f.store.List(ctx, f.boss, tickets.Filter{Queue: "major"})
		if len(page.Items) != 1 {
			t.Fatalf("major queue: %d", len(page.Items))
		}
	})
}
