package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/web/httpx"
)

// CalendarDoc documents the calendar definition JSON (the handlers read and
// write it with sla.ParseDefinition and sla.EncodeDefinition). Hours map
// mon…sun to lists of ["HH:MM","HH:MM"] intervals; an exception is
// {"date","off":true} (holiday), {"date","hours"} (own hours) or {"date"}
// alone (make-up working day with the regular working-day hours).
type CalendarDoc struct {
	Name       string                `json:"name"`
	TimeZone   string                `json:"time_zone"`
	Hours      map[string][][]string `json:"hours"`
	Exceptions []ExceptionDoc        `json:"exceptions"`
}

// ExceptionDoc is one dated exception of a CalendarDoc.
type ExceptionDoc struct {
	Date  string     `json:"date"`
	Off   bool       `json:"off,omitempty"`
	Hours [][]string `json:"hours,omitempty"`
}

// DeadlineAnswer answers GET /api/v1/calendars/{name}/deadline.
type DeadlineAnswer struct {
	Deadline time.Time `json:"deadline"`
}

// BusinessTimeAnswer answers GET /api/v1/calendars/{name}/business-time.
type BusinessTimeAnswer struct {
	Seconds  float64 `json:"seconds"`
	Duration string  `json:"duration"`
}

// ImportAnswer answers POST /api/v1/calendars/{name}/import.
type ImportAnswer struct {
	Applied bool              `json:"applied"`
	Version int               `json:"version"`
	Diff    sla.ExceptionDiff `json:"diff"`
}

func (a *API) calendarRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/calendars", Perm: identity.Authenticated, Handler: a.listCalendars,
			Summary: "Business calendars", Response: httpx.Page[sla.Summary]{}, Query: []string{"limit", "cursor"}},
		{Method: "POST", Path: "/api/v1/calendars", Perm: identity.CalendarsManage, Handler: a.createCalendar, Idempotent: true,
			Summary: "Create a business calendar from its definition", Request: CalendarDoc{}, Response: CalendarDoc{}},
		{Method: "GET", Path: "/api/v1/calendars/{name}", Perm: identity.Authenticated, Handler: a.getCalendar,
			Summary: "A business calendar's definition (ETag: its version)", Response: CalendarDoc{}},
		{Method: "PUT", Path: "/api/v1/calendars/{name}", Perm: identity.CalendarsManage, Handler: a.putCalendar,
			Summary: "Replace a calendar's definition (If-Match: a stale ETag gets 412); the name cannot change", Request: CalendarDoc{}, Response: CalendarDoc{}},
		{Method: "DELETE", Path: "/api/v1/calendars/{name}", Perm: identity.CalendarsManage, Handler: a.deleteCalendar,
			Summary: "Delete a calendar (the default calendar cannot be deleted: 409)"},
		{Method: "POST", Path: "/api/v1/calendars/{name}/import", Perm: identity.CalendarsManage, Handler: a.importCalendar,
			Summary:  "Import holidays: a holiday JSON file (application/json) or iCalendar (text/calendar); dry_run=true only previews",
			Response: ImportAnswer{}, Query: []string{"dry_run"}},
		{Method: "GET", Path: "/api/v1/calendars/{name}/deadline", Perm: identity.Authenticated, Handler: a.deadline,
			Summary:  "The instant at which a business duration has elapsed after from (default now), in the calendar's zone",
			Response: DeadlineAnswer{}, Query: []string{"from", "duration"}},
		{Method: "GET", Path: "/api/v1/calendars/{name}/business-time", Perm: identity.Authenticated, Handler: a.businessTime,
			Summary:  "The business time between from and to (negative when to is before from)",
			Response: BusinessTimeAnswer{}, Query: []string{"from", "to"}},
		{Method: "GET", Path: "/api/v1/festivals", Perm: identity.Authenticated, Handler: a.festivals,
			Summary: "Festival dates of a year (1900–2100, default this year), lunar ones computed", Response: []sla.Festival{}, Query: []string{"year"}},
	}
}

func (a *API) listCalendars(w http.ResponseWriter, r *http.Request) {
	list, err := a.Calendars.List(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page, err := httpx.PageOf(r, list)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, page)
}

