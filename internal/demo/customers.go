package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
)

// CustomerCount is how many demo customers --demo loads.
const CustomerCount = 2000

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given    = []string{"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
		"平", "刚", "桂英", "建华", "文", "华", "红", "志强", "晓东", "海燕", "婷", "宇", "浩", "欣怡", "子涵", "梓轩", "雨桐", "嘉怡", "俊杰", "思远"}
	cities    = []string{"北京", "上海", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安"}
	areaCodes = []string{"010", "021", "020", "0755", "0571", "025", "0512", "028", "027", "029"} // same order as cities
	words     = []string{"华信", "创新", "鼎盛", "恒通", "宏远", "金桥", "天成", "瑞丰", "长城", "东方", "新世纪", "中科", "汇众", "德邦", "嘉禾", "博睿", "安泰", "永盛", "明源", "启航"}
	mobiles   = []string{"130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "166", "176", "177", "180", "181", "182", "186", "187", "188", "189", "199"}
	tagPool   = []string{"重点关怀", "年度合同", "投诉过", "老年客户", "喜欢微信", "需上门"}
)

// The product catalog, and which products a customer of each industry buys
// (individuals buy household products).
var (
	catalog = []customers.ProductInput{
		product("家用净水器", "RO-500", 24, 6), product("商用净水机", "RO-3000C", 12, 3), product("空气净化器", "AP-60", 12, 6),
		product("智能门锁", "SL-7", 24, 0), product("工业除湿机", "DH-90", 12, 12), product("客服云 SaaS", "标准版", 12, 0),
		product("客服云 SaaS", "专业版", 12, 0), product("螺杆空压机", "AC-22", 12, 6), product("智能水表", "WM-20", 36, 12),
		product("医用空气消毒机", "AD-200", 24, 3), product("商用制冰机", "IM-80", 12, 6), product("扫地机器人", "RV-9", 12, 0),
	}
	household       = []int{0, 2, 3, 11}
	productsOfTrade = []struct {
		industry, kind string
		products       []int
	}{
		{"电子产品", "电子有限公司", []int{3, 11, 2}}, {"机械设备", "设备制造有限公司", []int{4, 7}},
		{"软件/SaaS", "软件有限公司", []int{5, 6}}, {"公用事业", "水务有限公司", []int{8, 1}},
		{"医疗健康", "医疗器械有限公司", []int{9, 2}}, {"教育培训", "教育科技有限公司", []int{1, 2}},
		{"餐饮", "餐饮管理有限公司", []int{1, 10}}, {"物业", "物业管理有限公司", []int{3, 8}},
		{"零售", "商贸有限公司", []int{3, 1}}, {"制造业", "实业有限公司", []int{4, 7, 1}},
	}
)

// RegistrationYears is how far back the demo customers' registrations go.
const RegistrationYears = 3

func product(name, model string, warranty, maintenance int) customers.ProductInput {
	return customers.ProductInput{Name: &name, Model: &model, WarrantyMonths: &warranty, MaintenanceMonths: &maintenance}
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// SeedCustomers loads the demo customers, their products and a few
// duplicates to merge, when there are no customers yet. It is deterministic:
// the same seed gives the same company. Registrations spread over the last
// three years (their numbers carry their months); products fit the
// customer's industry; some customers stopped buying over a year ago
// (churned), and those registered over a year ago are old customers.
func SeedCustomers(ctx context.Context, d *db.DB, store *customers.Store, cat *customers.Catalog, now time.Time) error {
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	owners, err := accountManagers(ctx, d)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(2026, 11))
	regs := registrations(r, now)
	serials := map[string]int{}
	return d.WithTx(ctx, func(ctx context.Context) error {
		var productIDs []int64
		for _, p := range catalog {
			created, err := cat.Create(ctx, p)
			if err != nil {
				return fmt.Errorf("demo product: %w", err)
			}
			productIDs = append(productIDs, created.ID)
		}
		var dupPhones []string
		for i, reg := range regs {
			in, choices := randomCustomer(r, reg)
			if len(owners) > 0 && (*in.Tier == "vip" || r.IntN(4) == 0) {
				owner := owners[r.IntN(len(owners))]
				in.OwnerID = &owner
			}
			month := reg.In(customers.BusinessZone)
			serials[month.Format("200601")]++
			number := customers.FormatNumber(month, serials[month.Format("200601")])
			in.Number = &number
			if i%400 == 399 && len(dupPhones) > 0 {
				// A few customers registered twice, for the merge demo.
				phones := []string{dupPhones[r.IntN(len(dupPhones))]}
				in.Phones, in.AllowDuplicate = &phones, true
			}
			c, err := store.Create(ctx, in)
			if err != nil {
				return fmt.Errorf("demo customer %d: %w", i, err)
			}
			if err := backdate(ctx, d, c.ID, reg); err != nil {
				return err
			}
			if len(c.Phones) > 0 && i%97 == 0 {
				dupPhones = append(dupPhones, c.Phones[0])
			}
			for _, bought := range purchases(r, reg, now) {
				if _, err := store.AddOwned(ctx, c.ID, customers.OwnedInput{ProductID: productIDs[pick(r, choices)],
					Serial: fmt.Sprintf("SN%s%05d", bought.Format("0601"), r.IntN(100000)), PurchaseDate: bought.Format("2006-01-02")}); err != nil {
					return fmt.Errorf("demo product of %s: %w", c.Number, err)
				}
				// The event stays at its purchase date (its business time); it
				// was recorded a little after the sale, never after now.
				recorded := bought.Add(2 * time.Hour)
				if recorded.After(now) {
					recorded = now
				}
				if _, err := d.Q(ctx).ExecContext(ctx, `UPDATE timeline_events SET recorded_at = $1 WHERE id = (SELECT MAX(id) FROM timeline_events WHERE customer_id = $2)`,
					db.Now(recorded), c.ID); err != nil {
					return fmt.Errorf("demo timeline: %w", err)
				}
			}
		}
		return nil
	})
}

// accountManagers returns the demo accounts that look after customers (the
// agent, after-sales and supervisor), when Seed has created them.
func accountManagers(ctx context.Context, d *db.DB) ([]int64, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT id FROM users WHERE demo AND email IN ($1, $2, $3) ORDER BY id`,
		"agent@demo.careloop.cn", "aftersales@demo.careloop.cn", "supervisor@demo.careloop.cn")
	if err != nil {
		return nil, fmt.Errorf("demo account managers: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// registrations returns CustomerCount registration times over the last
// RegistrationYears years, oldest first (so ids follow registrations), in
// business hours, the newest today.
func registrations(r *rand.Rand, now time.Time) []time.Time {
	span := now.Sub(now.AddDate(-RegistrationYears, 0, 0))
	out := make([]time.Time, CustomerCount)
	for i := range out {
		t := now.Add(-time.Duration(r.Int64N(int64(span))))
		local := t.In(customers.BusinessZone)
		t = time.Date(local.Year(), local.Month(), local.Day(), 9+r.IntN(9), r.IntN(60), 0, 0, customers.BusinessZone)
		if t.After(now) {
			t = now.Add(-time.Duration(i+1) * time.Minute)
		}
		out[i] = t.UTC()
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// backdate sets a demo customer's registration (and its timeline's first
// entry) to reg.
func backdate(ctx context.Context, d *db.DB, id int64, reg time.Time) error {
	at := db.Now(reg)
	if _, err := d.Q(ctx).ExecContext(ctx, `UPDATE customers SET created_at = $1, updated_at = $1 WHERE id = $2`, at, id); err != nil {
		return fmt.Errorf("demo registration: %w", err)
	}
	if _, err := d.Q(ctx).ExecContext(ctx, `UPDATE timeline_events SET at = $1 WHERE customer_id = $2`, at, id); err != nil {
		return fmt.Errorf("demo timeline: %w", err)
	}
	return nil
}

// purchases returns a customer's purchase dates after registering at reg:
// none (a prospect), or one to three; a customer registered over 15 months
// ago stopped buying in a third of the cases (churned by the default rules).
func purchases(r *rand.Rand, reg, now time.Time) []time.Time {
	k := r.IntN(4)
	if k == 0 {
		return nil
	}
	window := now.Sub(reg)
	if window > 15*30*24*time.Hour && r.IntN(3) == 0 {
		window = 90 * 24 * time.Hour // bought soon after registering, then nothing
	}
	out := make([]time.Time, k)
	for i := range out {
		out[i] = reg.Add(time.Duration(r.Int64N(int64(window) + 1)))
	}
	return out
}

func randomCustomer(r *rand.Rand, reg time.Time) (customers.Input, []int) {
	typ, name := customers.TypeIndividual, string(pick(r, surnames))+pick(r, given)
	choices := household
	var phones []string
	var industry string
	if r.IntN(4) == 0 {
		city := r.IntN(len(cities))
		trade := pick(r, productsOfTrade)
		typ, name, industry, choices = customers.TypeOrganization, cities[city]+pick(r, words)+trade.kind, trade.industry, trade.products
		// Local numbers of these cities have 8 digits and start with 2–8.
		phones = append(phones, fmt.Sprintf("%s-%08d", areaCodes[city], 20000000+r.IntN(69999999)))
	} else {
		phones = append(phones, fmt.Sprintf("%s%08d", pick(r, mobiles), r.IntN(100000000)))
	}
	tier := "normal"
	switch v := r.IntN(10); {
	case v == 0:
		tier = "vip"
	case v < 3:
		tier = "potential"
	}
	in := customers.Input{Type: &typ, Name: &name, Phones: &phones, Tier: &tier}
	if industry != "" {
		in.Industry = &industry
	}
	since := reg.In(customers.BusinessZone).Format("2006-01-02")
	in.CooperationStart = &since
	if typ == customers.TypeIndividual && r.IntN(2) == 0 {
		b := time.Date(1950+r.IntN(55), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		in.Birthday = &b
	}
	if r.IntN(3) == 0 {
		tags := []string{pick(r, tagPool)}
		in.Tags = &tags
	}
	if r.IntN(5) == 0 {
		email := fmt.Sprintf("c%d@example.com", r.IntN(1_000_000))
		in.Email = &email
	}
	return in, choices
}
