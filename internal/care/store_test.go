package care

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/sla"
)

// kit is a care store over a fresh database, with a fake clock.
type kit struct {
	t     *testing.T
	db    *db.DB
	clock *clock.Fake
	s     *Store
	ctx   context.Context
}

func newKit(t *testing.T, d *db.DB) *kit {
	t.Helper()
	fc := clock.NewFake(time.Date(2027, 1, 1, 1, 0, 0, 0, time.UTC))
	k := &kit{t: t, db: d, clock: fc, ctx: context.Background()}
	k.s = New(Deps{DB: d, Clock: fc, Audit: audit.New(d, fc)})
	if err := k.s.EnsureDefaults(k.ctx); err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *kit) exec(q string, args ...any) {
	k.t.Helper()
	if _, err := k.db.W.ExecContext(k.ctx, q, args...); err != nil {
		k.t.Fatalf("%s: %v", q, err)
	}
}

func (k *kit) id(q string, args ...any) int64 {
	k.t.Helper()
	var id int64
	if err := k.db.W.QueryRowContext(k.ctx, q+" RETURNING id", args...).Scan(&id); err != nil {
		k.t.Fatalf("%s: %v", q, err)
	}
	return id
}

var seq int

// customer adds a customer with the given birthday, lunar birthday and
// cooperation start.
func (k *kit) customer(birthday, lunar, coop string) int64 {
	seq++
	return k.id(`INSERT INTO customers (number, type, name, birthday, lunar_birthday, cooperation_start, lifecycle, created_at, updated_at)
		VALUES ($1, 'individual', $2, $3, $4, $5, 'active', $6, $6)`, fmt.Sprintf("C%06d", seq), fmt.Sprintf("客户%d", seq),
		birthday, lunar, coop, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
}

func (k *kit) product(months int) int64 {
	seq++
	return k.id(`INSERT INTO products (name, model, maintenance_months, created_at, updated_at) VALUES ($1, '', $2, $3, $3)`,
		fmt.Sprintf("净水器%d", seq), months, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

func (k *kit) owns(customer, product int64, purchase, warrantyEnd string) int64 {
	return k.id(`INSERT INTO customer_products (customer_id, product_id, purchase_date, warranty_end, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5)`, customer, product, purchase, warrantyEnd, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

func (k *kit) tasks() []string {
	k.t.Helper()
	rows, err := k.db.R.QueryContext(k.ctx, `SELECT p.key, t.customer_id, t.occasion_key, t.due_on, t.window_end FROM care_tasks t
		JOIN care_plans p ON p.id = t.plan_id ORDER BY t.id`)
	if err != nil {
		k.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var key, occ, due, end string
		var c int64
		if err := rows.Scan(&key, &c, &occ, &due, &end); err != nil {
			k.t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s c%d %s %s..%s", key, c, occ, due, end))
	}
	return out
}

func (k *kit) runOn(day string) RunReport {
	k.t.Helper()
	d, _ := sla.ParseDate(day)
	rep, err := k.s.RunOn(k.ctx, d)
	if err != nil {
		k.t.Fatal(err)
	}
	return rep
}

func TestDefaultsSeededOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		if err := k.s.EnsureDefaults(k.ctx); err != nil {
			t.Fatal(err)
		}
		plans, err := k.s.Plans(k.ctx)
		if err != nil || len(plans) != len(DefaultPlans) {
			t.Fatalf("plans = %d %v", len(plans), err)
		}
		for _, p := range plans {
			if !p.Active || p.Key == "" {
				t.Errorf("plan %+v", p)
			}
		}
	})
}

// A whole year, one run a day: each customer gets each occasion's task
// once, on the first day its window (less the lead time) is open.
func TestYearOfDailyRuns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		leap := k.customer("1992-02-29", "", "")
		lunar := k.customer("1980-01-01", "08-15", "2026-05-20")
		buyer := k.customer("", "", "")
		filter := k.product(6)
		owned := k.owns(buyer, filter, "2027-03-01", "2028-03-01")
		contractEnds := "2027-11-30"
		cid := k.id(`INSERT INTO service_contracts (customer_id, number, starts_on, ends_on, created_at) VALUES ($1, 'HT-1', '2026-12-01', $2, $3)`,
			buyer, contractEnds, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		// The fake clock moves a day at a time, at 23:30 in Shanghai (15:30
		// UTC), the business day's last half hour.
		for k.clock.Set(time.Date(2027, 1, 1, 15, 30, 0, 0, time.UTC)); k.clock.Now().Year() == 2027; k.clock.Advance(24 * time.Hour) {
			if _, err := k.s.Run(k.ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := k.tasks()
		sort.Strings(got)
		var want []string
		for _, c := range []int64{leap, lunar, buyer} {
			want = append(want,
				fmt.Sprintf("spring_festival c%d spring_festival:2027 2027-02-01..2027-02-03", c),
				fmt.Sprintf("mid_autumn c%d mid_autumn_festival:2027 2027-09-10..2027-09-12", c))
		}
		want = append(want,
			fmt.Sprintf("birthday c%d birthday:2027 2027-02-25..2027-02-28", leap),
			fmt.Sprintf("birthday c%d birthday:lunar:2027 2027-09-12..2027-09-15", lunar),
			fmt.Sprintf("anniversary c%d anniversary:2027 2027-05-17..2027-05-20", lunar),
			fmt.Sprintf("first_visit c%d purchase:%d 2027-03-04..2027-03-08", buyer, owned),
			fmt.Sprintf("second_visit c%d purchase:%d 2027-03-08..2027-03-15", buyer, owned),
			fmt.Sprintf("maintenance c%d maintenance:%d:1 2027-08-25..2027-09-08", buyer, owned),
			fmt.Sprintf("contract_renewal c%d contract:%d 2027-10-31..2027-11-07", buyer, cid),
		)
		// The warranty's occasion (2028) is not visible in 2027; the deep
		// talk needs a year of cooperation on a quarter's first day (from
		// the cooperation start, else the registration, 2026-12-01 here).
		want = append(want, fmt.Sprintf("deep_talk c%d deep_talk:2027Q3 2027-07-01..2027-07-31", lunar),
			fmt.Sprintf("deep_talk c%d deep_talk:2027Q4 2027-10-01..2027-10-31", lunar))
		sort.Strings(want)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("tasks:\n%s\nwant:\n%s", join(got), join(want))
		}
		// Running every day again creates nothing.
		for day := date(t, "2027-01-01"); day.Year == 2027; day = day.AddDays(7) {
			if rep := k.runOn(day.String()); rep.Created != 0 {
				t.Fatalf("rerun %s created %d", day, rep.Created)
			}
		}
	})
}

func join(xs []string) string {
	s := ""
	for _, x := range xs {
		s += "  " + x + "\n"
	}
	return s
}

// After downtime a run serves the windows still open and never the passed
// ones.
func TestCatchUpAfterDowntime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		c := k.customer("", "", "")
		p := k.product(0)
		owned := k.owns(c, p, "2027-03-01", "2028-03-01")
		// Down from 2027-01-20 to 2027-03-09: the first visit's window
		// (03-04..03-08) and the Spring Festival's (02-01..02-03) passed;
		// the second visit's (03-08..03-15) is open.
		k.runOn("2027-01-19")
		rep := k.runOn("2027-03-09")
		if rep.Created != 1 {
			t.Fatalf("catch-up created %d: %v", rep.Created, k.tasks())
		}
		want := []string{fmt.Sprintf("second_visit c%d purchase:%d 2027-03-08..2027-03-15", c, owned)}
		if got := k.tasks(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("tasks %v, want %v", got, want)
		}
		// Run uses the clock in the business zone: 2027-03-09 16:30 UTC is
		// 03-10 00:30 in Shanghai.
		k.clock.Set(time.Date(2027, 3, 9, 16, 30, 0, 0, time.UTC))
		if got := k.s.Today().String(); got != "2027-03-10" {
			t.Fatalf("today = %s", got)
		}
		if rep, err := k.s.Run(k.ctx); err != nil || rep.Created != 0 {
			t.Fatalf("run %+v %v", rep, err)
		}
	})
}

