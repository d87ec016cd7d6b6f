package care

import (
	"context"
	"fmt"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/sla"
)

// DefaultPlans are shipped enabled (SPEC section 5, seed 000): the first
// follow-up visit 3–7 days after a purchase, the second after a week of
// use, holiday care 3–5 days before the Spring Festival and Mid-Autumn,
// birthday and cooperation anniversary a few days before, a quarterly deep
// talk with customers of a year or more, maintenance reminders at the
// product's interval, contract renewal 30 days before the end and the
// warranty's expiry. Administrators edit them afterwards; EnsureDefaults
// never touches a plan that exists.
var DefaultPlans = []Plan{
	{Key: "first_visit", Name: "首次回访（购买后 3–7 天）", Kind: KindAfterPurchase, WindowStart: 3, WindowEnd: 7,
		Script: "{title}您好，我是{agent}。您购买的{product}已经用了几天，使用上还顺利吗？有任何问题随时告诉我。"},
	{Key: "second_visit", Name: "二次回访（使用一周后）", Kind: KindAfterPurchase, WindowStart: 7, WindowEnd: 14,
		Script: "{title}您好，{product}使用一周了，想听听您的感受和建议。"},
	{Key: "spring_festival", Name: "春节关怀", Kind: KindFestival, Params: Params{Festival: sla.FestivalSpring},
		WindowStart: -5, WindowEnd: -3, Script: "{title}，新春将至，{company}祝您和家人新年快乐、万事如意！"},
	{Key: "mid_autumn", Name: "中秋关怀", Kind: KindFestival, Params: Params{Festival: sla.FestivalMidAutumn},
		WindowStart: -5, WindowEnd: -3, Script: "{title}，中秋将至，祝您阖家团圆、幸福安康！"},
	{Key: "birthday", Name: "生日关怀", Kind: KindBirthday, WindowStart: -3, WindowEnd: 0,
		Script: "{title}，祝您生日快乐！感谢您一直以来的支持。"},
	{Key: "anniversary", Name: "合作周年关怀", Kind: KindAnniversary, WindowStart: -3, WindowEnd: 0,
		Script: "{title}，感谢您与我们合作又满一年，我们会继续做好服务。"},
	{Key: "deep_talk", Name: "老客户深度沟通（每季度）", Kind: KindDeepTalk, Params: Params{MinYears: 1}, WindowStart: 0, WindowEnd: 30,
		Script: "{title}您好，想和您聊聊这段时间的使用情况和新的需求。"},
	{Key: "maintenance", Name: "耗材/保养提醒", Kind: KindMaintenance, WindowStart: -7, WindowEnd: 7,
		Script: "{title}您好，您的{product}到了建议保养/更换耗材的时间，需要为您安排吗？"},
	{Key: "contract_renewal", Name: "服务合同续签（到期前 30 天）", Kind: KindContract, WindowStart: -30, WindowEnd: -23,
		Script: "{title}您好，您的服务合同将于{date}到期，我来和您确认续签事宜。"},
	{Key: "warranty_expiry", Name: "保修到期提醒", Kind: KindWarranty, WindowStart: -14, WindowEnd: -7,
		Script: "{title}您好，您的{product}保修将于{date}到期，如需延保或检修请告诉我。"},
}

// EnsureDefaults adds the shipped plans that are missing, by key; safe to
// run on every start and on several servers at once (the key is unique).
func (s *Store) EnsureDefaults(ctx context.Context) error {
	for _, p := range DefaultPlans {
		p.AssigneeRule, p.ChannelRule, p.Active = AssignOwner, ChannelPreference, true
		if err := p.Validate(s.voc); err != nil {
			return fmt.Errorf("care: default plan %s: %w", p.Key, err)
		}
		if err := s.db.WithTx(ctx, func(ctx context.Context) error {
			return s.insertPlan(ctx, &p, db.Now(s.clock.Now()), true)
		}); err != nil {
			return fmt.Errorf("care: default plan %s: %w", p.Key, err)
		}
	}
	return nil
}
