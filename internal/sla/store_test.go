package sla_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/testkit/fixtures"
)

func newStore(t *testing.T, d *db.DB, clk clock.Clock) *sla.Store {
	t.Helper()
	s := sla.NewStore(d, clk, audit.New(d, clk))
	if err := s.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func count(t *testing.T, d *db.DB, q string) int {
	t.Helper()
	var n int
	if err := d.R.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStoreSeedsOnceAndKeepsEdits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
		s := newStore(t, d, clk)
		list, err := s.List(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "default" || list[1].Name != "24x7" {
			t.Fatalf("seeded %+v %v", list, err)
		}
		if y := list[0].HolidayYears; len(y) != 7 || y[0] != 2020 || y[6] != 2026 {
			t.Fatalf("default holiday years %v", y)
		}
		rec, err := s.Get(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		if d := sla.DiffExceptions(sla.BuiltinHolidays(), rec.Definition.Exceptions); !d.Empty() {
			t.Fatalf("default differs from the built-in data: %+v", d)
		}
		if rec.Definition.Exceptions[0].Name == "" {
			t.Fatal("labels lost")
		}
		// An admin edit and a deletion survive a restart's seeding.
		def := rec.Definition
		def.Hours[time.Saturday] = sla.MustHours("09:00", "12:00")
		if _, err := s.Update(ctx, "default", def, rec.Version); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "24x7", 0); err != nil {
			t.Fatal(err)
		}
		newStore(t, d, clk)
		rec2, _ := s.Get(ctx, "default")
		if len(rec2.Definition.Hours[time.Saturday]) != 1 || rec2.Version != rec.Version+1 {
			t.Fatalf("seeding overwrote the edit: %+v", rec2.Definition.Hours)
		}
		if _, err := s.Get(ctx, "24x7"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("deleted 24x7 came back: %v", err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE entity = 'calendar'`); n != 4 {
			t.Fatalf("%d audit entries, want 4 (2 seeds, update, delete)", n)
		}
	})
}

func TestStoreCRUDVersionsAndNames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
		s := newStore(t, d, clk)
		def := sla.Definition{Name: "华东-support_2", TimeZone: "Asia/Shanghai", Hours: sla.StandardHours(),
			Exceptions: []sla.Exception{{Date: sla.Date{Year: 2025, Month: 1, Day: 26}}, {Date: sla.Date{Year: 2025, Month: 1, Day: 28}, Off: true}}}
		rec, err := s.Create(ctx, def)
		if err != nil || rec.Version != 1 {
			t.Fatalf("create: %+v %v", rec, err)
		}
		// The make-up day keeps following the regular hours.
		if got := string(sla.EncodeDefinition(rec.Definition)); got != `{"name":"华东-support_2","time_zone":"Asia/Shanghai","hours":{"mon":[["09:00","12:00"],["13:30","18:00"]],"tue":[["09:00","12:00"],["13:30","18:00"]],"wed":[["09:00","12:00"],["13:30","18:00"]],"thu":[["09:00","12:00"],["13:30","18:00"]],"fri":[["09:00","12:00"],["13:30","18:00"]]},"exceptions":[{"date":"2025-01-26"},{"date":"2025-01-28","off":true}]}` {
			t.Fatalf("stored %s", got)
		}
		if _, err := s.Create(ctx, def); !isField(err, "name") {
			t.Fatalf("duplicate name: %v", err)
		}
		for _, bad := range []string{"", "a b", "x/y", string(make([]byte, 61))} {
			d := def
			d.Name = bad
			if _, err := s.Create(ctx, d); !isField(err, "name") {
				t.Errorf("name %q: %v", bad, err)
			}
		}
		cal, err := s.Calendar(ctx, def.Name)
		if err != nil {
			t.Fatal(err)
		}
		due, _ := cal.Add(time.Date(2025, 1, 24, 17, 0, 0, 0, cal.Location()), 2*time.Hour) // Friday → make-up Sunday
		if want := time.Date(2025, 1, 26, 10, 0, 0, 0, cal.Location()); !due.Equal(want) {
			t.Fatalf("due %v, want %v", due, want)
		}
		def.Hours[time.Monday] = sla.MustHours("08:00", "12:00")
		if _, err := s.Update(ctx, def.Name, def, 7); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale update: %v", err)
		}
		rec, err = s.Update(ctx, def.Name, def, 1)
		if err != nil || rec.Version != 2 {
			t.Fatalf("update: %v", err)
		}
		if cal2, _ := s.Calendar(ctx, def.Name); cal2 == cal || len(cal2.HoursOn(sla.Date{Year: 2026, Month: 3, Day: 2})) != 1 {
			t.Fatal("cache not rebuilt after update")
		}
		renamed := def
		renamed.Name = "other"
		if _, err := s.Update(ctx, def.Name, renamed, 0); !isField(err, "name") {
			t.Fatalf("rename: %v", err)
		}
		bad := def
		bad.Hours[time.Tuesday] = sla.MustHours("09:00", "12:00", "11:00", "13:00")
		if _, err := s.Update(ctx, def.Name, bad, 0); !isField(err, "hours.tue[1]") {
			t.Fatalf("overlap: %v", err)
		}
		if err := s.Delete(ctx, "default", 0); !errors.Is(err, sla.ErrDeleteDefault) || !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("delete default: %v", err)
		}
		if err := s.Delete(ctx, def.Name, 1); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale delete: %v", err)
		}
		if err := s.Delete(ctx, def.Name, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Calendar(ctx, def.Name); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("deleted calendar still served: %v", err)
		}
	})
}

func isField(err error, field string) bool {
	var v *domain.ValidationError
	return errors.As(err, &v) && len(v.Fields) > 0 && v.Fields[0].Field == field
}

// TestStoreImportsEveryShippedYear imports the holiday-cn files of
// 2020–2026 into an empty calendar and gets exactly the built-in data; the
// same files change nothing in the default calendar.
func TestStoreImportsEveryShippedYear(t *testing.T) {
	dir := fixtures.HolidaysCN(t)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC))
		s := newStore(t, d, clk)
		if _, err := s.Create(ctx, sla.Definition{Name: "empty", Hours: sla.StandardHours()}); err != nil {
			t.Fatal(err)
		}
		for y := sla.BuiltinHolidayFirstYear; y <= sla.BuiltinHolidayLastYear; y++ {
			data, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(y)+".json"))
			if err != nil {
				t.Fatal(err)
			}
			ex, err := sla.ParseHolidayFile(strconv.Itoa(y)+".json", data)
			if err != nil {
				t.Fatalf("%d: %v", y, err)
			}
			plan, err := s.Import(ctx, "empty", ex, 0)
			if err != nil || len(plan.Diff.Added) == 0 {
				t.Fatalf("%d: %+v %v", y, plan.Diff, err)
			}
			again, err := s.PlanImport(ctx, "default", ex)
			if err != nil || !again.Diff.Empty() {
				t.Fatalf("%d into default: %+v %v", y, again.Diff, err)
			}
		}
		rec, _ := s.Get(ctx, "empty")
		if diff := sla.DiffExceptions(sla.BuiltinHolidays(), rec.Definition.Exceptions); !diff.Empty() {
			t.Fatalf("imported data differs from the built-in data: %+v", diff)
		}
		if rec.Version != 8 {
			t.Fatalf("version %d after 7 imports", rec.Version)
		}
		// Importing a year again changes nothing and writes nothing.
		data, _ := os.ReadFile(filepath.Join(dir, "2025.json"))
		ex, _ := sla.ParseHolidayFile("2025.json", data)
		if plan, err := s.Import(ctx, "empty", ex, 0); err != nil || !plan.Diff.Empty() || plan.Version != 8 {
			t.Fatalf("re-import: %+v %v", plan, err)
		}
		// The 2027 warning is on in late November, off once 2027 is loaded.
		if y, err := s.MissingHolidayYear(ctx); err != nil || y != 2027 {
			t.Fatalf("missing year %d %v, want 2027", y, err)
		}
		ex27, err := sla.ParseHolidayFile("2027.json", []byte(`{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx, "default", ex27, 0); err != nil {
			t.Fatal(err)
		}
		if y, _ := s.MissingHolidayYear(ctx); y != 0 {
			t.Fatalf("missing year %d after import", y)
		}
		clk.Set(time.Date(2026, 10, 31, 15, 59, 0, 0, time.UTC)) // 23:59 in Shanghai: still October
		if y, _ := s.MissingHolidayYear(ctx); y != 0 {
			t.Fatalf("warning in October: %d", y)
		}
	})
}

func TestStoreRefusesMalformedFilesAndImportsICS(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
		s := newStore(t, d, clk)
		for name, body := range map[string]string{
			"cut.json":     `{"days": [{"name": "春节", "date": "2027-02-06", "isOffDay": tru`,
			"bad.json":     `{"days": [{"name": "春节", "date": "2027-02-30", "isOffDay": true}]}`,
			"empty.json":   `{"year": 2027, "papers": [], "days": []}`,
			"timed.ics":    "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20270206T090000\nSUMMARY:春节\nEND:VEVENT\nEND:VCALENDAR\n",
			"notical.json": `[1, 2]`,
		} {
			if _, err := sla.ParseHolidayFile(name, []byte(body)); !isValidation(err) {
				t.Errorf("%s: %v, want a validation error", name, err)
			}
		}
		data, err := os.ReadFile(filepath.Join("testdata", "holidays-2025.ics"))
		if err != nil {
			t.Fatal(err)
		}
		ex, err := sla.ParseHolidayFile("holidays-2025.ics", data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, sla.Definition{Name: "ics", Hours: sla.StandardHours()}); err != nil {
			t.Fatal(err)
		}
		plan, err := s.Import(ctx, "ics", ex, 1)
		if err != nil || len(plan.Diff.Added) != len(ex) || plan.Version != 2 {
			t.Fatalf("ics import: %+v %v", plan, err)
		}
		cal, _ := s.Calendar(ctx, "ics")
		if cal.IsWorkingDay(sla.Date{Year: 2025, Month: 1, Day: 28}) || !cal.IsWorkingDay(sla.Date{Year: 2025, Month: 1, Day: 26}) {
			t.Fatal("ics holidays not applied")
		}
		if _, err := s.Import(ctx, "ics", ex, 1); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale import: %v", err)
		}
	})
}

