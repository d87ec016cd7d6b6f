package customers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
)

func csvFile(lines ...string) *bytes.Reader {
	return bytes.NewReader([]byte(strings.Join(lines, "\r\n") + "\r\n"))
}

func count(t *testing.T, d *db.DB, sqlText string) int {
	t.Helper()
	var n int
	if err := d.R.QueryRow(sqlText).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func keysOf(rep customers.ImportReport) []string {
	var out []string
	for _, e := range rep.Errors {
		out = append(out, e.Column+":"+e.Key)
	}
	return out
}

func TestImportAllOrNothingAndValidOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		_, err := f.store.Create(ctx, customers.Input{Name: str("老客户"), Phones: strs("13800000001"), Email: str("old@example.com")})
		if err != nil {
			t.Fatal(err)
		}
		file := []string{
			"客户编号,客户名称/单位,联系方式,邮箱,客户等级,负责人,所属行业/产品类型",
			"202403007,上海一号公司,13900000001,a@example.com,VIP,manager@example.com,电子/路由器",
			",张三,13900000002,,普通,,",
			",李四,13800000001,,,,",                        // phone of an existing customer
			"202403007,王五,13900000003,,,,",               // number twice in the file
			",=1+1,13900000004,,,,",                      // formula-like
			",赵六,13900000005,old@example.com,金牌,nobody,", // email taken, tier and owner unknown
			",钱七,13900000002,,,,",                        // phone twice in the file
		}
		// Dry run: a report, nothing written.
		rep, err := f.store.Import(ctx, csvFile(file...), customers.ImportSettings{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 7 || rep.Valid != 2 || rep.ErrorRows != 5 || rep.Created != 0 || rep.Format != "csv" {
			t.Fatalf("dry run report = %+v", rep)
		}
		want := []string{
			"联系方式:import.phone_taken",
			"客户编号:import.duplicate_number",
			"客户名称/单位:validation.formula_like",
			"客户等级:validation.tier_invalid", "负责人:import.unknown_owner", "邮箱:import.email_taken",
			"联系方式:import.duplicate_phone",
		}
		got := keysOf(rep)
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("missing %s in %v", w, got)
			}
		}
		if rep.Errors[0].Row != 4 {
			t.Errorf("first error row = %d, want 4 (header is row 1)", rep.Errors[0].Row)
		}
		// All or nothing: errors, so nothing is created.
		rep, err = f.store.Import(ctx, csvFile(file...), customers.ImportSettings{})
		if err != nil || rep.Created != 0 {
			t.Fatalf("all-or-nothing: %+v, %v", rep, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM customers`); n != 1 {
			t.Fatalf("%d customers after a refused import", n)
		}
		// Valid only: the two good rows.
		rep, err = f.store.Import(ctx, csvFile(file...), customers.ImportSettings{ValidOnly: true, FileName: "客户.csv"})
		if err != nil || rep.Created != 2 {
			t.Fatalf("valid only: %+v, %v", rep, err)
		}
		page, err := f.store.Search(ctx, f.manager, customers.Filter{Q: "202403007"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("imported number: %+v %v", page, err)
		}
		c := page.Items[0]
		if c.Tier != "vip" || c.Industry != "电子" || c.OwnerID == nil || c.Phones[0] != "13900000001" || !strings.Contains(strings.Join(c.Tags, ","), "路由器") {
			t.Fatalf("imported customer = %+v", c)
		}
		// The serial of March continues after the imported 007; May (now)
		// got 002 after the existing 001.
		if rep.FirstNumber != "202403007" || rep.LastNumber != "202405002" {
			t.Fatalf("numbers %s…%s", rep.FirstNumber, rep.LastNumber)
		}
		f.clock.Set(f.clock.Now().AddDate(0, -2, 0)) // back in March
		c2, err := f.store.Create(ctx, customers.Input{Name: str("三月新客户")})
		if err != nil || c2.Number != "202403008" {
			t.Fatalf("next March number = %q, %v", c2.Number, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM timeline_events WHERE kind = 'customer.imported'`); n != 2 {
			t.Fatalf("%d import timeline events", n)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'customer.import'`); n != 1 {
			t.Fatalf("%d import audit entries", n)
		}
		// Importing the same file again: numbers and phones are taken now.
		rep, err = f.store.Import(ctx, csvFile(file[0], file[1]), customers.ImportSettings{})
		if err != nil || rep.Created != 0 || len(rep.Errors) != 3 {
			t.Fatalf("re-import: %+v %v", rep, err)
		}
		// allow_duplicates lets the phone and email in, not the number.
		rep, err = f.store.Import(ctx, csvFile(file[0], ",另一家,13900000001,a@example.com,,,"), customers.ImportSettings{AllowDuplicates: true})
		if err != nil || rep.Created != 1 {
			t.Fatalf("allow duplicates: %+v %v", rep, err)
		}
	})
}

func TestImportRefusesFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		for name, data := range map[string]string{
			"not a spreadsheet": "\x00\x01\x02binary",
			"broken quote":      "客户名称,联系方式\r\n\"张三,13900000001\r\n",
			"no name column":    "联系方式,邮箱\r\n13900000001,a@example.com\r\n",
		} {
			_, err := f.store.Import(ctx, bytes.NewReader([]byte(data)), customers.ImportSettings{})
			var ve *domain.ValidationError
			if !errors.As(err, &ve) || ve.Fields[0].Field != "file" {
				t.Errorf("%s: err = %v", name, err)
			}
		}
		if n := count(t, d, `SELECT COUNT(*) FROM customers`); n != 0 {
			t.Fatalf("%d customers", n)
		}
	})
}

func TestImportCancelRollsBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		lines := []string{"客户名称,联系方式"}
		for i := range 2000 {
			lines = append(lines, fmt.Sprintf("客户%d,", i)+phoneN(i))
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := f.store.Import(ctx, csvFile(lines...), customers.ImportSettings{Progress: func(phase string, done, total int) {
			if phase == customers.PhaseImporting && done >= 800 {
				cancel()
			}
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM customers`); n != 0 {
			t.Fatalf("%d customers after a cancelled import", n)
		}
		rep, err := f.store.Import(context.Background(), csvFile(lines...), customers.ImportSettings{})
		if err != nil || rep.Created != 2000 {
			t.Fatalf("import: %+v %v", rep.Created, err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM customer_phones`); n != 2000 {
			t.Fatalf("%d phones", n)
		}
	})
}

func phoneN(i int) string { return fmt.Sprintf("139%08d", i) }
