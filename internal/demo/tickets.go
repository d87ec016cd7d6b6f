package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/ticketsla"
	"github.com/careloop/careloop/internal/timeline"
)

// TicketCount is how many tickets the demo month holds.
const TicketCount = 320

// subjects are realistic requests by type: what customers of a Chinese
// appliance and office-equipment dealer call about.
var subjects = map[string][]string{
	"fault":        {"打印机开机黑屏", "净水器漏水", "空调外机异响", "路由器频繁掉线", "扫码枪无法识别条码", "显示屏花屏", "设备无法开机", "热水器点不着火"},
	"consultation": {"如何更换滤芯", "保修期怎么查询", "发票怎么开", "空调遥控器怎么设置定时", "能否延长保修", "滤芯多久换一次"},
	"complaint":    {"上门师傅迟到两小时", "客服电话一直打不通", "维修后再次故障", "配件收费不合理", "物流延误未通知", "安装师傅态度差"},
	"return":       {"收到商品外壳破损申请退货", "七天无理由退货", "尺寸不合适要退货"},
	"exchange":     {"申请换货：颜色发错", "新机三天就故障要求换货", "配件型号不对申请换货"},
	"repair":       {"空调不制冷需上门维修", "热水器维修预约", "洗衣机不脱水", "复印机卡纸需上门"},
	"suggestion":   {"建议增加微信进度通知", "说明书字太小", "希望周末也能上门"},
	"other":        {"更改收货地址", "会员积分查询", "开具增值税专用发票"},
}

var customerLines = []string{"你好，设备还是不行，麻烦尽快处理。", "我明天上午在家，可以上门。", "已经按你们说的试过了，还是一样。",
	"好的，谢谢。", "请问大概什么时候能修好？", "照片已经发到微信上了。"}

var replyLines = []string{"您好，您的问题我们已收到，正在处理，请保持电话畅通。", "已为您安排技术人员，今天下午会电话联系您。",
	"请您先断电重启一次，再看是否恢复。", "配件已到，明天上午上门更换。", "已为您登记换货，新机预计三天内送达。"}

var noteLines = []string{"客户比较着急，优先处理。", "已和仓库确认配件有货。", "第二次报同样的故障，建议品保跟进。", "客户要求只在工作日上午联系。"}