// Two schedulers on two database handles, racing over the same customers
// in small batches, create each task once.
func TestRacingSchedulersCreateEachTaskOnce(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			ctx := context.Background()
			var dsn, path string
			if tg.Dialect == db.Postgres {
				dsn = dbtest.NewSchema(t, tg.DSN)
			} else {
				path = filepath.Join(t.TempDir(), "careloop.db")
			}
			open := func() *db.DB {
				d, err := db.Open(ctx, dsn, path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				return d
			}
			d1 := open()
			if _, err := d1.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			d2 := open()
			k := newKit(t, d1)
			for i := 0; i < 300; i++ {
				k.customer("1990-02-03", "", "")
			}
			other := New(Deps{DB: d2, Clock: k.clock, Audit: audit.New(d2, k.clock)})
			k.s.BatchSize, other.BatchSize = 37, 41
			day := date(t, "2027-02-01") // Spring Festival's window and the birthday's (02-03)
			var wg sync.WaitGroup
			created := make([]int, 4)
			errs := make([]error, 4)
			for i := range created {
				s := k.s
				if i%2 == 1 {
					s = other
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					rep, err := s.RunOn(ctx, day)
					created[i], errs[i] = rep.Created, err
				}()
			}
			wg.Wait()
			total := 0
			for i := range created {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				total += created[i]
			}
			var rows int
			if err := d1.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM care_tasks`).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if total != 600 || rows != 600 {
				t.Fatalf("created %v (sum %d), rows %d, want 600", created, total, rows)
			}
		})
	}
}
