package notify_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
)

// staffKit is a tickets store with the staff notices listening, an outbox
// with the inapp channel and a recording email channel.
type staffKit struct {
	d        *db.DB
	clock    *clock.Fake
	ids      *identity.Store
	tickets  *tickets.Store
	outbox   *notify.Outbox
	inbox    *notify.Inbox
	staff    *notify.Staff
	email    *emailRecorder
	team     identity.Team
	alice    *identity.Principal // agent (zh-CN)
	bob      *identity.Principal // agent (en)
	boss     *identity.Principal // manager
	boss2    *identity.Principal // manager
	customer customers.Customer
}

type emailRecorder struct{ recorder }

func (*emailRecorder) Name() string { return notify.ChannelEmail }

func newStaffKit(t *testing.T, d *db.DB) *staffKit {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
	a := audit.New(d, clk)
	tl := timeline.New(d, clk)
	k := &staffKit{d: d, clock: clk, email: &emailRecorder{}}
	k.ids = identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
	if err := k.ids.EnsureDefaultRoles(ctx); err != nil {
		t.Fatal(err)
	}
	k.tickets = tickets.NewStore(d, clk, a, tl)
	if err := k.tickets.EnsureDefaultCategories(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	if k.team, err = k.ids.CreateTeam(ctx, "售后组"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name, role, locale string
		dst                **identity.Principal
	}{{"alice", "agent", "zh-CN", &k.alice}, {"bob", "agent", "en", &k.bob}, {"boss", "manager", "zh-CN", &k.boss}, {"boss2", "manager", "en", &k.boss2}} {
		created, err := k.ids.CreateUser(ctx, identity.NewUser{Email: u.name + "@example.com", Name: u.name, Password: "long enough password",
			Roles: []string{u.role}, TeamIDs: []int64{k.team.ID}, Locale: u.locale})
		if err != nil {
			t.Fatal(err)
		}
		*u.dst, _ = k.ids.PrincipalFor(ctx, created.ID)
	}
	cs := customers.NewStore(d, clk, a, tl)
	name := "李小红"
	if k.customer, err = cs.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13800138000"}}); err != nil {
		t.Fatal(err)
	}
	k.outbox = k.newOutbox("one")
	k.inbox = notify.NewInbox(d, clk, a)
	k.staff = &notify.Staff{DB: d, Clock: clk, Outbox: k.outbox, Inbox: k.inbox, Identity: k.ids, Tickets: k.tickets, Catalog: i18n.MustLoad()}
	k.tickets.Listen(k.staff.Listen)
	return k
}

func (k *staffKit) newOutbox(name string) *notify.Outbox {
	o := notify.New(k.d, k.clock, nil, nil, notify.Options{Name: name})
	o.Register(notify.NewInbox(k.d, k.clock, nil).Channel())
	o.Register(k.email)
	return o
}

func as(p *identity.Principal) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{UserID: p.UserID, Label: p.Email})
}

