package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
)

// The generated customers are a pure function of their index: customer i
// (1-based, also its id) is drawn from its own PCG stream, so the seeder
// and the scenarios that query it agree without reading the database, and
// every run seeds the same data.

const seedStream = 0x5eed_c0de

var (
	// Surnames roughly in order of frequency; pickSkewed favours the first.
	seedSurnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单")
	// Popular given names, most common first (张伟, 王芳, 李娜 …).
	seedGiven = []string{"伟", "芳", "娜", "敏", "静", "秀英", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
		"平", "刚", "桂英", "建华", "文", "华", "红", "志强", "晓东", "海燕", "婷", "宇", "浩", "欣怡", "子涵", "梓轩", "雨桐", "嘉怡", "俊杰", "思远",
		"建国", "建军", "玉兰", "淑珍", "凤英", "国强", "丹", "萍", "鹏", "辉", "玲", "斌", "飞", "鑫", "波", "宁", "琳", "雪", "晨", "颖"}
	// Characters of less common given names, combined in pairs.
	seedGivenChars = []rune("安邦宝彬斌博灿昌晨成承诚聪达丹德东栋帆飞丰峰锋刚高歌光广贵国海涵翰浩皓和宏鸿华欢辉慧吉佳家嘉建健江杰洁金锦晶静娟君俊凯康可乐磊丽莉良林玲琳龙曼梅敏明娜楠宁鹏平萍琪琴清晴庆秋荣蓉瑞睿莎山珊善少绍胜诗淑舒爽顺思松涛婷同彤巍维伟文雯曦霞翔欣新馨鑫星兴秀旭轩雪雅妍燕阳瑶怡艺毅英颖永勇宇雨玉元园媛月悦云芸泽展哲振正志智忠舟卓子梓")
	seedCities     = []string{"北京", "上海", "广州", "深圳", "杭州", "南京", "苏州", "成都", "武汉", "西安", "重庆", "天津", "长沙", "郑州", "青岛",
		"厦门", "宁波", "无锡", "合肥", "济南", "福州", "东莞", "佛山", "昆明", "沈阳", "大连", "哈尔滨", "长春", "南昌", "贵阳"}
	seedAreaCodes = []string{"010", "021", "020", "0755", "0571", "025", "0512", "028", "027", "029", "023", "022", "0731", "0371", "0532",
		"0592", "0574", "0510", "0551", "0531", "0591", "0769", "0757", "0871", "024", "0411", "0451", "0431", "0791", "0851"} // as seedCities
	seedBrandChars = []rune("华信创新鼎盛恒通宏远金桥天成瑞丰长城东方世纪中科汇众德邦嘉禾博睿安泰永明源启航锐思达凯盈乐联合众诚智云海洋星光蓝天富康隆兴")
	seedBusiness   = []string{"科技", "技术", "电子", "信息技术", "网络科技", "机械设备", "环保工程", "医疗器械", "物业管理", "餐饮管理",
		"实业", "贸易", "建筑工程", "净水设备", "软件", "新能源", "生物科技", "文化传媒", "教育科技", "供应链管理"}
	seedIndustries = []string{"电子产品", "机械设备", "软件/SaaS", "公用事业", "医疗健康", "教育培训", "餐饮", "物业", "零售", "制造业"}
	seedMobiles    = []string{"130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "166", "176",
		"177", "180", "181", "182", "186", "187", "188", "189", "199"}
	seedMailHosts = []string{"163.com", "qq.com", "126.com", "sina.com", "example.com", "foxmail.com"}
	seedTags      = []string{"老客户", "重点关怀", "年度合同", "投诉过", "老年客户", "喜欢微信", "需上门"}
	seedProducts  = []struct {
		Name, Model, Code string
		Warranty          int
	}{
		{"家用净水器", "RO-500", "RO5", 24}, {"商用净水机", "RO-3000C", "RO3", 12}, {"空气净化器", "AP-60", "AP6", 12},
		{"智能门锁", "SL-7", "SL7", 24}, {"工业除湿机", "DH-90", "DH9", 12}, {"客服云 SaaS", "标准版", "SAS", 12},
	}
)

// seedMonths is how many registration months the customers spread over,
// ending with seedLastMonth.
const seedMonths = 60