// SeedTickets loads a realistic month of tickets when there are none:
// every type, channel, state and severity, replies, internal notes,
// commitments kept, open and overdue, complaints with their 五清楚 fields
// and a few major ones. It runs the real ticket store on a clock moved
// through the month, so numbers, events, audit and timeline agree. With an
// attachment store (files, optional) a few replies carry a photo or a PDF.
// With the SLA (optional) the tickets get their timers as they go, and a
// quiet sweep at the end records the breaches of the month (the running
// server's sweeps then warn and escalate what falls due from now on).
func SeedTickets(ctx context.Context, d *db.DB, ids *identity.Store, now time.Time, slaSvc *ticketsla.Service, files ...*attachments.Store) error {
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM tickets`).Scan(&n); err != nil || n > 0 {
		return err
	}
	staff, err := demoStaff(ctx, ids)
	if err != nil || len(staff) == 0 {
		return err
	}
	clk := clock.NewFake(now.Add(-30 * 24 * time.Hour))
	al := audit.New(d, clk)
	store := tickets.NewStore(d, clk, al, timeline.New(d, clk))
	if len(files) > 0 && files[0] != nil {
		store.UseAttachments(files[0])
	}
	var timers *ticketsla.Service
	if slaSvc != nil {
		timers = slaSvc.For(clk, store, true)
		store.Listen(timers.Listen)
	}
	if err := seedRouting(ctx, store, ids); err != nil {
		return err
	}
	custs, err := demoCustomers(ctx, d)
	if err != nil || len(custs) == 0 {
		return err
	}
	cats, err := store.Categories(ctx)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(2026, 12))
	admin := staff["admin"]
	start := now.Add(-30 * 24 * time.Hour)
	for i := range TicketCount {
		// Later tickets are more numerous: a business that grows, and
		// a queue that holds this week's work.
		at := start.Add(time.Duration(float64(30*24*time.Hour) * (1 - r.Float64()*r.Float64())))
		at = workingTime(at, r)
		if at.After(now.Add(-10 * time.Minute)) {
			at = now.Add(-time.Duration(10+r.IntN(600)) * time.Minute)
		}
		clk.Set(at)
		c := custs[r.IntN(len(custs))]
		typ := pick(r, []string{"fault", "fault", "fault", "consultation", "consultation", "complaint", "return", "exchange", "repair", "repair", "suggestion", "other"})
		in := tickets.Input{CustomerID: c.id, Type: typ, Channel: pick(r, tickets.Channels), Severity: pick(r, []string{"general", "general", "general", "important", "urgent"}),
			Subject: pick(r, subjects[typ]), Description: "客户来电反映：" + pick(r, subjects[typ]) + "。", Expectation: pick(r, []string{"尽快上门", "今天内回电", "免费维修", "换新机", "给个说法"})}
		if i%3 == 0 {
			in.Channel = "phone"
		}
		if c.product != 0 && typ != "consultation" {
			in.OwnedProductID = &c.product
		}
		if cat := categoryFor(cats, typ); cat != 0 {
			in.CategoryID = &cat
		}
		if typ == "complaint" {
			happened := at.Add(-time.Duration(r.IntN(72)) * time.Hour)
			in.Complaint = &tickets.Complaint{Against: pick(r, []string{"上门工程师", "客服热线", "物流公司", "产品质量"}), OccurredAt: &happened,
				Place: pick(r, []string{"客户家中", "门店", "电话中", "小区门口"}), WantedRemedy: pick(r, []string{"道歉并免除上门费", "退款", "更换新机", "赔偿优惠券"})}
		}
		creator := pick(r, []*identity.Principal{staff["agent"], staff["agent"], staff["supervisor"]})
		t, err := store.Create(audit.WithActor(ctx, actor(creator)), creator, in)
		if err != nil {
			return fmt.Errorf("demo ticket %d: %w", i, err)
		}
		if err := progress(ctx, store, clk, r, t, staff, admin, now); err != nil {
			return fmt.Errorf("demo ticket %s: %w", t.Number, err)
		}
	}
	if timers != nil {
		clk.Set(now)
		if _, err := timers.Sweep(ctx); err != nil {
			return fmt.Errorf("demo SLA sweep: %w", err)
		}
	}
	return nil
}

func actor(p *identity.Principal) audit.Actor { return audit.Actor{UserID: p.UserID, Label: p.Email} }

// progress plays a ticket's life up to now: the older, the further along.
func progress(ctx context.Context, store *tickets.Store, clk *clock.Fake, r *rand.Rand, t tickets.Ticket, staff map[string]*identity.Principal, admin *identity.Principal, now time.Time) error {
	owner := admin
	if t.OwnerID != nil {
		for _, p := range staff {
			if p.UserID == *t.OwnerID {
				owner = p
			}
		}
	} else if r.IntN(3) > 0 {
		// Someone from the team takes most queued tickets.
		for _, key := range []string{"technician", "after_sales", "agent"} {
			if taken, err := store.Take(audit.WithActor(ctx, actor(staff[key])), staff[key], t.ID); err == nil {
				t, owner = taken, staff[key]
				break
			}
		}
	}
	if t.OwnerID == nil {
		return nil // left in the team's queue, for the unassigned view
	}
	octx := audit.WithActor(ctx, actor(owner))
	age := now.Sub(t.CreatedAt)
	step := func(d time.Duration) bool {
		next := clk.Now().Add(d)
		if next.After(now.Add(-time.Minute)) {
			return false
		}
		clk.Set(next)
		return true
	}
	if !step(time.Duration(2+r.IntN(40)) * time.Minute) {
		return nil
	}
	if r.IntN(10) == 0 {
		_, err := store.Transition(octx, owner, t.ID, tickets.TransitionInput{To: "acknowledged"})
		return err
	}
	if err := firstReply(octx, store, owner, t, tickets.Post{Body: replyLines[0], TimeSpent: 2 + r.IntN(5)}); err != nil {
		return err
	}
	if r.IntN(3) == 0 {
		if _, _, err := store.AddPost(octx, owner, t.ID, tickets.Post{Body: pick(r, noteLines), Internal: true, TimeSpent: 1 + r.IntN(3)}); err != nil {
			return err
		}
	}
	if r.IntN(2) == 0 {
		c, err := store.AddCommitment(octx, owner, t.ID, tickets.CommitmentInput{Text: pick(r, []string{"两小时内回电告知进度", "明天上午安排上门", "今天下班前确认配件"}),
			DueIn: pick(r, []string{"2h", "4h", "1d"})})
		if err != nil {
			return err
		}
		if age > 30*time.Hour && r.IntN(4) > 0 {
			if !step(time.Duration(30+r.IntN(200)) * time.Minute) {
				return nil
			}
			if _, err := store.KeepCommitment(octx, owner, t.ID, c.ID); err != nil {
				return err
			}
		}
	}
	if !step(time.Duration(1+r.IntN(20)) * time.Hour) {
		return nil
	}
	if _, err := store.AddCustomerMessage(octx, owner, t.ID, pick(r, customerLines), ""); err != nil {
		return err
	}
	switch {
	case age < 48*time.Hour && r.IntN(2) == 0:
		return nil // still in progress
	case r.IntN(8) == 0:
		_, err := store.Transition(octx, owner, t.ID, tickets.TransitionInput{To: pick(r, []string{"waiting_customer", "waiting_third_party"})})
		return err
	case t.Type == "suggestion" && r.IntN(2) == 0:
		_, err := store.Transition(octx, owner, t.ID, tickets.TransitionInput{To: "no_action", Note: "已转产品部参考"})
		return err
	}
	if !step(time.Duration(1+r.IntN(30)) * time.Hour) {
		return nil
	}
	if _, _, err := store.AddPost(octx, owner, t.ID, tickets.Post{Body: pick(r, replyLines[1:]), TimeSpent: 5 + r.IntN(30)}); err != nil {
		return err
	}
	if _, err := store.Transition(octx, owner, t.ID, tickets.TransitionInput{To: "resolved"}); err != nil {
		return err
	}
	if !step(time.Duration(2+r.IntN(48))*time.Hour) || r.IntN(5) == 0 {
		return nil
	}
	_, err := store.Transition(octx, owner, t.ID, tickets.TransitionInput{To: "closed",
		Confirmation: pick(r, []string{"客户确认设备运行正常", "客户表示满意，问题已解决", "回访确认已收到新机"})})
	return err
}

// workingTime moves a time into the working day (Shanghai, 8:30–20:00),
// where phone requests arrive.
func workingTime(t time.Time, r *rand.Rand) time.Time {
	local := t.In(tickets.BusinessZone)
	if h := local.Hour(); h < 8 || h >= 20 {
		local = time.Date(local.Year(), local.Month(), local.Day(), 9+r.IntN(10), r.IntN(60), 0, 0, tickets.BusinessZone)
	}
	return local.UTC()
}

func categoryFor(cats []tickets.Category, typ string) int64 {
	want := map[string]string{"fault": "技术故障", "repair": "技术故障", "consultation": "使用咨询", "complaint": "服务态度",
		"return": "产品质量", "exchange": "产品质量", "other": "其他", "suggestion": "其他"}[typ]
	for _, c := range cats {
		if c.Name == want {
			return c.ID
		}
	}
	return 0
}

// demoStaff returns the principals of the demo accounts by role.
func demoStaff(ctx context.Context, ids *identity.Store) (map[string]*identity.Principal, error) {
	out := map[string]*identity.Principal{}
	for _, a := range Accounts {
		u, err := ids.GetUserByEmail(ctx, a.Email)
		if err != nil {
			continue
		}
		p, err := ids.PrincipalFor(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		out[a.Role] = p
	}
	return out, nil
}

// seedRouting routes the demo company's requests: complaints to the
// service desk, faults to tech support, returns, exchanges and repairs to
// after-sales, WeChat repair requests to the regional technicians' queue,
// the rest to the service desk in turn.
func seedRouting(ctx context.Context, store *tickets.Store, ids *identity.Store) error {
	teams, err := ids.ListTeams(ctx)
	if err != nil {
		return err
	}
	byName := map[string]int64{}
	for _, t := range teams {
		byName[t.Name] = t.ID
	}
	rules := []tickets.Rule{
		{Name: "投诉由客服组处理", Types: []string{"complaint"}, TeamID: byName["客服组"], Strategy: "least_load"},
		{Name: "微信报修进华东维修组待领取", Types: []string{"repair"}, Channels: []string{"wechat"}, TeamID: byName["华东维修组"], Strategy: "queue"},
		{Name: "故障报修给技术支持", Types: []string{"fault"}, TeamID: byName["技术支持组"], Strategy: "round_robin"},
		{Name: "退换货和维修给售后", Types: []string{"return", "exchange", "repair"}, TeamID: byName["售后组"], Strategy: "least_load"},
		{Name: "其余由客服组轮流处理", TeamID: byName["客服组"], Strategy: "round_robin"},
	}
	for _, r := range rules {
		if r.TeamID == 0 {
			continue
		}
		r.Active = true
		if _, err := store.CreateRule(ctx, r); err != nil {
			return fmt.Errorf("demo routing rule %s: %w", r.Name, err)
		}
	}
	return nil
}

type demoCustomer struct{ id, product int64 }

// demoCustomers returns customers with one of their products each (0 when
// they own none), those with products first.
func demoCustomers(ctx context.Context, d *db.DB) ([]demoCustomer, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT c.id, COALESCE((SELECT MIN(p.id) FROM customer_products p WHERE p.customer_id = c.id), 0)
		FROM customers c WHERE c.merged_into IS NULL AND c.erased_at IS NULL ORDER BY c.id LIMIT 400`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []demoCustomer
	for rows.Next() {
		var c demoCustomer
		if err := rows.Scan(&c.id, &c.product); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
