package ui

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (u *UI) calendarRoutes() []httpx.Route {
	m := identity.CalendarsManage
	return []httpx.Route{
		{Method: "GET", Path: "/admin/calendars", Perm: m, Handler: u.calendars},
		{Method: "POST", Path: "/admin/calendars", Perm: m, Handler: u.createCalendar},
		{Method: "GET", Path: "/admin/calendars/{name}", Perm: m, Handler: u.calendar},
		{Method: "POST", Path: "/admin/calendars/{name}/hours", Perm: m, Handler: u.calendarHours},
		{Method: "POST", Path: "/admin/calendars/{name}/exceptions", Perm: m, Handler: u.addException},
		{Method: "POST", Path: "/admin/calendars/{name}/exceptions/remove", Perm: m, Handler: u.removeException},
		{Method: "POST", Path: "/admin/calendars/{name}/import", Perm: m, Handler: u.importHolidays},
		{Method: "POST", Path: "/admin/calendars/{name}/delete", Perm: m, Handler: u.deleteCalendar},
	}
}

// weekdays in the order the pages show them (Monday first, as in China).
var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

var weekdayKeys = map[time.Weekday]string{time.Monday: "mon", time.Tuesday: "tue", time.Wednesday: "wed",
	time.Thursday: "thu", time.Friday: "fri", time.Saturday: "sat", time.Sunday: "sun"}

type calendarsData struct {
	Calendars []sla.Summary
	Years     map[string]string // name → "2020–2026", the years with holidays
	Form      struct{ Name, TimeZone, Template string }
}

func (u *UI) calendarsPage(w http.ResponseWriter, r *http.Request, status int, d *calendarsData, err error) {
	list, lerr := u.Calendars.List(r.Context())
	if lerr != nil {
		u.fail(w, r, lerr)
		return
	}
	d.Calendars, d.Years = list, map[string]string{}
	for _, c := range list {
		d.Years[c.Name] = yearsText(c.HolidayYears)
	}
	p := u.page(r, "calendar.title", d)
	if err != nil && !u.fieldErrors(p, err) {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, status, "calendars", p)
}

func (u *UI) calendars(w http.ResponseWriter, r *http.Request) {
	d := &calendarsData{}
	d.Form.TimeZone, d.Form.Template = sla.DefaultTimeZone, "cn"
	u.calendarsPage(w, r, http.StatusOK, d, nil)
}

func (u *UI) createCalendar(w http.ResponseWriter, r *http.Request) {
	d := &calendarsData{}
	d.Form.Name = strings.TrimSpace(r.PostFormValue("name"))
	d.Form.TimeZone = strings.TrimSpace(r.PostFormValue("time_zone"))
	d.Form.Template = r.PostFormValue("template")
	var def sla.Definition
	switch d.Form.Template {
	case "24x7":
		def = sla.TwentyFourSevenDefinition(d.Form.Name, d.Form.TimeZone)
	case "standard":
		def = sla.Definition{Name: d.Form.Name, TimeZone: d.Form.TimeZone, Hours: sla.StandardHours()}
	default:
		def = sla.DefaultDefinition()
		def.Name, def.TimeZone = d.Form.Name, d.Form.TimeZone
	}
	if _, err := u.Calendars.Create(r.Context(), def); err != nil {
		u.calendarsPage(w, r, http.StatusBadRequest, d, formErrors(err))
		return
	}
	redirect(w, r, "/admin/calendars/"+url.PathEscape(def.Name)+"?done=calendar_created")
}