// writeCalendar answers a calendar's definition with its ETag.
func (a *API) writeCalendar(w http.ResponseWriter, status int, rec sla.Record) {
	w.Header().Set("ETag", httpx.ETag(rec.Version))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(sla.EncodeDefinition(rec.Definition))
	_, _ = w.Write([]byte("\n"))
}

// decodeDefinition reads a definition body: the strict decoder's checks
// (JSON content type, size, UTF-8, one value), then the engine's parser,
// which refuses unknown fields and reports every problem at once.
func (a *API) decodeDefinition(w http.ResponseWriter, r *http.Request) (sla.Definition, bool) {
	var raw json.RawMessage
	if a.DecodeFailed(w, r, httpx.Decode(r, &raw)) {
		return sla.Definition{}, false
	}
	def, err := sla.ParseDefinition(raw)
	if err != nil {
		a.Error(w, r, sla.AsDomainError(err))
		return sla.Definition{}, false
	}
	return def, true
}

func (a *API) createCalendar(w http.ResponseWriter, r *http.Request) {
	def, ok := a.decodeDefinition(w, r)
	if !ok {
		return
	}
	rec, err := a.Calendars.Create(r.Context(), def)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/calendars/"+url.PathEscape(rec.Definition.Name))
	a.writeCalendar(w, http.StatusCreated, rec)
}

func (a *API) getCalendar(w http.ResponseWriter, r *http.Request) {
	rec, err := a.Calendars.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeCalendar(w, http.StatusOK, rec)
}

func (a *API) putCalendar(w http.ResponseWriter, r *http.Request) {
	def, ok := a.decodeDefinition(w, r)
	if !ok {
		return
	}
	rec, err := a.Calendars.Update(r.Context(), r.PathValue("name"), def, httpx.IfMatch(r))
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.writeCalendar(w, http.StatusOK, rec)
}

