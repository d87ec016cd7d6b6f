package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // calendars name IANA zones; do not depend on the host's zoneinfo

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/sla"
)

func cmdCalendar(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, e.T("cli.calendar_usage"))
		return e.usage("cli.calendar_no_command")
	}
	switch args[0] {
	case "list":
		return calendarList(ctx, e, args[1:])
	case "show":
		return calendarShow(ctx, e, args[1:])
	case "create":
		return calendarCreate(ctx, e, args[1:])
	case "import":
		return calendarImport(ctx, e, args[1:])
	case "deadline":
		return calendarDeadline(ctx, e, args[1:])
	case "between":
		return calendarBetween(ctx, e, args[1:])
	case "festivals":
		return calendarFestivals(e, args[1:])
	case "help", "-h", "--help":
		fmt.Fprintln(e.stdout, e.T("cli.calendar_usage"))
		return nil
	}
	fmt.Fprintln(e.stderr, e.T("cli.calendar_usage"))
	return e.usage("cli.calendar_unknown", "Command", args[0])
}

// explainCalendar turns validation errors (definition or import file) into
// one readable line, each problem prefixed by where it is.
func (e env) explainCalendar(where string, err error) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	var b strings.Builder
	for i, f := range v.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(where)
		if f.Field != "" && f.Field != "file" && f.Field != "body" {
			b.WriteString(": " + f.Field)
		}
		b.WriteString(": " + catalog().T(e.lang, f.Key, f.Params))
	}
	return usageError{b.String()}
}

func calendarList(ctx context.Context, e env, args []string) error {
	c, _, err := flags(e, "calendar list", false, args, nil)
	if err != nil {
		return err
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	list, err := a.Calendars.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, e.T("cli.calendar_list_header"))
	for _, s := range list {
		years := "-"
		if n := len(s.HolidayYears); n > 0 {
			years = fmt.Sprintf("%d-%d (%d)", s.HolidayYears[0], s.HolidayYears[n-1], n)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", s.Name, s.TimeZone, years, s.Exceptions, s.Version)
	}
	return tw.Flush()
}

// needCalendar checks --calendar.
func (e env) needCalendar(name string) error {
	if name == "" {
		return e.usage("cli.calendar_required")
	}
	return nil
}

// notFound turns an unknown calendar into a usage error naming it.
func (e env) notFound(name string, err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return e.usage("cli.calendar_not_found", "Name", name)
	}
	return err
}

func calendarShow(ctx context.Context, e env, args []string) error {
	var name string
	c, _, err := flags(e, "calendar show", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "calendar", sla.DefaultName, e.T("cli.flag.calendar"))
	})
	if err != nil {
		return err
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	rec, err := a.Calendars.Get(ctx, name)
	if err != nil {
		return e.notFound(name, err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", sla.EncodeDefinition(rec.Definition))
	return err
}

func calendarCreate(ctx context.Context, e env, args []string) error {
	var file string
	c, _, err := flags(e, "calendar create", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", e.T("cli.flag.calendar_file"))
	})
	if err != nil {
		return err
	}
	if file == "" {
		return e.usage("cli.file_required")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return usageError{fmt.Sprintf("--file: %v", err)}
	}
	def, err := sla.ParseDefinition(data)
	if err != nil {
		return e.explainCalendar(filepath.Base(file), sla.AsDomainError(err))
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	rec, err := a.Calendars.Create(cliContext(ctx), def)
	if err != nil {
		return e.explainCalendar(filepath.Base(file), err)
	}
	fmt.Fprintln(e.stdout, e.T("cli.calendar_created", "Name", rec.Definition.Name, "Zone", rec.Definition.TimeZone, "Count", len(rec.Definition.Exceptions)))
	return nil
}

func calendarImport(ctx context.Context, e env, args []string) error {
	var name string
	var dry bool
	c, fs, err := flags(e, "calendar import", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "calendar", "", e.T("cli.flag.calendar_into"))
		fs.BoolVar(&dry, "dry-run", false, e.T("cli.flag.calendar_dry_run"))
	})
	if err != nil {
		return err
	}
	if err := e.needCalendar(name); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return e.usage("cli.calendar_import_usage")
	}
	file := fs.Arg(0)
	data, err := os.ReadFile(file)
	if err != nil {
		return usageError{err.Error()}
	}
	ex, err := sla.ParseHolidayFile(file, data)
	if err != nil {
		return e.explainCalendar(filepath.Base(file), err)
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	var plan sla.ImportPlan
	if dry {
		plan, err = a.Calendars.PlanImport(ctx, name, ex)
	} else {
		plan, err = a.Calendars.Import(cliContext(ctx), name, ex, 0)
	}
	if err != nil {
		return e.notFound(name, err)
	}
	for _, x := range plan.Diff.Added {
		fmt.Fprintf(e.stdout, "+ %s %s %s\n", x.Date, e.exceptionKind(x), x.Name)
	}
	for _, x := range plan.Diff.Changed {
		fmt.Fprintf(e.stdout, "~ %s %s -> %s %s\n", x.Date, e.exceptionKind(x.Old), e.exceptionKind(x.New), x.New.Name)
	}
	key := "cli.calendar_imported"
	if dry {
		key = "cli.calendar_would_import"
	}
	fmt.Fprintln(e.stdout, e.T(key, "Added", len(plan.Diff.Added), "Changed", len(plan.Diff.Changed), "Name", name))
	return nil
}