var seedFirstMonth = time.Date(2021, 1, 1, 0, 0, 0, 0, customers.BusinessZone)

// SeedCustomer is one generated customer and what hangs off it.
type SeedCustomer struct {
	ID        int64
	Number    string
	Type      string
	Name      string
	Keys      customers.NameKeys
	Email     string
	Industry  string
	Tier      string
	Tags      string // JSON
	Lifecycle string
	Phones    []customers.Phone
	Contact   string // an organisation's primary contact, "" for a person
	Products  []SeedOwned
	Created   time.Time
}

// SeedOwned is a product a generated customer owns.
type SeedOwned struct {
	Product  int // index into seedProducts
	Serial   string
	Purchase time.Time
}

func pickSkewed[T any](r *rand.Rand, list []T) T {
	u := r.Float64()
	return list[int(u*u*float64(len(list)))]
}

func pickOne[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// monthStart is the 0-based index of the first customer of month m when n
// customers spread evenly over seedMonths months.
func monthStart(n, m int) int { return int(int64(m) * int64(n) / seedMonths) }

func seedPersonName(r *rand.Rand) string {
	var b strings.Builder
	b.WriteRune(pickSkewed(r, seedSurnames))
	if r.IntN(10) < 6 {
		b.WriteString(pickSkewed(r, seedGiven))
	} else {
		b.WriteRune(pickOne(r, seedGivenChars))
		if r.IntN(5) > 0 {
			b.WriteRune(pickOne(r, seedGivenChars))
		}
	}
	return b.String()
}

func seedMobile(r *rand.Rand, i int) string {
	// Distinct for every i below 10^8: 7919 is prime to 10^8.
	return pickOne(r, seedMobiles) + fmt.Sprintf("%08d", (int64(i)*7919+int64(r.IntN(100)))%100_000_000)
}

func mustPhone(s string) customers.Phone {
	p, err := customers.ParsePhone(s)
	if err != nil {
		panic("bench: generated phone " + s + ": " + err.Error())
	}
	return p
}

// GenCustomer returns generated customer i (1 ≤ i ≤ n) of a database of n.
func GenCustomer(n, i int) SeedCustomer {
	r := rand.New(rand.NewPCG(seedStream, uint64(i)))
	k := i - 1
	m := k * seedMonths / n
	for monthStart(n, m+1) <= k {
		m++
	}
	for monthStart(n, m) > k {
		m--
	}
	first, next := monthStart(n, m), monthStart(n, m+1)
	month := seedFirstMonth.AddDate(0, m, 0)
	// Registration time grows with i within the month (ids grow with time).
	span := month.AddDate(0, 1, 0).Sub(month)
	created := month.Add(time.Duration(float64(span) * float64(k-first) / float64(next-first))).UTC().Truncate(time.Microsecond)
	c := SeedCustomer{ID: int64(i), Number: customers.FormatNumber(month, k-first+1), Created: created}
	c.Type = customers.TypeIndividual
	if r.IntN(4) == 0 {
		c.Type = customers.TypeOrganization
		city := int(float64(len(seedCities)) * r.Float64() * r.Float64())
		var b strings.Builder
		b.WriteString(seedCities[city])
		b.WriteRune(pickOne(r, seedBrandChars))
		b.WriteRune(pickOne(r, seedBrandChars))
		b.WriteString(pickSkewed(r, seedBusiness))
		switch v := r.IntN(20); {
		case v < 2:
			b.WriteString("股份有限公司")
		case v < 3:
			b.WriteString("集团有限公司")
		default:
			b.WriteString("有限公司")
		}
		if r.IntN(25) == 0 {
			b.WriteString(pickOne(r, seedCities) + "分公司")
		}
		c.Name = b.String()
		c.Phones = append(c.Phones, mustPhone(fmt.Sprintf("%s-%08d", seedAreaCodes[city], 20000000+(int64(i)*7919+int64(r.IntN(100)))%60000000)))
		if r.IntN(5) == 0 {
			c.Phones = append(c.Phones, mustPhone(seedMobile(r, i)))
		}
		c.Contact = seedPersonName(r)
	} else {
		c.Name = seedPersonName(r)
		c.Phones = append(c.Phones, mustPhone(seedMobile(r, i)))
		if r.IntN(10) == 0 {
			c.Phones = append(c.Phones, mustPhone(seedMobile(r, i+n)))
		}
	}
	c.Keys = customers.NameSearchKeys(c.Name)
	if r.IntN(5) == 0 {
		local := c.Keys.Full
		if len(local) > 20 {
			local = c.Keys.Initials
		}
		c.Email = local + strconv.Itoa(i) + "@" + pickOne(r, seedMailHosts)
	}
	c.Industry = pickOne(r, seedIndustries)
	switch v := r.IntN(10); {
	case v == 0:
		c.Tier = "vip"
	case v < 3:
		c.Tier = "potential"
	default:
		c.Tier = "normal"
	}
	var tags []string
	if r.IntN(3) == 0 {
		tags = append(tags, pickOne(r, seedTags))
		if r.IntN(4) == 0 {
			if t := pickOne(r, seedTags); t != tags[0] {
				tags = append(tags, t)
			}
		}
	}
	tj, _ := json.Marshal(append([]string{}, tags...))
	c.Tags = string(tj)
	c.Lifecycle = "potential"
	if r.IntN(10) < 3 {
		for j := 1 + r.IntN(2); j > 0; j-- {
			p := r.IntN(len(seedProducts))
			bought := created.AddDate(0, 0, r.IntN(400)).In(customers.BusinessZone)
			c.Products = append(c.Products, SeedOwned{Product: p, Purchase: bought,
				Serial: fmt.Sprintf("SN%s%s%07d", seedProducts[p].Code, bought.Format("0601"), i*2+j)})
		}
		c.Lifecycle = "active"
		if c.Products[0].Purchase.Before(seedFirstMonth.AddDate(0, seedMonths-12, 0)) {
			c.Lifecycle = "churned"
		}
	}
	return c
}

// seedStage is the stage the lifecycle rules give c at now, so that the
// daily job finds the seeded customers as it left them: a seeded database
// is a settled one, not one whose first job run rewrites a twentieth of
// the table.
func seedStage(c SeedCustomer, now time.Time) string {
	first, last := "", ""
	for _, o := range c.Products {
		d := o.Purchase.Format("2006-01-02")
		if first == "" || d < first {
			first = d
		}
		if d > last {
			last = d
		}
	}
	return customers.DefaultLifecycle.Stage(first, last, now)
}

// SeedStats says what SeedCustomers wrote and how long it took.
type SeedStats struct {
	Customers int     `json:"customers"`
	Phones    int     `json:"phones"`
	Contacts  int     `json:"contacts"`
	Owned     int     `json:"products_owned"`
	Seconds   float64 `json:"seconds"`
	LoadSecs  float64 `json:"load_seconds"`
	IndexSecs float64 `json:"index_seconds"`
}

// seedTables are the tables SeedCustomers fills; their secondary indexes
// (and on SQLite the full-text triggers) are dropped during the load and
// made again after it, which is several times faster than maintaining
// them row by row.
var seedTables = []string{"customers", "customer_phones", "customer_contacts", "customer_products"}

// SeedCustomers fills an empty, migrated database with n generated
// customers (ids 1…n), their phones, contacts and products, and the
// per-month number counters, writing progress to log.
func SeedCustomers(ctx context.Context, d *db.DB, n int, log io.Writer) (SeedStats, error) {
	start := time.Now()
	st := SeedStats{Customers: n}
	var existing int
	if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&existing); err != nil {
		return st, err
	}
	if existing > 0 {
		return st, fmt.Errorf("seed customers: the database already has %d customers", existing)
	}
	conn, err := d.W.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	productIDs, err := seedCatalog(ctx, conn)
	if err != nil {
		return st, err
	}
	var l loader
	if d.Dialect == db.Postgres {
		l = &pgLoader{conn: conn}
	} else {
		l = &sqliteLoader{conn: conn}
	}
	schema, err := l.begin(ctx)
	if err != nil {
		return st, fmt.Errorf("seed customers: prepare: %w", err)
	}
	const chunk = 20000
	var rows [4][][]any
	for lo := 1; lo <= n; lo += chunk {
		hi := min(n, lo+chunk-1)
		for t := range rows {
			rows[t] = rows[t][:0]
		}
		for i := lo; i <= hi; i++ {
			c := GenCustomer(n, i)
			c.Lifecycle = seedStage(c, start)
			rows[0] = append(rows[0], []any{c.ID, c.Number, c.Type, c.Name, c.Keys.Full, c.Keys.Initials, c.Keys.AltFull, c.Keys.AltInitials,
				c.Email, c.Industry, c.Tier, c.Tags, c.Lifecycle, c.Created, c.Created})
			for j, p := range c.Phones {
				rows[1] = append(rows[1], []any{c.ID, p.String(), p.Last4(), p.Kind.String(), int64(j)})
			}
			if c.Contact != "" {
				rows[2] = append(rows[2], []any{c.ID, c.Contact, "经理", c.Phones[len(c.Phones)-1].String(), true, int64(0)})
			}
			for _, o := range c.Products {
				p := seedProducts[o.Product]
				rows[3] = append(rows[3], []any{c.ID, productIDs[o.Product], o.Serial, o.Purchase.Format("2006-01-02"),
					o.Purchase.AddDate(0, p.Warranty, 0).Format("2006-01-02"), c.Created, c.Created})
			}
		}
		st.Phones += len(rows[1])
		st.Contacts += len(rows[2])
		st.Owned += len(rows[3])
		for t, cols := range seedColumns {
			if err := l.load(ctx, seedTables[t], cols, rows[t]); err != nil {
				return st, fmt.Errorf("seed customers: load %s: %w", seedTables[t], err)
			}
		}
		if log != nil && (hi%200000 < chunk || hi == n) {
			fmt.Fprintf(log, "seed: %d/%d customers (%.0f s)\n", hi, n, time.Since(start).Seconds())
		}
	}
	var seq [][]any
	for m := 0; m < seedMonths; m++ {
		if c := monthStart(n, m+1) - monthStart(n, m); c > 0 {
			seq = append(seq, []any{seedFirstMonth.AddDate(0, m, 0).Format("200601"), int64(c)})
		}
	}
	if err := l.load(ctx, "customer_number_seq", []string{"month", "last"}, seq); err != nil {
		return st, fmt.Errorf("seed customers: number counters: %w", err)
	}
	st.LoadSecs = time.Since(start).Seconds()
	if err := l.finish(ctx, schema); err != nil {
		return st, fmt.Errorf("seed customers: indexes: %w", err)
	}
	st.Seconds = time.Since(start).Seconds()
	st.IndexSecs = st.Seconds - st.LoadSecs
	if log != nil {
		fmt.Fprintf(log, "seed: %d customers, %d phones, %d contacts, %d products owned in %.1f s (load %.1f s, indexes %.1f s)\n",
			n, st.Phones, st.Contacts, st.Owned, st.Seconds, st.LoadSecs, st.IndexSecs)
	}
	return st, nil
}