func (a *API) deleteCalendar(w http.ResponseWriter, r *http.Request) {
	err := a.Calendars.Delete(r.Context(), r.PathValue("name"), httpx.IfMatch(r))
	if errors.Is(err, sla.ErrDeleteDefault) {
		a.Problem(w, r, http.StatusConflict, "calendar.delete_default", nil, nil)
		return
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) importCalendar(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	fileName := ""
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		fileName = "holidays.json"
	case mt == "text/calendar":
		fileName = "holidays.ics"
	default:
		a.Problem(w, r, http.StatusUnsupportedMediaType, "calendar.import.content_type", nil, nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpx.MaxJSONBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		a.Problem(w, r, http.StatusRequestEntityTooLarge, "error.too_large", map[string]any{"Max": "1 MB"}, nil)
		return
	}
	if err != nil {
		a.Problem(w, r, http.StatusBadRequest, "error.body_unreadable", nil, nil)
		return
	}
	ex, err := sla.ParseHolidayFile(fileName, body)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	dry := r.URL.Query().Get("dry_run")
	if dry != "" && dry != "true" && dry != "false" {
		a.Error(w, r, domain.Invalid("dry_run", "calendar.query.bool", nil))
		return
	}
	var plan sla.ImportPlan
	if dry == "true" {
		plan, err = a.Calendars.PlanImport(r.Context(), r.PathValue("name"), ex)
	} else {
		plan, err = a.Calendars.Import(r.Context(), r.PathValue("name"), ex, httpx.IfMatch(r))
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("ETag", httpx.ETag(plan.Version))
	a.JSON(w, http.StatusOK, ImportAnswer{Applied: dry != "true" && !plan.Diff.Empty(), Version: plan.Version, Diff: plan.Diff})
}

// calendarArith finds the calendar of an arithmetic request; it answers the
// error itself.
func (a *API) calendarArith(w http.ResponseWriter, r *http.Request) (*sla.Calendar, bool) {
	cal, err := a.Calendars.Calendar(r.Context(), r.PathValue("name"))
	if err != nil {
		a.Error(w, r, err)
		return nil, false
	}
	return cal, true
}

func inRange(t time.Time) bool { return !t.Before(sla.MinTime) && t.Before(sla.MaxTime) }

// parseInstant reads an RFC 3339 time from the query parameter field.
func parseInstant(r *http.Request, field string) (time.Time, error) {
	s := r.URL.Query().Get(field)
	if s == "" {
		return time.Time{}, domain.Invalid(field, "validation.required", nil)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, domain.Invalid(field, "calendar.query.time", nil)
	}
	return t, nil
}

// arithError maps the engine's errors to a problem naming the field.
func arithError(err error, field string) error {
	switch {
	case errors.Is(err, sla.ErrNegativeDuration):
		return domain.Invalid("duration", sla.ErrorCode(err), nil)
	case errors.Is(err, sla.ErrOutOfRange):
		return domain.Invalid(field, sla.ErrorCode(err), nil)
	case errors.Is(err, sla.ErrNoWorkingTime):
		return domain.Invalid("calendar", sla.ErrorCode(err), nil)
	}
	return err
}

func (a *API) deadline(w http.ResponseWriter, r *http.Request) {
	cal, ok := a.calendarArith(w, r)
	if !ok {
		return
	}
	// Both parameters are checked before answering, so that one 400 names
	// each bad one, as a JSON body's problems do.
	var bad domain.ValidationError
	from := a.Clock.Now()
	if r.URL.Query().Get("from") != "" {
		from = collectInstant(r, "from", &bad)
	}
	d, err := ParseBusinessDuration(r.URL.Query().Get("duration"))
	collect(err, &bad)
	if err := bad.Err(); err != nil {
		a.Error(w, r, err)
		return
	}
	due, err := cal.Add(from, d)
	if err != nil {
		a.Error(w, r, arithError(err, "from"))
		return
	}
	a.JSON(w, http.StatusOK, DeadlineAnswer{Deadline: due})
}

// collectInstant is parseInstant adding its problem to bad.
func collectInstant(r *http.Request, field string, bad *domain.ValidationError) time.Time {
	t, err := parseInstant(r, field)
	collect(err, bad)
	return t
}

// collect adds a validation error's fields to bad.
func collect(err error, bad *domain.ValidationError) {
	var v *domain.ValidationError
	if errors.As(err, &v) {
		bad.Fields = append(bad.Fields, v.Fields...)
	}
}

// ParseBusinessDuration reads a duration such as 90m, 24h or 1h30m (Go
// syntax); it must be given and not negative.
func ParseBusinessDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, domain.Invalid("duration", "validation.required", nil)
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, domain.Invalid("duration", "calendar.query.duration", nil)
	}
	if d < 0 {
		return 0, domain.Invalid("duration", "sla.negative_duration", nil)
	}
	return d, nil
}

func (a *API) businessTime(w http.ResponseWriter, r *http.Request) {
	cal, ok := a.calendarArith(w, r)
	if !ok {
		return
	}
	var bad domain.ValidationError
	from := collectInstant(r, "from", &bad)
	to := collectInstant(r, "to", &bad)
	if err := bad.Err(); err != nil {
		a.Error(w, r, err)
		return
	}
	d, err := cal.Between(from, to)
	if err != nil {
		field := "from"
		if inRange(from) && !inRange(to) {
			field = "to"
		}
		a.Error(w, r, arithError(err, field))
		return
	}
	a.JSON(w, http.StatusOK, BusinessTimeAnswer{Seconds: d.Seconds(), Duration: d.String()})
}

func (a *API) festivals(w http.ResponseWriter, r *http.Request) {
	year := a.Clock.Now().In(sla.Default().Location()).Year()
	if s := r.URL.Query().Get("year"); s != "" {
		y, err := strconv.Atoi(s)
		if err != nil {
			a.Error(w, r, domain.Invalid("year", "calendar.query.year", map[string]any{"Min": sla.MinFestivalYear, "Max": sla.MaxFestivalYear}))
			return
		}
		year = y
	}
	fs, err := sla.Festivals(year)
	if errors.Is(err, sla.ErrYearOutOfRange) {
		a.Error(w, r, domain.Invalid("year", "calendar.query.year", map[string]any{"Min": sla.MinFestivalYear, "Max": sla.MaxFestivalYear}))
		return
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, fs)
}