// drain delivers everything due.
func (k *staffKit) drain(t *testing.T, o *notify.Outbox) {
	t.Helper()
	for {
		n, err := o.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// rows returns the outbox rows of a user: "kind channel recipient".
func (k *staffKit) rows(t *testing.T, userID int64) []string {
	t.Helper()
	rs, err := k.d.R.QueryContext(context.Background(), `SELECT kind, channel, recipient, data, subject FROM outbox WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var kind, ch, rcpt, data, subject string
		if err := rs.Scan(&kind, &ch, &rcpt, &data, &subject); err != nil {
			t.Fatal(err)
		}
		if ch == notify.ChannelEmail && !strings.Contains(data, `"auto"`) {
			t.Errorf("email notice without auto: %s", data)
		}
		out = append(out, kind+" "+ch+" "+rcpt)
	}
	return out
}

func (k *staffKit) unassigned(t *testing.T, p *identity.Principal) tickets.Ticket {
	t.Helper()
	tk, err := k.tickets.Create(as(p), p, tickets.Input{CustomerID: k.customer.ID, Type: "fault", Channel: "phone", Severity: "general",
		Subject: "打印机黑屏", Description: "开机后黑屏"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func same(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

func TestStaffNoticeAssignmentInAppAndEmailPerPreference(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStaffKit(t, d)
		tk := k.unassigned(t, k.alice)
		before := len(k.rows(t, k.bob.UserID))
		if _, err := k.tickets.Assign(as(k.alice), k.alice, tk.ID, tickets.AssignInput{OwnerID: &k.bob.UserID, Reason: "换人处理"}); err != nil {
			t.Fatal(err)
		}
		got := k.rows(t, k.bob.UserID)[before:]
		if want := []string{"staff.assigned inapp " + itoa(k.bob.UserID), "staff.assigned email bob@example.com"}; !same(got, want) {
			t.Fatalf("rows %v, want %v", got, want)
		}
		k.drain(t, k.outbox)
		list, err := k.inbox.List(context.Background(), k.bob.UserID, notify.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Kind != "staff.assigned" || list[0].Link != "/tickets/"+itoa(tk.ID) ||
			!strings.Contains(list[0].Title, "was assigned to you") || !strings.Contains(list[0].Title, tk.Number) {
			t.Fatalf("bob's notifications %+v", list)
		}
		if n, _ := k.inbox.UnreadCount(context.Background(), k.bob.UserID); n != 1 {
			t.Fatalf("unread %d", n)
		}
		// Taking it back oneself tells nobody.
		if _, err := k.tickets.Assign(as(k.alice), k.alice, tk.ID, tickets.AssignInput{OwnerID: &k.alice.UserID, Reason: "换人处理"}); err != nil {
			t.Fatal(err)
		}
		if got := k.rows(t, k.alice.UserID); len(got) != 0 {
			t.Fatalf("self-assignment made %v", got)
		}
		// Bob turns assignment emails off: the next one is in-app only.
		if _, err := k.inbox.SetPrefs(context.Background(), k.bob.UserID, notify.Prefs{"assigned": {"email": false}}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.tickets.Assign(as(k.alice), k.alice, tk.ID, tickets.AssignInput{OwnerID: &k.bob.UserID, Reason: "换人处理"}); err != nil {
			t.Fatal(err)
		}
		got = k.rows(t, k.bob.UserID)[before+2:]
		if want := []string{"staff.assigned inapp " + itoa(k.bob.UserID)}; !same(got, want) {
			t.Fatalf("after opting out of email: %v", got)
		}
	})
}

func TestStaffNoticeMentionAndCustomerReply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStaffKit(t, d)
		tk := k.unassigned(t, k.alice)
		if _, err := k.tickets.Assign(as(k.alice), k.alice, tk.ID, tickets.AssignInput{OwnerID: &k.alice.UserID, Reason: "换人处理"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := k.tickets.AddPost(as(k.alice), k.alice, tk.ID, tickets.Post{Body: "@bob 请看一下", Internal: true, Mentions: []int64{k.bob.UserID}}); err != nil {
			t.Fatal(err)
		}
		if got, want := k.rows(t, k.bob.UserID), []string{"staff.mentioned inapp " + itoa(k.bob.UserID), "staff.mentioned email bob@example.com"}; !same(got, want) {
			t.Fatalf("mention rows %v", got)
		}
		// The customer writes: the owner (alice) hears in-app (email is off by default).
		if _, err := k.tickets.AddCustomerMessage(context.Background(), k.alice, tk.ID, "还是黑屏", "phone"); err != nil {
			t.Fatal(err)
		}
		if got, want := k.rows(t, k.alice.UserID), []string{"staff.customer_reply inapp " + itoa(k.alice.UserID)}; !same(got, want) {
			t.Fatalf("customer reply rows %v", got)
		}
		k.drain(t, k.outbox)
		list, _ := k.inbox.List(context.Background(), k.alice.UserID, notify.ListOptions{})
		if len(list) != 1 || !strings.Contains(list[0].Title, "客户在工单") {
			t.Fatalf("alice's notifications (zh-CN) %+v", list)
		}
		blist, _ := k.inbox.List(context.Background(), k.bob.UserID, notify.ListOptions{})
		if len(blist) != 1 || !strings.Contains(blist[0].Title, "alice mentioned you") {
			t.Fatalf("bob's notifications (en) %+v", blist)
		}
		if k.email.count(0) != 0 || len(k.email.got) != 1 {
			t.Fatalf("emails %v", k.email.got)
		}
	})
}

func TestStaffNoticeCustomerReplyOnUnownedTicketGoesToFollowers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStaffKit(t, d)
		tk := k.unassigned(t, k.alice)
		if _, err := k.tickets.Assign(as(k.alice), k.alice, tk.ID, tickets.AssignInput{TeamID: &k.team.ID, Reason: "退回组里"}); err != nil {
			t.Fatal(err)
		}
		if err := k.tickets.Follow(as(k.bob), k.bob, tk.ID, k.bob.UserID); err != nil {
			t.Fatal(err)
		}
		if _, err := k.tickets.AddCustomerMessage(context.Background(), k.alice, tk.ID, "在吗", "phone"); err != nil {
			t.Fatal(err)
		}
		if got, want := k.rows(t, k.bob.UserID), []string{"staff.customer_reply inapp " + itoa(k.bob.UserID)}; !same(got, want) {
			t.Fatalf("follower rows %v", got)
		}
	})
}

func TestStaffNoticeMajorComplaintReachesEveryManagerWhateverTheirSettings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStaffKit(t, d)
		ctx := context.Background()
		// boss2 opted out of both: a major complaint still reaches them.
		if _, err := k.inbox.SetPrefs(ctx, k.boss2.UserID, notify.Prefs{"major_complaint": {"inapp": false, "email": false}}); err != nil {
			t.Fatal(err)
		}
		tk, err := k.tickets.Create(as(k.alice), k.alice, tickets.Input{CustomerID: k.customer.ID, Type: "complaint", Channel: "phone", Severity: "urgent",
			Subject: "服务态度差", Description: "客户很生气", Complaint: &tickets.Complaint{Against: "上门师傅", Place: "家里", WantedRemedy: "道歉"}})
		if err != nil {
			t.Fatal(err)
		}
		if !tk.MajorComplaint {
			t.Fatal("not a major complaint")
		}
		for _, m := range []*identity.Principal{k.boss, k.boss2} {
			if got, want := k.rows(t, m.UserID), []string{"staff.major_complaint inapp " + itoa(m.UserID), "staff.major_complaint email " + m.Email}; !same(got, want) {
				t.Fatalf("%s: %v", m.Email, got)
			}
		}
		for _, a := range []*identity.Principal{k.alice, k.bob} {
			for _, r := range k.rows(t, a.UserID) {
				if strings.HasPrefix(r, "staff.major_complaint") {
					t.Fatalf("agent %s heard of the complaint: %s", a.Email, r)
				}
			}
		}
		for m, want := range map[*identity.Principal]string{k.boss: "重大投诉上报", k.boss2: "Major complaint reported"} {
			var subject, body string
			if err := d.R.QueryRowContext(ctx, `SELECT subject, body FROM outbox WHERE user_id = $1 AND channel = 'email'`, m.UserID).Scan(&subject, &body); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(subject, want) || !strings.Contains(subject, tk.Number) || !strings.Contains(body, "/tickets/"+itoa(tk.ID)) {
				t.Errorf("%s: email %q / %q", m.Email, subject, body)
			}
		}
		k.drain(t, k.outbox)
		for _, m := range []*identity.Principal{k.boss, k.boss2} {
			if n, _ := k.inbox.UnreadCount(ctx, m.UserID); n != 1 {
				t.Fatalf("%s unread %d", m.Email, n)
			}
		}
	})
}

func TestStaffNoticeCommitmentDueOnceAcrossRunsAndOutboxes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStaffKit(t, d)
		ctx := context.Background()
		tk := k.unassigned(t, k.alice)
		if _, err := k.tickets.Assign(as(k.alice), k.alice, tk.ID, tickets.AssignInput{OwnerID: &k.bob.UserID, Reason: "换人处理"}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.inbox.SetPrefs(ctx, k.bob.UserID, notify.Prefs{"commitment_due": {"email": true}}); err != nil {
			t.Fatal(err)
		}
		c, err := k.tickets.AddCommitment(as(k.bob), k.bob, tk.ID, tickets.CommitmentInput{Text: "两小时内回电", DueIn: "2h"})
		if err != nil {
			t.Fatal(err)
		}
		k.drain(t, k.outbox)
		base := len(k.rows(t, k.bob.UserID))
		// Not due within the lead yet.
		if n, err := k.staff.RemindCommitments(ctx); err != nil || n != 0 {
			t.Fatalf("early reminder: %d %v", n, err)
		}
		k.clock.Advance(2*time.Hour - notify.CommitmentLead + time.Minute)
		// Two servers' jobs, and one run again: one reminder.
		other := &notify.Staff{DB: d, Clock: k.clock, Outbox: k.newOutbox("two"), Inbox: k.inbox, Identity: k.ids, Tickets: k.tickets, Catalog: i18n.MustLoad()}
		n1, err1 := k.staff.RemindCommitments(ctx)
		n2, err2 := other.RemindCommitments(ctx)
		n3, err3 := k.staff.RemindCommitments(ctx)
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		if n1+n2+n3 != 1 {
			t.Fatalf("reminders %d %d %d", n1, n2, n3)
		}
		got := k.rows(t, k.bob.UserID)[base:]
		if want := []string{"staff.commitment_due inapp " + itoa(k.bob.UserID), "staff.commitment_due email bob@example.com"}; !same(got, want) {
			t.Fatalf("rows %v", got)
		}
		var keys int
		if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE $1`, "commitment_due:"+itoa(c.ID)+":%").Scan(&keys); err != nil || keys != 2 {
			t.Fatalf("dedupe keys %d %v", keys, err)
		}
		// Two outboxes deliver: one notification.
		k.drain(t, k.newOutbox("two"))
		k.drain(t, k.outbox)
		list, _ := k.inbox.List(ctx, k.bob.UserID, notify.ListOptions{Unread: true})
		due := 0
		for _, n := range list {
			if n.Kind == "staff.commitment_due" {
				due++
				if !strings.Contains(n.Title, "两小时内回电") {
					t.Errorf("title %q", n.Title)
				}
			}
		}
		if due != 1 {
			t.Fatalf("%d commitment notifications", due)
		}
		// Later runs, overdue now: still nothing new.
		k.clock.Advance(time.Hour)
		if n, err := k.staff.RemindCommitments(ctx); err != nil || n != 0 {
			t.Fatalf("overdue re-run: %d %v", n, err)
		}
	})
}

