package tickets_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/tickets"
)

func isInvalid(err error, field string) bool {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return false
	}
	for _, f := range v.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestUpdateAuditsEmitsFieldsAndReportsAMajorComplaintOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var events []tickets.Event
		f.store.Listen(func(ctx context.Context, tk tickets.Ticket, e tickets.Event) error {
			events = append(events, e)
			return nil
		})
		tk, _ := f.store.Create(ctx, f.carol, f.input("fault"))
		if _, err := f.store.Update(ctx, f.boss, tk.ID, tickets.Patch{Subject: ptr("x")}, tk.Version+1); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale: %v", err)
		}
		if _, err := f.store.Update(ctx, f.boss, tk.ID, tickets.Patch{Severity: ptr("huge")}, tk.Version); !isInvalid(err, "severity") {
			t.Fatalf("bad severity: %v", err)
		}
		if _, err := f.store.Update(ctx, f.boss, tk.ID, tickets.Patch{CategoryID: ptr(int64(99999))}, tk.Version); !isInvalid(err, "category_id") {
			t.Fatalf("bad category: %v", err)
		}
		if _, err := f.store.Update(ctx, f.boss, tk.ID, tickets.Patch{Complaint: &tickets.ComplaintPatch{Facts: ptr("x")}}, tk.Version); !isInvalid(err, "complaint") {
			t.Fatalf("complaint on a fault: %v", err)
		}
		events = nil
		up, err := f.store.Update(ctx, f.boss, tk.ID, tickets.Patch{Severity: ptr("important"), Tags: &[]string{"屏幕", "屏幕", " 加急 "}}, tk.Version)
		if err != nil || up.Severity != "important" || strings.Join(up.Tags, ",") != "屏幕,加急" || up.Version != tk.Version+1 {
			t.Fatalf("update: %+v %v", up, err)
		}
		if len(events) != 1 || events[0].Kind != tickets.EventUpdated || jsonFields(events[0]) != "severity,tags" {
			t.Fatalf("events: %+v", events)
		}
		// Severity rank sorts it first.
		other, _ := f.store.Create(ctx, f.carol, f.input("fault"))
		page, _ := f.store.List(ctx, f.boss, tickets.Filter{Sort: "-severity"})
		if page.Items[0].ID != tk.ID || page.Items[1].ID != other.ID {
			t.Fatalf("severity order: %d %d", page.Items[0].ID, page.Items[1].ID)
		}
		// Nothing changed: no event, no version.
		events = nil
		same, err := f.store.Update(ctx, f.boss, tk.ID, tickets.Patch{Severity: ptr("important")}, up.Version)
		if err != nil || same.Version != up.Version || len(events) != 0 {
			t.Fatalf("no-op update: %+v %v %v", same, err, events)
		}
		// Becoming an urgent complaint reports it, once.
		events = nil
		at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
		up, err = f.store.Update(ctx, f.boss, tk.ID, tickets.Patch{Type: ptr("complaint"), Severity: ptr("urgent"),
			Complaint: &tickets.ComplaintPatch{Against: ptr("上门师傅"), OccurredAt: &at, Responsibility: ptr("service"),
				Compensation: &tickets.Compensation{Kind: "coupon", Value: 2000}}}, up.Version)
		if err != nil || !up.MajorComplaint || up.Complaint == nil || up.Complaint.ReportedAt == nil || up.Complaint.Compensation.Value != 2000 ||
			!up.Complaint.OccurredAt.Equal(at) {
			t.Fatalf("to complaint: %+v %v", up, err)
		}
		kinds := []string{}
		for _, e := range events {
			kinds = append(kinds, e.Kind)
		}
		if strings.Join(kinds, " ") != "ticket.updated ticket.major_complaint_reported" {
			t.Fatalf("kinds %v", kinds)
		}
		events = nil
		up, err = f.store.Update(ctx, f.boss, tk.ID, tickets.Patch{Complaint: &tickets.ComplaintPatch{Facts: ptr("已核实"), RootCause: ptr("培训不足")}}, up.Version)
		if err != nil || up.Complaint.Facts != "已核实" || up.Complaint.Against != "上门师傅" || len(events) != 1 {
			t.Fatalf("complaint facts: %+v %v %v", up.Complaint, err, events)
		}
		entries, _ := f.audit.List(ctx, audit.Filter{Action: "ticket.update"})
		if len(entries.Entries) != 3 {
			t.Fatalf("update audit: %d", len(entries.Entries))
		}
		// Someone outside the ticket's scope cannot change it.
		if _, err := f.store.Update(ctx, f.carol, other.ID, tickets.Patch{Subject: ptr("x")}, 0); err != nil {
			t.Fatalf("carol created it: %v", err)
		}
	})
}