func isValidation(err error) bool {
	var v *domain.ValidationError
	return errors.As(err, &v)
}

// TestStoreCacheSeesOtherProcessesWithinTTL: a second Store stands for
// another server (or the CLI) writing the same database.
func TestStoreCacheSeesOtherProcessesWithinTTL(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
		a, b := newStore(t, d, clk), newStore(t, d, clk)
		cal, err := a.Calendar(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := a.Calendar(ctx, "default"); again != cal {
			t.Fatal("not cached")
		}
		rec, _ := b.Get(ctx, "default")
		rec.Definition.TimeZone = "Europe/Berlin"
		if _, err := b.Update(ctx, "default", rec.Definition, rec.Version); err != nil {
			t.Fatal(err)
		}
		if c, _ := a.Calendar(ctx, "default"); c != cal {
			t.Fatal("re-checked before the TTL")
		}
		clk.Advance(sla.CacheTTL)
		c, err := a.Calendar(ctx, "default")
		if err != nil || c.Location().String() != "Europe/Berlin" {
			t.Fatalf("after the TTL: %v %v", c.Location(), err)
		}
		clk.Advance(sla.CacheTTL)
		if again, _ := a.Calendar(ctx, "default"); again != c {
			t.Fatal("unchanged version rebuilt the calendar")
		}
	})
}
