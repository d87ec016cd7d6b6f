package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	_ "time/tzdata" // calendars name IANA zones; do not depend on the host's zoneinfo

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/sla"
)

const calendarUsage = `usage: careloop calendar <command> [flags]

commands:
  list                                            the calendars, their zones and holiday years
  show --calendar NAME                            print a calendar's definition JSON
  create --file F.json                            create a calendar from its definition JSON
  import --calendar NAME [--dry-run] FILE         import holidays (holiday JSON or .ics)
  deadline --calendar NAME --from T --duration D  when D of business time has elapsed after T
  between --calendar NAME --from A --to B         business time between A and B
  festivals [--year Y]                            festival dates of a year as JSON`

func cmdCalendar(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(e.stderr, calendarUsage)
		return usageError{"calendar: no command"}
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
		fmt.Fprintln(e.stdout, calendarUsage)
		return nil
	}
	fmt.Fprintln(e.stderr, calendarUsage)
	return usageError{fmt.Sprintf("unknown calendar command %q", args[0])}
}

// explainCalendar turns validation errors (definition or import file) into
// one readable line, each problem prefixed by where it is.
func explainCalendar(where string, err error) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	cat := i18n.MustLoad()
	var b strings.Builder
	for i, f := range v.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(where)
		if f.Field != "" && f.Field != "file" && f.Field != "body" {
			b.WriteString(": " + f.Field)
		}
		b.WriteString(": " + cat.T(i18n.English, f.Key, f.Params))
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
	fmt.Fprintln(tw, "NAME\tTIME ZONE\tHOLIDAY YEARS\tEXCEPTIONS\tVERSION")
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
func needCalendar(name string) error {
	if name == "" {
		return usageError{"--calendar is required"}
	}
	return nil
}

// notFound turns an unknown calendar into a usage error naming it.
func notFound(name string, err error) error {
	if errors.Is(err, domain.ErrNotFound) {
		return usageError{fmt.Sprintf("--calendar: no calendar named %q (careloop calendar list shows them)", name)}
	}
	return err
}

func calendarShow(ctx context.Context, e env, args []string) error {
	var name string
	c, _, err := flags(e, "calendar show", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "calendar", sla.DefaultName, "the calendar's name")
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
		return notFound(name, err)
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", sla.EncodeDefinition(rec.Definition))
	return err
}

func calendarCreate(ctx context.Context, e env, args []string) error {
	var file string
	c, _, err := flags(e, "calendar create", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "the definition JSON: {\"name\", \"time_zone\", \"hours\", \"exceptions\"} (required)")
	})
	if err != nil {
		return err
	}
	if file == "" {
		return usageError{"--file is required"}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return usageError{fmt.Sprintf("--file: %v", err)}
	}
	def, err := sla.ParseDefinition(data)
	if err != nil {
		return explainCalendar(filepath.Base(file), sla.AsDomainError(err))
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	rec, err := a.Calendars.Create(cliContext(ctx), def)
	if err != nil {
		return explainCalendar(filepath.Base(file), err)
	}
	fmt.Fprintf(e.stdout, "created calendar %s (%s, %d exceptions)\n", rec.Definition.Name, rec.Definition.TimeZone, len(rec.Definition.Exceptions))
	return nil
}

func calendarImport(ctx context.Context, e env, args []string) error {
	var name string
	var dry bool
	c, fs, err := flags(e, "calendar import", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "calendar", "", "the calendar to import into (required)")
		fs.BoolVar(&dry, "dry-run", false, "only print what would change")
	})
	if err != nil {
		return err
	}
	if err := needCalendar(name); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: careloop calendar import --calendar NAME [--dry-run] FILE (holiday JSON or .ics)"}
	}
	file := fs.Arg(0)
	data, err := os.ReadFile(file)
	if err != nil {
		return usageError{err.Error()}
	}
	ex, err := sla.ParseHolidayFile(file, data)
	if err != nil {
		return explainCalendar(filepath.Base(file), err)
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
		return notFound(name, err)
	}
	for _, x := range plan.Diff.Added {
		fmt.Fprintf(e.stdout, "+ %s %s %s\n", x.Date, exceptionKind(x), x.Name)
	}
	for _, x := range plan.Diff.Changed {
		fmt.Fprintf(e.stdout, "~ %s %s -> %s %s\n", x.Date, exceptionKind(x.Old), exceptionKind(x.New), x.New.Name)
	}
	verb := "imported"
	if dry {
		verb = "would import"
	}
	fmt.Fprintf(e.stdout, "%s %d added, %d changed into calendar %s\n", verb, len(plan.Diff.Added), len(plan.Diff.Changed), name)
	return nil
}