func jsonFields(e tickets.Event) string {
	if list, ok := e.Data["fields"].([]string); ok {
		return strings.Join(list, ",")
	}
	var out []string
	for _, v := range e.Data["fields"].([]any) {
		out = append(out, v.(string))
	}
	return strings.Join(out, ",")
}

func TestTemplatesAndMacros(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if err := f.store.EnsureDefaultTemplates(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.store.EnsureDefaultTemplates(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ := f.store.Templates(ctx, true)
		if len(list) != len(tickets.DefaultTemplates) || list[0].Name != "已收到" {
			t.Fatalf("defaults: %+v", list)
		}
		if _, err := f.store.SaveTemplate(ctx, tickets.Template{Name: "坏的", Body: "您好 {{客户姓名}}", Active: true}); !isInvalid(err, "body") {
			t.Fatalf("unknown variable: %v", err)
		}
		if _, err := f.store.SaveTemplate(ctx, tickets.Template{Name: "已收到", Body: "x", Active: true}); !isInvalid(err, "name") {
			t.Fatalf("taken name: %v", err)
		}
		tmpl, err := f.store.SaveTemplate(ctx, tickets.Template{Name: "中文变量", Body: "{{客户称呼}}您好，工单 {{ 工单号 }} 由{{坐席}}处理。", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.SaveTemplate(ctx, tickets.Template{ID: tmpl.ID, Name: "中文变量", Body: "x", Version: tmpl.Version + 5}); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale template: %v", err)
		}
		tk, _ := f.store.Create(ctx, f.carol, f.input("fault"))
		if got := tickets.RenderTemplate(tmpl.Body, tk, "李小红", "alice"); got != "李小红您好，工单 "+tk.Number+" 由alice处理。" {
			t.Fatalf("render: %s", got)
		}
		// A macro: the acknowledgement reply, waiting on the customer, a tag, to Bob.
		m, err := f.store.SaveMacro(ctx, tickets.Macro{Name: "受理并等待", TemplateID: &list[0].ID, SetState: "waiting_customer",
			AddTags: []string{"已受理"}, OwnerID: &f.bob.UserID, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.SaveMacro(ctx, tickets.Macro{Name: "关闭", SetState: "closed", Active: true}); !isInvalid(err, "set_state") {
			t.Fatalf("closing macro: %v", err)
		}
		if _, err := f.store.SaveMacro(ctx, tickets.Macro{Name: "x", TemplateID: ptr(int64(9999)), Active: true}); !isInvalid(err, "template_id") {
			t.Fatalf("unknown template: %v", err)
		}
		// The macro gives the ticket to Bob: Alice (tech support, no
		// tickets.assign) may not apply it, and nothing is applied.
		if _, err := f.store.ApplyMacro(ctx, f.alice, tk.ID, m.ID); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("an assigning macro without tickets.assign: %v", err)
		}
		if msgs, _ := f.store.Messages(ctx, f.alice, tk.ID); len(msgs) != 0 {
			t.Fatalf("a forbidden macro replied: %d", len(msgs))
		}
		got, err := f.store.ApplyMacro(ctx, f.boss, tk.ID, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "waiting_customer" || !slices.Contains(got.Tags, "已受理") || *got.OwnerID != f.bob.UserID || got.FirstResponseAt == nil {
			t.Fatalf("applied: %+v", got)
		}
		msgs, _ := f.store.Messages(ctx, f.alice, tk.ID)
		if len(msgs) != 1 || msgs[0].Body != "您好，李小红，您的问题我们已收到（工单号 "+tk.Number+"），正在处理，请保持电话畅通。" {
			t.Fatalf("reply: %+v", msgs)
		}
		// A macro whose state is not allowed from here applies nothing.
		ack, _ := f.store.SaveMacro(ctx, tickets.Macro{Name: "受理", TemplateID: &list[0].ID, SetState: "acknowledged", AddTags: []string{"x"}, Active: true})
		before, _ := f.store.Get(ctx, f.boss, tk.ID)
		if _, err := f.store.ApplyMacro(ctx, f.bob, tk.ID, ack.ID); conflictKey(err) != "tickets.error.transition" {
			t.Fatalf("bad macro: %v", err)
		}
		after, _ := f.store.Get(ctx, f.boss, tk.ID)
		if after.Version != before.Version || slices.Contains(after.Tags, "x") {
			t.Fatalf("a refused macro changed the ticket: %+v", after)
		}
		if msgs, _ = f.store.Messages(ctx, f.alice, tk.ID); len(msgs) != 1 {
			t.Fatalf("a refused macro replied: %d", len(msgs))
		}
		// Carol (another team) created it, so she sees it: the assigning
		// macro is forbidden to her (not "not found"), one that only tags is not.
		if _, err := f.store.ApplyMacro(ctx, f.carol, tk.ID, m.ID); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("carol created it, so she sees it, but may not assign: %v", err)
		}
		tag, _ := f.store.SaveMacro(ctx, tickets.Macro{Name: "标记", AddTags: []string{"回访"}, Active: true})
		if _, err := f.store.ApplyMacro(ctx, f.carol, tk.ID, tag.ID); err != nil {
			t.Fatalf("carol created it, so she sees it: %v", err)
		}
		// A macro that gives the ticket to its user alone needs no tickets.assign.
		mine, _ := f.store.SaveMacro(ctx, tickets.Macro{Name: "我来跟进", OwnerID: &f.carol.UserID, Active: true})
		if got, err := f.store.ApplyMacro(ctx, f.carol, tk.ID, mine.ID); err != nil || *got.OwnerID != f.carol.UserID {
			t.Fatalf("a macro assigning to oneself: %+v %v", got, err)
		}
	})
}

func TestMergeLinksFollowersAndScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "tech", Active: true, TeamID: f.tech.ID, Strategy: "least_load"}); err != nil {
			t.Fatal(err)
		}
		a, _ := f.store.Create(ctx, f.boss, f.input("fault"))
		b, _ := f.store.Create(ctx, f.boss, f.input("fault"))
		if _, _, err := f.store.AddPost(ctx, f.alice, a.ID, tickets.Post{Body: "回复一", TimeSpent: 4}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.store.AddPost(ctx, f.alice, a.ID, tickets.Post{Body: "备注一", Internal: true, TimeSpent: 2, Mentions: []int64{f.carol.UserID}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.AddCommitment(ctx, f.alice, a.ID, tickets.CommitmentInput{Text: "明天回电", DueIn: "1d"}); err != nil {
			t.Fatal(err)
		}
		other, _ := f.customers.Create(ctx, customers.Input{Name: ptr("王五"), Phones: &[]string{"13900139000"}})
		in := f.input("fault")
		in.CustomerID = other.ID
		c, _ := f.store.Create(ctx, f.boss, in)
		if _, err := f.store.Merge(ctx, f.boss, a.ID, a.ID); !isInvalid(err, "into") {
			t.Fatalf("into itself: %v", err)
		}
		if _, err := f.store.Merge(ctx, f.boss, a.ID, c.ID); !isInvalid(err, "into") {
			t.Fatalf("across customers: %v", err)
		}
		// Carol (mentioned on a) may not merge a into b, which she cannot see.
		if _, err := f.store.Merge(ctx, f.carol, a.ID, b.ID); !isInvalid(err, "into") {
			t.Fatalf("into an invisible ticket: %v", err)
		}
		got, err := f.store.Merge(ctx, f.boss, a.ID, b.ID)
		if err != nil || got.ID != b.ID || got.TimeSpent != 6 || got.LastMessageID == 0 {
			t.Fatalf("merge: %+v %v", got, err)
		}
		msgs, _ := f.store.Messages(ctx, f.boss, b.ID)
		notes, _ := f.store.Notes(ctx, f.boss, b.ID)
		cms, _ := f.store.Commitments(ctx, f.boss, b.ID)
		if len(msgs) != 1 || len(notes) != 1 || len(cms) != 1 {
			t.Fatalf("moved: %d %d %d", len(msgs), len(notes), len(cms))
		}
		old, _ := f.store.Get(ctx, f.boss, a.ID)
		if old.MergedInto == nil || *old.MergedInto != b.ID || old.State != "closed" || old.Open() || !strings.Contains(old.Confirmation, b.Number) {
			t.Fatalf("merged away: %+v", old)
		}
		if byNum, err := f.store.GetByNumber(ctx, f.boss, a.Number); err != nil || byNum.ID != b.ID {
			t.Fatalf("old number: %+v %v", byNum, err)
		}
		if _, err := f.store.Merge(ctx, f.boss, c.ID, a.ID); !isInvalid(err, "into") {
			t.Fatalf("into a merged ticket: %v", err)
		}
		for _, id := range []int64{a.ID, b.ID} {
			evs, _ := f.store.Events(ctx, id)
			if evs[len(evs)-1].Kind != tickets.EventMerged {
				t.Fatalf("ticket %d last event %s", id, evs[len(evs)-1].Kind)
			}
		}
		// The mention moved with its note: carol now sees b.
		if _, err := f.store.Get(ctx, f.carol, b.ID); err != nil {
			t.Fatalf("carol's mention: %v", err)
		}
		// Links: stored once, listed from both sides, only what the viewer sees.
		d2, _ := f.store.Create(ctx, f.boss, f.input("fault"))
		if err := f.store.Link(ctx, f.boss, d2.ID, b.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Link(ctx, f.boss, b.ID, d2.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Link(ctx, f.boss, b.ID, b.ID); !isInvalid(err, "related_id") {
			t.Fatalf("self link: %v", err)
		}
		la, _ := f.store.Links(ctx, f.boss, b.ID)
		lb, _ := f.store.Links(ctx, f.boss, d2.ID)
		if len(la) != 1 || la[0].ID != d2.ID || len(lb) != 1 || lb[0].ID != b.ID {
			t.Fatalf("links %+v %+v", la, lb)
		}
		if lc, _ := f.store.Links(ctx, f.carol, b.ID); len(lc) != 0 {
			t.Fatalf("carol sees a link to a ticket she cannot see: %+v", lc)
		}
		if err := f.store.Unlink(ctx, f.boss, b.ID, d2.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Unlink(ctx, f.boss, b.ID, d2.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unlink twice: %v", err)
		}
		// Following makes a ticket visible.
		if _, err := f.store.Get(ctx, f.carol, d2.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("carol sees d2: %v", err)
		}
		if err := f.store.Follow(ctx, f.boss, d2.ID, f.carol.UserID); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Follow(ctx, f.boss, d2.ID, f.carol.UserID); err != nil {
			t.Fatal(err)
		}
		if fl, _ := f.store.Followers(ctx, f.carol, d2.ID); len(fl) != 1 || fl[0].Name != "carol" {
			t.Fatalf("followers %+v", fl)
		}
		if err := f.store.Unfollow(ctx, f.carol, d2.ID, f.carol.UserID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Get(ctx, f.carol, d2.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("carol still sees d2: %v", err)
		}
		entries, _ := f.audit.List(ctx, audit.Filter{Action: "ticket.follow"})
		if len(entries.Entries) != 1 {
			t.Fatalf("follow audit: %d", len(entries.Entries))
		}
	})
}

func TestPresenceViewsMentionsBulkAndStaff(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "tech", Active: true, TeamID: f.tech.ID, Strategy: "queue"}); err != nil {
			t.Fatal(err)
		}
		tk, _ := f.store.Create(ctx, f.boss, f.input("fault"))
		if err := f.store.Touch(ctx, f.alice, tk.ID, false); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Touch(ctx, f.bob, tk.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Touch(ctx, f.carol, tk.ID, true); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("carol touches: %v", err)
		}
		ps, _ := f.store.Presence(ctx, f.alice, tk.ID)
		if len(ps) != 1 || ps[0].Name != "bob" || !ps[0].Replying {
			t.Fatalf("presence %+v", ps)
		}
		f.clock.Advance(61 * time.Second)
		if ps, _ = f.store.Presence(ctx, f.alice, tk.ID); len(ps) != 0 {
			t.Fatalf("stale presence %+v", ps)
		}
		// Saved views: own only, valid queries only.
		v, err := f.store.CreateView(ctx, f.alice, "我的紧急", "queue=mine&severity=urgent&state=new,in_progress")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.CreateView(ctx, f.alice, "坏", "severity=huge"); !isInvalid(err, "query") {
			t.Fatalf("bad view: %v", err)
		}
		if _, err := f.store.CreateView(ctx, f.alice, "我的紧急", "queue=mine"); !isInvalid(err, "name") {
			t.Fatalf("same name: %v", err)
		}
		if list, _ := f.store.Views(ctx, f.bob); len(list) != 0 {
			t.Fatalf("bob sees alice's views: %+v", list)
		}
		if err := f.store.DeleteView(ctx, f.bob, v.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("bob deletes alice's view: %v", err)
		}
		if err := f.store.DeleteView(ctx, f.alice, v.ID); err != nil {
			t.Fatal(err)
		}
		fl, err := tickets.FilterFromQuery(url.Values{"owner_id": {"me"}, "state": {"new,resolved", "closed"}}, 7)
		if err != nil || fl.OwnerID != 7 || len(fl.States) != 3 {
			t.Fatalf("filter: %+v %v", fl, err)
		}
		if _, err := tickets.FilterFromQuery(url.Values{"owner_id": {"abc"}, "bogus": {"1"}}, 7); !isInvalid(err, "owner_id") || !isInvalid(err, "bogus") {
			t.Fatalf("bad filter: %v", err)
		}
		// Mentions read.
		if _, _, err := f.store.AddPost(ctx, f.alice, tk.ID, tickets.Post{Body: "看一下 @bob", Internal: true, Mentions: []int64{f.bob.UserID}}); err != nil {
			t.Fatal(err)
		}
		if counts, _ := f.store.QueueCounts(ctx, f.bob, 10); counts["mentions"] != 1 {
			t.Fatalf("unread mentions %v", counts)
		}
		if n, err := f.store.MarkMentionsRead(ctx, f.bob, tk.ID); err != nil || n != 1 {
			t.Fatalf("read: %d %v", n, err)
		}
		if counts, _ := f.store.QueueCounts(ctx, f.bob, 10); counts["mentions"] != 0 {
			t.Fatalf("read mentions still counted %v", counts)
		}
		// Bulk: carol's ticket among tech tickets she cannot see.
		t2, _ := f.store.Create(ctx, f.boss, f.input("fault"))
		res, err := f.store.BulkTransition(ctx, f.alice, []int64{tk.ID, t2.ID, 99999, tk.ID}, tickets.TransitionInput{To: "acknowledged"})
		if err != nil || len(res) != 3 || !res[0].OK || !res[1].OK || res[2].OK || res[2].Key != "error.not_found" {
			t.Fatalf("bulk: %+v %v", res, err)
		}
		res, _ = f.store.BulkTransition(ctx, f.alice, []int64{tk.ID}, tickets.TransitionInput{To: "acknowledged"})
		if res[0].OK || res[0].Key != "tickets.error.transition" || res[0].Params["State"] != "acknowledged" {
			t.Fatalf("bulk conflict: %+v", res)
		}
		if _, err := f.store.BulkTransition(ctx, f.alice, nil, tickets.TransitionInput{To: "resolved"}); !isInvalid(err, "ids") {
			t.Fatalf("empty bulk: %v", err)
		}
		if _, err := f.store.BulkTransition(ctx, f.alice, []int64{tk.ID}, tickets.TransitionInput{To: "closed"}); !isInvalid(err, "confirmation") {
			t.Fatalf("bulk close without confirmation: %v", err)
		}
		many := make([]int64, 201)
		for i := range many {
			many[i] = int64(i + 1)
		}
		if _, err := f.store.BulkAssign(ctx, f.boss, many, tickets.AssignInput{OwnerID: &f.bob.UserID}); !isInvalid(err, "ids") {
			t.Fatalf("too many: %v", err)
		}
		res, err = f.store.BulkAssign(ctx, f.boss, []int64{tk.ID, t2.ID}, tickets.AssignInput{OwnerID: &f.bob.UserID})
		if err != nil || !res[0].OK || !res[1].OK {
			t.Fatalf("bulk assign: %+v %v", res, err)
		}
		entries, _ := f.audit.List(ctx, audit.Filter{Action: "ticket.assign"})
		if len(entries.Entries) != 2 {
			t.Fatalf("one audit entry per ticket: %d", len(entries.Entries))
		}
		// Reassigning needs a reason, per ticket.
		res, _ = f.store.BulkAssign(ctx, f.boss, []int64{tk.ID}, tickets.AssignInput{OwnerID: &f.alice.UserID})
		if res[0].OK || res[0].Field != "reason" {
			t.Fatalf("bulk reassign without reason: %+v", res)
		}
		// Skills and duty feed routing.
		if err := f.store.SetSkills(ctx, f.alice.UserID, []string{"打印机", " 打印机", "扫描仪"}); err != nil {
			t.Fatal(err)
		}
		if sk, _ := f.store.Skills(ctx, f.alice.UserID); strings.Join(sk, ",") != "打印机,扫描仪" {
			t.Fatalf("skills %v", sk)
		}
		if err := f.store.SetOnDuty(ctx, f.alice.UserID, false); err != nil {
			t.Fatal(err)
		}
		if on, _ := f.store.OnDuty(ctx, f.alice.UserID); on {
			t.Fatal("still on duty")
		}
		if err := f.store.SetSkills(ctx, 99999, nil); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		for _, a := range []string{"staff.skills", "staff.on_duty"} {
			if e, _ := f.audit.List(ctx, audit.Filter{Action: a}); len(e.Entries) != 1 {
				t.Fatalf("%s audit: %d", a, len(e.Entries))
			}
		}
	})
}