var seedColumns = [4][]string{
	{"id", "number", "type", "name", "name_pinyin", "name_initials", "name_pinyin_alt", "name_initials_alt",
		"email", "industry", "tier", "tags", "lifecycle", "created_at", "updated_at"},
	{"customer_id", "phone", "last4", "kind", "position"},
	{"customer_id", "name", "title", "phone", "is_primary", "position"},
	{"customer_id", "product_id", "serial", "purchase_date", "warranty_end", "created_at", "updated_at"},
}

// seedCatalog creates the product catalog and returns the ids in the order
// of seedProducts.
func seedCatalog(ctx context.Context, conn *sql.Conn) ([]int64, error) {
	now := db.Now(seedFirstMonth)
	ids := make([]int64, len(seedProducts))
	for i, p := range seedProducts {
		err := conn.QueryRowContext(ctx, `INSERT INTO products (name, model, warranty_months, maintenance_months, active, created_at, updated_at)
			VALUES ($1, $2, $3, 0, TRUE, $4, $4) RETURNING id`, p.Name, p.Model, p.Warranty, now).Scan(&ids[i])
		if err != nil {
			return nil, fmt.Errorf("seed catalog: %w", err)
		}
	}
	return ids, nil
}

// loader bulk-loads rows in a dialect's fastest way.
type loader interface {
	// begin drops what slows a bulk load and returns the DDL to restore.
	begin(ctx context.Context) ([]string, error)
	load(ctx context.Context, table string, cols []string, rows [][]any) error
	// finish restores the DDL, rebuilds derived data and gathers statistics.
	finish(ctx context.Context, ddl []string) error
}

