package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
)

// PortalEmail is the demo customer's portal address: it signs in with a
// magic link like any customer, and a --demo server's portal sign-in page
// offers a direct sign-in for it.
const PortalEmail = "customer@demo.careloop.cn"

// PortalName is the demo customer.
const PortalName = "周晓梅"

// SeedPortal gives the demo company a portal customer, when there is none:
// 周晓梅 with two products (one in warranty, one out) and three requests
// that show every part of the portal: one being worked on with a reply,
// one resolved and waiting for her confirmation, one she confirmed. It runs
// the real stores on a clock moved back through the last days.
func SeedPortal(ctx context.Context, d *db.DB, ids *identity.Store, cat *customers.Catalog, p *portal.Store, now time.Time, files ...*attachments.Store) error {
	if _, err := p.AccountByEmail(ctx, PortalEmail); err == nil {
		return nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	staff, err := demoStaff(ctx, ids)
	if err != nil {
		return err
	}
	agent, aftersales, sup := staff["agent"], staff["after_sales"], staff["supervisor"]
	if agent == nil || aftersales == nil || sup == nil {
		return fmt.Errorf("demo portal: the demo staff are missing")
	}
	clk := clock.NewFake(now.Add(-9 * 24 * time.Hour))
	al := audit.New(d, clk)
	tl := timeline.New(d, clk)
	cs := customers.NewStore(d, clk, al, tl)
	store := tickets.NewStore(d, clk, al, tl)
	if len(files) > 0 && files[0] != nil {
		store.UseAttachments(files[0])
	}
	cid, err := p.CustomerByEmail(ctx, PortalEmail)
	if err != nil {
		return err
	}
	if cid == 0 {
		name, email, phone, addr := PortalName, PortalEmail, "13817263544", "上海市浦东新区锦绣路 1688 弄 12 号"
		c, err := cs.Create(ctx, customers.Input{Name: &name, Email: &email, Phones: &[]string{phone}, Address: &addr})
		if err != nil {
			return fmt.Errorf("demo portal customer: %w", err)
		}
		cid = c.ID
	}
	products, err := cat.List(ctx, "", 0, 50)
	if err != nil {
		return err
	}
	byName := map[string]int64{}
	for _, pr := range products {
		byName[pr.Name] = pr.ID
	}
	var purifier, lock int64
	if byName["家用净水器"] != 0 && byName["智能门锁"] != 0 {
		today := now.In(customers.BusinessZone)
		o1, err := cs.AddOwned(ctx, cid, customers.OwnedInput{ProductID: byName["家用净水器"], Serial: "SN2503RO0917",
			PurchaseDate: today.AddDate(0, -10, 0).Format("2006-01-02")})
		if err != nil {
			return err
		}
		o2, err := cs.AddOwned(ctx, cid, customers.OwnedInput{ProductID: byName["智能门锁"], Serial: "SN2309SL0233",
			PurchaseDate: today.AddDate(-2, -3, 0).Format("2006-01-02")})
		if err != nil {
			return err
		}
		purifier, lock = o1.ID, o2.ID
	}
	acc, err := p.EnsureEmailAccount(ctx, PortalEmail)
	if err != nil {
		return err
	}
	cp := acc.Principal()
	cctx := audit.WithActor(ctx, audit.Actor{Label: "portal:" + PortalEmail})
	act := func(s *identity.Principal) context.Context { return audit.WithActor(ctx, actor(s)) }
	// handTo gives a ticket to who answers it in the demo, whatever the
	// routing rules chose.
	handTo := func(id int64, to *identity.Principal) error {
		owner := to.UserID
		_, err := store.Assign(act(sup), sup, id, tickets.AssignInput{OwnerID: &owner, Reason: "演示数据"})
		return err
	}
	ptr := func(id int64) *int64 {
		if id == 0 {
			return nil
		}
		return &id
	}
	// Confirmed: a filter change a week ago.
	t1, err := store.CreateForCustomer(cctx, cp, tickets.Input{CustomerID: cid, Type: "consultation", Channel: portal.Channel,
		OwnedProductID: ptr(purifier), Subject: "净水器滤芯多久换一次？", Description: "净水器面板上的滤芯灯变红了，是不是该换滤芯了？需要预约上门吗？"}, nil, "")
	if err != nil {
		return fmt.Errorf("demo portal ticket: %w", err)
	}
	if err := handTo(t1.ID, agent); err != nil {
		return err
	}
	clk.Advance(40 * time.Minute)
	if _, _, err := store.AddPost(act(agent), agent, t1.ID, tickets.Post{Body: "周女士您好，滤芯灯变红表示 PP 棉滤芯到期，建议更换。我们已为您预约明天上午 10 点上门更换，费用在保修范围内。", TimeSpent: 5}); err != nil {
		return err
	}
	clk.Advance(26 * time.Hour)
	if _, err := store.Transition(act(agent), agent, t1.ID, tickets.TransitionInput{To: tickets.StateResolved, Note: "已上门更换滤芯"}); err != nil {
		return err
	}
	clk.Advance(3 * time.Hour)
	if _, err := store.ConfirmResolved(cctx, cp, t1.ID, "滤芯已换好，出水正常，谢谢！"); err != nil {
		return err
	}
	// Resolved, waiting for her confirmation.
	clk.Set(now.Add(-3 * 24 * time.Hour))
	t2, err := store.CreateForCustomer(cctx, cp, tickets.Input{CustomerID: cid, Type: "fault", Channel: portal.Channel,
		OwnedProductID: ptr(lock), Subject: "门锁指纹识别失灵", Description: "这两天指纹经常识别不了，要按好几次才开，密码开锁正常。"}, nil, "")
	if err != nil {
		return err
	}
	if err := handTo(t2.ID, aftersales); err != nil {
		return err
	}
	clk.Advance(25 * time.Minute)
	if _, _, err := store.AddPost(act(aftersales), aftersales, t2.ID, tickets.Post{Body: "您好，请先用干布擦拭指纹识别区，并在设置中重新录入指纹。门锁已过保修期，如需上门检修，上门费 80 元。", TimeSpent: 4}); err != nil {
		return err
	}
	clk.Advance(5 * time.Hour)
	if _, err := store.AddCustomerMessage(cctx, cp, t2.ID, "重新录入后好多了，再观察两天。", portal.Channel); err != nil {
		return err
	}
	clk.Advance(20 * time.Hour)
	if _, err := store.Transition(act(aftersales), aftersales, t2.ID, tickets.TransitionInput{To: tickets.StateResolved}); err != nil {
		return err
	}
	// Being worked on: asked this morning, answered.
	clk.Set(now.Add(-5 * time.Hour))
	t3, err := store.CreateForCustomer(cctx, cp, tickets.Input{CustomerID: cid, Type: "other", Channel: portal.Channel,
		Subject: "开具增值税专用发票", Description: "上个月购买的净水器滤芯，需要开具增值税专用发票，公司抬头和税号稍后发给您。"}, nil, "")
	if err != nil {
		return err
	}
	if err := handTo(t3.ID, agent); err != nil {
		return err
	}
	clk.Advance(35 * time.Minute)
	_, _, err = store.AddPost(act(agent), agent, t3.ID, tickets.Post{Body: "好的，收到抬头和税号后 3 个工作日内开具，电子发票会发到您的邮箱。", TimeSpent: 2})
	return err
}