func TestInAppDeliveryIsIdempotentPerOutboxRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStaffKit(t, d)
		ctx := context.Background()
		m := &notify.Message{ID: 4242, Channel: notify.ChannelInApp, Kind: "staff.test", UserID: k.bob.UserID, Subject: "hello",
			Data: []byte(`{"key":"notify.assigned.title","params":{"Number":"T1","Subject":"s"},"link":"https://evil.example/"}`)}
		ch := k.inbox.Channel()
		p1, err := ch.Deliver(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := ch.Deliver(ctx, m)
		if err != nil || p1 != p2 {
			t.Fatalf("re-delivery: %q %q %v", p1, p2, err)
		}
		list, _ := k.inbox.List(ctx, k.bob.UserID, notify.ListOptions{})
		if len(list) != 1 || list[0].Link != "" {
			t.Fatalf("notifications %+v", list)
		}
		if _, err := ch.Deliver(ctx, &notify.Message{ID: 1, Channel: notify.ChannelInApp, Kind: "x"}); err == nil {
			t.Fatal("a message without a user was delivered")
		}
	})
}

func TestInboxIsolationKeysetAndMarkRead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStaffKit(t, d)
		ctx := context.Background()
		ch := k.inbox.Channel()
		for i := int64(1); i <= 5; i++ {
			for _, u := range []int64{k.alice.UserID, k.bob.UserID} {
				if _, err := ch.Deliver(ctx, &notify.Message{ID: i*10 + u, Channel: notify.ChannelInApp, Kind: "staff.test", UserID: u, Subject: "n"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		bobs, _ := k.inbox.List(ctx, k.bob.UserID, notify.ListOptions{Limit: 3})
		if len(bobs) != 3 || bobs[0].ID < bobs[1].ID {
			t.Fatalf("first page %+v", bobs)
		}
		rest, _ := k.inbox.List(ctx, k.bob.UserID, notify.ListOptions{Before: bobs[2].ID})
		if len(rest) != 2 {
			t.Fatalf("second page %d", len(rest))
		}
		// Alice cannot mark or read Bob's.
		n, err := k.inbox.MarkRead(ctx, k.alice.UserID, []int64{bobs[0].ID, bobs[1].ID}, false)
		if err != nil || n != 0 {
			t.Fatalf("alice marked %d of bob's (%v)", n, err)
		}
		if _, err := k.inbox.Get(ctx, k.alice.UserID, bobs[0].ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("alice read bob's: %v", err)
		}
		if c, _ := k.inbox.UnreadCount(ctx, k.bob.UserID); c != 5 {
			t.Fatalf("bob unread %d", c)
		}
		if n, _ := k.inbox.MarkRead(ctx, k.bob.UserID, []int64{bobs[0].ID}, false); n != 1 {
			t.Fatalf("marked %d", n)
		}
		unread, _ := k.inbox.List(ctx, k.bob.UserID, notify.ListOptions{Unread: true})
		if len(unread) != 4 {
			t.Fatalf("unread list %d", len(unread))
		}
		if n, _ := k.inbox.MarkRead(ctx, k.bob.UserID, nil, true); n != 4 {
			t.Fatalf("all: %d", n)
		}
		if c, _ := k.inbox.UnreadCount(ctx, k.alice.UserID); c != 5 {
			t.Fatalf("alice's count changed: %d", c)
		}
		if _, err := k.inbox.MarkRead(ctx, k.bob.UserID, nil, false); err == nil {
			t.Fatal("nothing to mark accepted")
		}
	})
}

func TestPrefsDefaultsAndValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newStaffKit(t, d)
		ctx := context.Background()
		p, err := k.inbox.Prefs(ctx, k.alice.UserID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range notify.NoticeEvents {
			if !p[e]["inapp"] {
				t.Errorf("%s: in-app off by default", e)
			}
			wantEmail := e == "assigned" || e == "mentioned" || e == "major_complaint" || e == "sla_breach"
			if p[e]["email"] != wantEmail {
				t.Errorf("%s: email %v by default", e, p[e]["email"])
			}
		}
		_, err = k.inbox.SetPrefs(ctx, k.alice.UserID, notify.Prefs{"assigned": {"pigeon": true}, "lunch": {"inapp": true}})
		var v *domain.ValidationError
		if !errors.As(err, &v) || len(v.Fields) != 2 || v.Fields[0].Field != "settings.assigned.pigeon" || v.Fields[1].Field != "settings.lunch" {
			t.Fatalf("validation: %v", err)
		}
		if _, err := k.inbox.SetPrefs(ctx, k.alice.UserID, notify.Prefs{"mentioned": {"email": false}}); err != nil {
			t.Fatal(err)
		}
		p, _ = k.inbox.Prefs(ctx, k.alice.UserID)
		if p["mentioned"]["email"] || !p["mentioned"]["inapp"] || !p["assigned"]["email"] {
			t.Fatalf("after change %v", p)
		}
		if other, _ := k.inbox.Prefs(ctx, k.bob.UserID); !other["mentioned"]["email"] {
			t.Fatal("bob's settings changed with alice's")
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