// yearsText writes years as ranges: "2020–2026, 2028".
func yearsText(years []int) string {
	if len(years) == 0 {
		return "—"
	}
	var parts []string
	for i := 0; i < len(years); {
		j := i
		for j+1 < len(years) && years[j+1] == years[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(years[i])+"–"+strconv.Itoa(years[j]))
		} else {
			parts = append(parts, strconv.Itoa(years[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// dayCell is one day of the month grid.
type dayCell struct {
	Day     int
	Date    string
	InMonth bool
	Kind    string // work, weekend, holiday, makeup, part
	Label   string
	Hours   string
	Today   bool
}

type hoursRow struct{ Key, Value string }

type exceptionRow struct {
	Date, Weekday, Kind, Hours, Label string
}

type previewBox struct {
	From, Duration, Due, DueWeekday, Error string
	FromText                               string // From as the answer shows it
}

type importBox struct {
	Plan     sla.ImportPlan
	FileName string
	Content  string // base64 of the uploaded file, posted back on confirm
}

type calendarData struct {
	Name, TimeZone string
	Version        int
	IsDefault      bool
	Year, Month    int
	Prev, Next     string
	Weeks          [][]dayCell
	Hours          []hoursRow
	Exceptions     []exceptionRow
	ExcForm        struct{ Date, Kind, Hours, Label string }
	Preview        previewBox
	Import         *importBox
}

// calendarPage renders a calendar's page; err (a validation error) shows
// beside the form it belongs to.
func (u *UI) calendarPage(w http.ResponseWriter, r *http.Request, status int, name string, edit func(d *calendarData), err error) {
	rec, gerr := u.Calendars.Get(r.Context(), name)
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	cal, gerr := sla.New(rec.Definition)
	if gerr != nil {
		u.fail(w, r, gerr)
		return
	}
	def := rec.Definition
	d := &calendarData{Name: def.Name, TimeZone: cal.Location().String(), Version: rec.Version, IsDefault: def.Name == sla.DefaultName}
	now := u.Clock.Now().In(cal.Location())
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if m, err := time.Parse("2006-01", r.URL.Query().Get("month")); err == nil && m.Year() >= 1900 && m.Year() <= 2100 {
		month = m
	}
	d.Year, d.Month = month.Year(), int(month.Month())
	d.Prev, d.Next = month.AddDate(0, -1, 0).Format("2006-01"), month.AddDate(0, 1, 0).Format("2006-01")
	exc := map[sla.Date]sla.Exception{}
	for _, e := range def.Exceptions {
		exc[e.Date] = e
		if e.Date.Year == d.Year {
			kind, hours := dayKind(cal, def, e.Date, e)
			d.Exceptions = append(d.Exceptions, exceptionRow{Date: e.Date.String(), Weekday: weekdayKeys[e.Date.Weekday()],
				Kind: kind, Hours: hours, Label: e.Name})
		}
	}
	slices.SortFunc(d.Exceptions, func(a, b exceptionRow) int { return strings.Compare(a.Date, b.Date) })
	d.Weeks = monthGrid(cal, def, exc, month, sla.DateOf(now))
	for _, wd := range weekdays {
		d.Hours = append(d.Hours, hoursRow{Key: weekdayKeys[wd], Value: intervalsText(def.Hours[wd])})
	}
	d.ExcForm.Kind = "off"
	d.Preview = preview(cal, r.URL.Query(), now)
	if edit != nil {
		edit(d)
	}
	p := u.page(r, "calendar.title", d)
	if err != nil && !u.fieldErrors(p, err) {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, status, "calendar", p)
}

// dayKind classifies a date for the legend: holiday (off), makeup (works on
// a regularly closed weekday), part (own hours on a working weekday), work
// or weekend; hours are the day's working hours as text.
func dayKind(cal *sla.Calendar, def sla.Definition, d sla.Date, e sla.Exception) (string, string) {
	hours := cal.HoursOn(d)
	text := intervalsText(hours)
	regular := def.Hours[d.Weekday()]
	switch {
	case e.Date.IsZero():
		if len(regular) == 0 {
			return "weekend", text
		}
		return "work", text
	case e.Off || len(hours) == 0:
		return "holiday", text
	case len(regular) == 0:
		return "makeup", text
	case !slices.Equal(hours, regular):
		return "part", text
	}
	return "work", text
}

// monthGrid lays out month (the first of a month) as weeks from Monday.
func monthGrid(cal *sla.Calendar, def sla.Definition, exc map[sla.Date]sla.Exception, month time.Time, today sla.Date) [][]dayCell {
	first := sla.DateOf(month)
	start := first.AddDays(-((int(first.Weekday()) + 6) % 7))
	var weeks [][]dayCell
	for d := start; ; {
		week := make([]dayCell, 7)
		for i := range week {
			kind, hours := dayKind(cal, def, d, exc[d])
			week[i] = dayCell{Day: d.Day, Date: d.String(), InMonth: d.Month == first.Month, Kind: kind,
				Label: exc[d].Name, Hours: hours, Today: d == today}
			d = d.AddDays(1)
		}
		weeks = append(weeks, week)
		if d.Month != first.Month {
			return weeks
		}
	}
}

// preview answers the deadline preview form (GET from, duration).
func preview(cal *sla.Calendar, q url.Values, now time.Time) previewBox {
	p := previewBox{From: q.Get("from"), Duration: strings.TrimSpace(q.Get("duration"))}
	if p.From == "" {
		p.From = now.Format("2006-01-02T15:04")
	}
	if p.Duration == "" {
		p.Duration = "24h"
	}
	from, err := time.ParseInLocation("2006-01-02T15:04", p.From, cal.Location())
	if err != nil {
		p.Error = "calendar.query.time"
		return p
	}
	d, err := time.ParseDuration(p.Duration)
	if err != nil {
		p.Error = "calendar.query.duration"
		return p
	}
	due, err := cal.Add(from, d)
	if err != nil {
		p.Error = sla.ErrorCode(err)
		return p
	}
	p.FromText = from.Format("2006-01-02 15:04")
	p.Due, p.DueWeekday = due.Format("2006-01-02 15:04"), weekdayKeys[due.Weekday()]
	return p
}

func (u *UI) calendar(w http.ResponseWriter, r *http.Request) {
	u.calendarPage(w, r, http.StatusOK, r.PathValue("name"), nil, nil)
}

// intervalsText writes intervals as the hours field shows them: "09:00-12:00 13:30-18:00".
func intervalsText(ivs []sla.Interval) string {
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		parts[i] = iv.Start.String() + "-" + iv.End.String()
	}
	return strings.Join(parts, " ")
}

var hoursSep = regexp.MustCompile(`[\s,，;；、]+`)

// parseIntervals reads "09:00-12:00 13:30-18:00" (commas also separate; –, ~
// and 至 also join).
func parseIntervals(field, s string) ([]sla.Interval, error) {
	var out []sla.Interval
	for _, tok := range hoursSep.Split(strings.TrimSpace(s), -1) {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("–", "-", "—", "-", "~", "-", "～", "-", "至", "-").Replace(tok)
		a, b, ok := strings.Cut(tok, "-")
		start, err1 := sla.ParseTimeOfDay(a)
		end, err2 := sla.ParseTimeOfDay(b)
		if !ok || err1 != nil || err2 != nil {
			return nil, domain.Invalid(field, "calendar.form.hours", map[string]any{"Value": tok})
		}
		out = append(out, sla.Interval{Start: start, End: end})
	}
	return out, nil
}

// formErrors maps the engine's field paths onto form fields: hours.mon[1]
// → hours.mon, exceptions[3].hours → exc_hours.
func formErrors(err error) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &domain.ValidationError{}
	for _, f := range v.Fields {
		field := f.Field
		if i := strings.IndexByte(field, '['); i > 0 && strings.HasPrefix(field, "hours.") {
			field = field[:i]
		}
		if strings.HasPrefix(field, "exceptions") {
			field = "exc_date"
			if strings.Contains(f.Field, "hours") {
				field = "exc_hours"
			}
		}
		out.Add(field, f.Key, f.Params)
	}
	return out
}

func (u *UI) calendarHours(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	rec, err := u.Calendars.Get(r.Context(), name)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	def := rec.Definition
	def.TimeZone = strings.TrimSpace(r.PostFormValue("time_zone"))
	form := map[string]string{}
	ve := &domain.ValidationError{}
	for _, wd := range weekdays {
		key := weekdayKeys[wd]
		form[key] = r.PostFormValue("hours_" + key)
		ivs, err := parseIntervals("hours."+key, form[key])
		if err != nil {
			ve.Fields = append(ve.Fields, err.(*domain.ValidationError).Fields...)
		}
		def.Hours[wd] = ivs
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err = ve.Err()
	if err == nil {
		_, err = u.Calendars.Update(r.Context(), name, def, version)
	}
	if err != nil {
		u.calendarPage(w, r, http.StatusBadRequest, name, func(d *calendarData) {
			d.TimeZone = def.TimeZone
			for i := range d.Hours {
				d.Hours[i].Value = form[d.Hours[i].Key]
			}
		}, formErrors(err))
		return
	}
	redirect(w, r, "/admin/calendars/"+url.PathEscape(name)+"?done=calendar_saved#hours")
}

func (u *UI) addException(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f := struct{ Date, Kind, Hours, Label string }{strings.TrimSpace(r.PostFormValue("date")), r.PostFormValue("kind"),
		r.PostFormValue("hours"), strings.TrimSpace(r.PostFormValue("label"))}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	month := ""
	err := func() error {
		date, err := sla.ParseDate(f.Date)
		if err != nil {
			return domain.Invalid("exc_date", "calendar.exception.bad_date", nil)
		}
		month = f.Date[:7]
		e := sla.Exception{Date: date, Name: f.Label, Off: f.Kind == "off"}
		if f.Kind == "hours" {
			if e.Hours, err = parseIntervals("exc_hours", f.Hours); err != nil {
				return err
			}
			if len(e.Hours) == 0 {
				return domain.Invalid("exc_hours", "calendar.exception.empty_hours", nil)
			}
		}
		rec, err := u.Calendars.Get(r.Context(), name)
		if err != nil {
			return err
		}
		def := rec.Definition
		def.Exceptions = sla.MergeExceptions(def.Exceptions, []sla.Exception{e})
		_, err = u.Calendars.Update(r.Context(), name, def, version)
		return err
	}()
	if err != nil {
		u.calendarPage(w, r, http.StatusBadRequest, name, func(d *calendarData) { d.ExcForm = f }, formErrors(err))
		return
	}
	redirect(w, r, "/admin/calendars/"+url.PathEscape(name)+"?month="+month+"&done=calendar_saved#exceptions")
}

func (u *UI) removeException(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	date, err := sla.ParseDate(r.PostFormValue("date"))
	if err != nil {
		u.fail(w, r, domain.Invalid("date", "calendar.exception.bad_date", nil))
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	rec, err := u.Calendars.Get(r.Context(), name)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	def := rec.Definition
	def.Exceptions = slices.DeleteFunc(def.Exceptions, func(e sla.Exception) bool { return e.Date == date })
	if _, err := u.Calendars.Update(r.Context(), name, def, version); err != nil {
		u.calendarPage(w, r, http.StatusBadRequest, name, nil, formErrors(err))
		return
	}
	redirect(w, r, "/admin/calendars/"+url.PathEscape(name)+"?month="+date.String()[:7]+"&done=calendar_saved#exceptions")
}

// importHolidays previews an uploaded holiday file (JSON or .ics) and, when
// the preview is confirmed, applies exactly that preview (the version
// travels with it: a calendar changed meanwhile is a stale error).
func (u *UI) importHolidays(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var fileName string
	var data []byte
	if err := r.ParseMultipartForm(256 << 10); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		u.calendarPage(w, r, http.StatusBadRequest, name, nil, domain.Invalid("file", "calendar.import.unreadable", nil))
		return
	}
	confirm := r.PostFormValue("confirm") == "1"
	if confirm {
		var err error
		fileName = r.PostFormValue("file_name")
		if data, err = base64.StdEncoding.DecodeString(r.PostFormValue("content")); err != nil {
			u.calendarPage(w, r, http.StatusBadRequest, name, nil, domain.Invalid("file", "calendar.import.unreadable", nil))
			return
		}
	} else {
		f, h, err := r.FormFile("file")
		if err != nil {
			u.calendarPage(w, r, http.StatusBadRequest, name, nil, domain.Invalid("file", "calendar.import.no_file", nil))
			return
		}
		defer f.Close()
		fileName = h.Filename
		if data, err = io.ReadAll(f); err != nil {
			u.calendarPage(w, r, http.StatusBadRequest, name, nil, domain.Invalid("file", "calendar.import.unreadable", nil))
			return
		}
	}
	ex, err := sla.ParseHolidayFile(fileName, data)
	if err != nil {
		u.calendarPage(w, r, http.StatusBadRequest, name, nil, importFieldError(err))
		return
	}
	if confirm {
		version, _ := strconv.Atoi(r.PostFormValue("version"))
		plan, err := u.Calendars.Import(r.Context(), name, ex, version)
		if err != nil {
			u.calendarPage(w, r, http.StatusBadRequest, name, nil, err)
			return
		}
		month := ""
		if len(ex) > 0 {
			month = "month=" + ex[0].Date.String()[:7] + "&"
		}
		done := "calendar_imported"
		if plan.Diff.Empty() {
			done = "calendar_import_nothing"
		}
		redirect(w, r, "/admin/calendars/"+url.PathEscape(name)+"?"+month+"done="+done)
		return
	}
	plan, err := u.Calendars.PlanImport(r.Context(), name, ex)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.calendarPage(w, r, http.StatusOK, name, func(d *calendarData) {
		d.Import = &importBox{Plan: plan, FileName: fileName, Content: base64.StdEncoding.EncodeToString(data)}
	}, nil)
}

// importFieldError puts a file's problem on the file field, keeping the
// line and the place in the file in its message.
func importFieldError(err error) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	f := v.Fields[0]
	params := map[string]any{"Where": f.Field, "Line": 0}
	for k, x := range f.Params {
		params[k] = x
	}
	return &domain.ValidationError{Fields: []domain.FieldError{{Field: "file", Key: f.Key, Params: params}}}
}

func (u *UI) deleteCalendar(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	err := u.Calendars.Delete(r.Context(), name, version)
	if errors.Is(err, sla.ErrDeleteDefault) {
		u.ErrorPage(w, r, http.StatusConflict, "calendar.delete_default")
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/calendars?done=calendar_deleted")
}