func (e env) exceptionKind(x sla.Exception) string {
	switch {
	case x.Off:
		return e.T("cli.kind_off")
	case x.IsMakeUp():
		return e.T("cli.kind_makeup")
	}
	var parts []string
	for _, iv := range x.Hours {
		parts = append(parts, iv.Start.String()+"-"+iv.End.String())
	}
	return e.T("cli.kind_hours", "Hours", strings.Join(parts, ","))
}

// openCalendar opens the store and compiles the calendar called name; it
// also returns the years in which that calendar has statutory holidays.
func (e env) openCalendar(ctx context.Context, c config.Config, name string) (*sla.Calendar, []int, func(), error) {
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return nil, nil, nil, err
	}
	cal, err := a.Calendars.Calendar(ctx, name)
	if err != nil {
		a.Close()
		return nil, nil, nil, e.notFound(name, err)
	}
	list, err := a.Calendars.List(ctx)
	if err != nil {
		a.Close()
		return nil, nil, nil, err
	}
	var years []int
	for _, s := range list {
		if s.Name == name {
			years = s.HolidayYears
		}
	}
	return cal, years, func() { a.Close() }, nil
}

// warnHolidayGap warns on stderr, as the web pages' banner does, when the
// span from a to b reaches a year for which a calendar that keeps statutory
// holidays has none yet: the answer then counts that year as ordinary weeks.
// A calendar without any holidays (24x7, a foreign office) is meant so.
func (e env) warnHolidayGap(name string, years []int, loc *time.Location, a, b time.Time) {
	if len(years) == 0 {
		return
	}
	if b.Before(a) {
		a, b = b, a
	}
	for y := a.In(loc).Year(); y <= b.In(loc).Year(); y++ {
		if !slices.Contains(years, y) {
			fmt.Fprintln(e.stderr, e.T("cli.holiday_gap", "Name", name, "Year", y))
			return
		}
	}
}

// parseWhen reads an RFC 3339 instant, or a wall-clock time
// ("2026-01-05 14:00[:00]", "2026-01-05T14:00") in the calendar's zone.
func (e env) parseWhen(flagName, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, e.usage("cli.time_required", "Flag", flagName)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, e.usage("cli.bad_time", "Flag", flagName, "Value", s)
}

// arithError explains an arithmetic failure as the flag it is about.
func (e env) arithError(err error, flagName string) error {
	switch {
	case errors.Is(err, sla.ErrNoWorkingTime):
		return usageError{"--calendar: " + e.T("sla.no_working_time")}
	case errors.Is(err, sla.ErrOutOfRange):
		return usageError{"--" + flagName + ": " + e.T("sla.out_of_range")}
	}
	return err
}

func calendarDeadline(ctx context.Context, e env, args []string) error {
	var name, from, duration string
	var wall bool
	c, _, err := flags(e, "calendar deadline", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "calendar", sla.DefaultName, e.T("cli.flag.calendar"))
		fs.StringVar(&from, "from", "", e.T("cli.flag.from"))
		fs.StringVar(&duration, "duration", "", e.T("cli.flag.duration"))
		fs.BoolVar(&wall, "wall-clock", false, e.T("cli.flag.wall_clock"))
	})
	if err != nil {
		return err
	}
	if duration == "" {
		return e.usage("cli.duration_required")
	}
	d, err := time.ParseDuration(duration)
	if err != nil {
		return e.usage("cli.bad_duration", "Value", duration)
	}
	if d < 0 {
		return usageError{"--duration: " + e.T("sla.negative_duration")}
	}
	cal, years, done, err := e.openCalendar(ctx, c, name)
	if err != nil {
		return err
	}
	defer done()
	start, err := e.parseWhen("from", from, cal.Location())
	if err != nil {
		return err
	}
	due, err := cal.Add(start, d)
	if err != nil {
		return e.arithError(err, "from")
	}
	e.warnHolidayGap(name, years, cal.Location(), start, due)
	if wall {
		fmt.Fprintln(e.stdout, due.Format("2006-01-02 15:04:05"))
	} else {
		fmt.Fprintln(e.stdout, due.Format(time.RFC3339Nano))
	}
	return nil
}

func calendarBetween(ctx context.Context, e env, args []string) error {
	var name, from, to string
	c, _, err := flags(e, "calendar between", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "calendar", sla.DefaultName, e.T("cli.flag.calendar"))
		fs.StringVar(&from, "from", "", e.T("cli.flag.from"))
		fs.StringVar(&to, "to", "", e.T("cli.flag.to"))
	})
	if err != nil {
		return err
	}
	cal, years, done, err := e.openCalendar(ctx, c, name)
	if err != nil {
		return err
	}
	defer done()
	a, err := e.parseWhen("from", from, cal.Location())
	if err != nil {
		return err
	}
	b, err := e.parseWhen("to", to, cal.Location())
	if err != nil {
		return err
	}
	d, err := cal.Between(a, b)
	if err != nil {
		return e.arithError(err, "from")
	}
	e.warnHolidayGap(name, years, cal.Location(), a, b)
	fmt.Fprintln(e.stdout, d)
	return nil
}

func calendarFestivals(e env, args []string) error {
	year := clock.Real{}.Now().In(sla.Default().Location()).Year()
	_, _, err := flags(e, "calendar festivals", false, args, func(fs *flag.FlagSet) {
		fs.IntVar(&year, "year", year, e.T("cli.flag.year"))
	})
	if err != nil {
		return err
	}
	list, err := sla.Festivals(year)
	if errors.Is(err, sla.ErrYearOutOfRange) {
		return usageError{fmt.Sprintf("--year %d: %s", year, e.T("sla.year_out_of_range"))}
	}
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}