type sqliteLoader struct {
	conn *sql.Conn
	tx   *sql.Tx
	// tables whose indexes and triggers are dropped during the load
	// (seedTables when nil).
	tables []string
}

func tablesOr(t []string) []string {
	if t == nil {
		return seedTables
	}
	return t
}

func (l *sqliteLoader) begin(ctx context.Context) ([]string, error) {
	for _, p := range []string{"PRAGMA foreign_keys = OFF", "PRAGMA synchronous = OFF", "PRAGMA cache_size = -400000"} {
		if _, err := l.conn.ExecContext(ctx, p); err != nil {
			return nil, err
		}
	}
	rows, err := l.conn.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL
		AND tbl_name IN ('`+strings.Join(tablesOr(l.tables), "', '")+`') ORDER BY type, name`)
	if err != nil {
		return nil, err
	}
	var drops, ddl []string
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			rows.Close()
			return nil, err
		}
		drops = append(drops, "DROP "+strings.ToUpper(typ)+" "+name)
		ddl = append(ddl, text)
	}
	rows.Close()
	for _, s := range drops {
		if _, err := l.conn.ExecContext(ctx, s); err != nil {
			return nil, err
		}
	}
	l.tx, err = l.conn.BeginTx(ctx, nil)
	return ddl, err
}

func (l *sqliteLoader) load(ctx context.Context, table string, cols []string, rows [][]any) error {
	// As many rows per statement as SQLite's 32766 variables allow, in
	// statements of a few fixed sizes so each is prepared once.
	per := min(500, 32766/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for len(rows) > 0 {
		k := min(per, len(rows))
		args := make([]any, 0, k*len(cols))
		for _, r := range rows[:k] {
			args = append(args, r...)
		}
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", k), ", ")
		if _, err := l.tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return nil
}

func (l *sqliteLoader) finish(ctx context.Context, ddl []string) error {
	if err := l.tx.Commit(); err != nil {
		return err
	}
	steps := append([]string{"INSERT INTO customers_fts(customers_fts) VALUES ('rebuild')"}, ddl...)
	steps = append(steps, "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA wal_checkpoint(TRUNCATE)")
	for _, s := range steps {
		if _, err := l.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.60s: %w", s, err)
		}
	}
	return nil
}

type pgLoader struct {
	conn   *sql.Conn
	tables []string // as sqliteLoader's
}

func (l *pgLoader) begin(ctx context.Context) ([]string, error) {
	// Foreign keys are not checked row by row while loading (the data is
	// consistent by construction); this needs a superuser and is skipped
	// otherwise.
	_, _ = l.conn.ExecContext(ctx, "SET session_replication_role = replica")
	if _, err := l.conn.ExecContext(ctx, "SET maintenance_work_mem = '512MB'"); err != nil {
		return nil, err
	}
	rows, err := l.conn.QueryContext(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
		JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
		JOIN pg_index x ON x.indexrelid = c.oid
		WHERE i.schemaname = current_schema() AND i.tablename = ANY($1) AND NOT x.indisunique AND NOT x.indisprimary`, tablesOr(l.tables))
	if err != nil {
		return nil, err
	}
	var names, ddl []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, name)
		ddl = append(ddl, def)
	}
	rows.Close()
	for _, name := range names {
		if _, err := l.conn.ExecContext(ctx, "DROP INDEX "+pgx.Identifier{name}.Sanitize()); err != nil {
			return nil, err
		}
	}
	return ddl, nil
}

func (l *pgLoader) load(ctx context.Context, table string, cols []string, rows [][]any) error {
	return l.conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		_, err := c.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
}

func (l *pgLoader) finish(ctx context.Context, ddl []string) error {
	steps := append([]string{}, ddl...)
	steps = append(steps,
		"SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))",
		"RESET session_replication_role", "RESET maintenance_work_mem",
		// What autovacuum would soon do by itself: statistics for the planner
		// and the visibility map for index-only scans.
		"VACUUM ANALYZE customers", "VACUUM ANALYZE customer_phones", "VACUUM ANALYZE customer_contacts", "VACUUM ANALYZE customer_products")
	for _, s := range steps {
		if _, err := l.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.60s: %w", s, err)
		}
	}
	return nil
}