func exceptionKind(x sla.Exception) string {
	switch {
	case x.Off:
		return "off"
	case x.IsMakeUp():
		return "make-up"
	}
	var parts []string
	for _, iv := range x.Hours {
		parts = append(parts, iv.Start.String()+"-"+iv.End.String())
	}
	return "hours " + strings.Join(parts, ",")
}

// openCalendar opens the store and compiles the calendar called name.
func openCalendar(ctx context.Context, e env, c config.Config, name string) (*sla.Calendar, func(), error) {
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return nil, nil, err
	}
	cal, err := a.Calendars.Calendar(ctx, name)
	if err != nil {
		a.Close()
		return nil, nil, notFound(name, err)
	}
	return cal, func() { a.Close() }, nil
}

// parseWhen reads an RFC 3339 instant, or a wall-clock time
// ("2026-01-05 14:00[:00]", "2026-01-05T14:00") in the calendar's zone.
func parseWhen(flagName, s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Time{}, usageError{"--" + flagName + " is required"}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("--%s %q: not a time (RFC 3339 such as 2026-01-05T09:00:00+08:00, or 2026-01-05 09:00 in the calendar's zone)", flagName, s)}
}

// arithError explains an arithmetic failure as the flag it is about.
func arithError(err error, flagName string) error {
	switch {
	case errors.Is(err, sla.ErrNoWorkingTime):
		return usageError{"--calendar: " + i18n.MustLoad().T(i18n.English, "sla.no_working_time", nil)}
	case errors.Is(err, sla.ErrOutOfRange):
		return usageError{"--" + flagName + ": " + i18n.MustLoad().T(i18n.English, "sla.out_of_range", nil)}
	}
	return err
}

func calendarDeadline(ctx context.Context, e env, args []string) error {
	var name, from, duration string
	var wall bool
	c, _, err := flags(e, "calendar deadline", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "calendar", sla.DefaultName, "the calendar's name")
		fs.StringVar(&from, "from", "", "the start: RFC 3339, or wall-clock time in the calendar's zone (required)")
		fs.StringVar(&duration, "duration", "", "business time, e.g. 90m, 24h, 1h30m (required)")
		fs.BoolVar(&wall, "wall-clock", false, "print the calendar's wall-clock time (2006-01-02 15:04:05) instead of RFC 3339")
	})
	if err != nil {
		return err
	}
	if duration == "" {
		return usageError{"--duration is required (e.g. 90m, 24h, 1h30m)"}
	}
	d, err := time.ParseDuration(duration)
	if err != nil {
		return usageError{fmt.Sprintf("--duration %q: not a duration (e.g. 90m, 24h, 1h30m)", duration)}
	}
	if d < 0 {
		return usageError{"--duration: " + i18n.MustLoad().T(i18n.English, "sla.negative_duration", nil)}
	}
	cal, done, err := openCalendar(ctx, e, c, name)
	if err != nil {
		return err
	}
	defer done()
	start, err := parseWhen("from", from, cal.Location())
	if err != nil {
		return err
	}
	due, err := cal.Add(start, d)
	if err != nil {
		return arithError(err, "from")
	}
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
		fs.StringVar(&name, "calendar", sla.DefaultName, "the calendar's name")
		fs.StringVar(&from, "from", "", "the start (RFC 3339 or wall-clock in the calendar's zone; required)")
		fs.StringVar(&to, "to", "", "the end (same forms; required)")
	})
	if err != nil {
		return err
	}
	cal, done, err := openCalendar(ctx, e, c, name)
	if err != nil {
		return err
	}
	defer done()
	a, err := parseWhen("from", from, cal.Location())
	if err != nil {
		return err
	}
	b, err := parseWhen("to", to, cal.Location())
	if err != nil {
		return err
	}
	d, err := cal.Between(a, b)
	if err != nil {
		return arithError(err, "from")
	}
	fmt.Fprintln(e.stdout, d)
	return nil
}

func calendarFestivals(e env, args []string) error {
	year := clock.Real{}.Now().In(sla.Default().Location()).Year()
	_, _, err := flags(e, "calendar festivals", false, args, func(fs *flag.FlagSet) {
		fs.IntVar(&year, "year", year, "the Gregorian year, 1900–2100")
	})
	if err != nil {
		return err
	}
	list, err := sla.Festivals(year)
	if errors.Is(err, sla.ErrYearOutOfRange) {
		return usageError{fmt.Sprintf("--year %d: %s", year, i18n.MustLoad().T(i18n.English, "sla.year_out_of_range", nil))}
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
