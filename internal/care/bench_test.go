package care

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// seedCustomers adds n customers in one statement: birthdays spread over
// the year, a third of them owning a product bought in the last months, a
// tenth with a service contract, everyone registered 2025-06-01.
func seedCustomers(b testing.TB, d *db.DB, n int) {
	ctx := context.Background()
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var series, birthday, num string
	if d.Dialect == db.Postgres {
		series = `FROM generate_series(1, $2) AS s(i)`
		birthday = `to_char(DATE '1960-01-01' + (i % 14000)::int, 'YYYY-MM-DD')`
		num = `'B' || i`
	} else {
		series = `FROM (WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $2) SELECT i FROM s)`
		birthday = `date('1960-01-01', '+' || (i % 14000) || ' days')`
		num = `'B' || i`
	}
	stmts := []string{
		`INSERT INTO customers (number, type, name, birthday, cooperation_start, tier, lifecycle, created_at, updated_at)
			SELECT ` + num + `, 'individual', '客户' || i, ` + birthday + `, '', 'normal', 'active', $1, $1 ` + series,
		`INSERT INTO products (name, model, maintenance_months, created_at, updated_at) VALUES ('滤芯净水器', 'B1', 6, $1, $1)`,
	}
	for i, q := range stmts {
		args := []any{at, n}
		if i == 1 {
			args = args[:1]
		}
		if _, err := d.W.ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	purchase := `to_char(DATE '2026-10-01' + (c.id % 120)::int, 'YYYY-MM-DD')`
	if d.Dialect == db.SQLite {
		purchase = `date('2026-10-01', '+' || (c.id % 120) || ' days')`
	}
	for _, q := range []string{
		`INSERT INTO customer_products (customer_id, product_id, purchase_date, warranty_end, created_at, updated_at)
			SELECT c.id, (SELECT MIN(id) FROM products), ` + purchase + `, '2028-01-01', $1, $1 FROM customers c WHERE c.id % 3 = 0`,
		`INSERT INTO service_contracts (customer_id, number, starts_on, ends_on, created_at)
			SELECT c.id, 'HT' || c.id, '2026-03-01', '2027-03-01', $1 FROM customers c WHERE c.id % 10 = 0`,
	} {
		if _, err := d.W.ExecContext(ctx, q, at); err != nil {
			b.Fatal(err)
		}
	}
	if d.Dialect == db.Postgres {
		if _, err := d.W.ExecContext(ctx, `ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun is a scheduler run over CARELOOP_CARE_BENCH_CUSTOMERS
// customers (default 100,000) with the default plans on 2027-02-01 (the
// Spring Festival's window: a task for everyone), then the second run that
// creates nothing. Figures: docs/performance.md.
func BenchmarkRun(b *testing.B) {
	n := 100_000
	if s := os.Getenv("CARELOOP_CARE_BENCH_CUSTOMERS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, tg := range dbtest.Targets(b) {
		b.Run(string(tg.Dialect), func(b *testing.B) {
			d := tg.Open(b)
			seedCustomers(b, d, n)
			fc := clock.NewFake(time.Date(2027, 2, 1, 1, 0, 0, 0, time.UTC))
			s := New(Deps{DB: d, Clock: fc, Audit: audit.New(d, fc)})
			if err := s.EnsureDefaults(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				if _, err := d.W.Exec(`DELETE FROM care_tasks`); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				first, err := s.Run(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				second, err := s.Run(context.Background())
				if err != nil || second.Created != 0 {
					b.Fatalf("second run %+v %v", second, err)
				}
				b.ReportMetric(first.Duration.Seconds(), "first_s")
				b.ReportMetric(second.Duration.Seconds(), "second_s")
				b.ReportMetric(float64(first.Created), "tasks")
				b.ReportMetric(peakRSSMB(), "peak_rss_MB")
			}
		})
	}
}

// peakRSSMB is the process's peak resident set (VmHWM), seeding included.
func peakRSSMB() float64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}
