package web_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/fixtures"
)

const euCalendar = `{"name": "eu-support", "time_zone": "Europe/Berlin",
 "hours": {"mon": [["09:00","12:00"],["13:30","18:00"]], "tue": [["09:00","17:00"]]},
 "exceptions": [{"date": "2026-01-04", "hours": [["10:00","12:00"]]}, {"date": "2026-01-05", "off": true}, {"date": "2026-01-10"}]}`

func TestCalendarAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		// Everyone signed in reads; only calendars.manage writes.
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/calendars?limit=1", Token: agent})
		var page struct {
			Items []struct {
				Name         string `json:"name"`
				HolidayYears []int  `json:"holiday_years"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		if r.Status != 200 || len(page.Items) != 1 || page.Items[0].Name != "default" || page.NextCursor == "" {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/calendars", Token: agent, Body: euCalendar}); r.Status != 403 {
			t.Fatalf("agent create: %d", r.Status)
		}
		r = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/calendars", Token: admin, Body: euCalendar})
		if r.Status != 201 || r.Header.Get("ETag") != `"v1"` || r.Header.Get("Location") != "/api/v1/calendars/eu-support" {
			t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
		}
		if !strings.Contains(string(r.Body), `{"date":"2026-01-10"}`) {
			t.Fatalf("make-up day not kept as such: %s", r.Body)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/calendars/eu-support", Token: agent})
		body := r.Body
		if r.Status != 200 || r.Header.Get("ETag") != `"v1"` {
			t.Fatalf("get: %d %s", r.Status, r.Body)
		}
		// PUT with a stale ETag is 412; with the right one it saves.
		changed := bytes.Replace(body, []byte(`"tue":[["09:00","17:00"]]`), []byte(`"tue":[["08:00","17:00"]]`), 1)
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/calendars/eu-support", Token: admin, Body: changed, Header: map[string]string{"If-Match": `"v7"`}}); r.Status != 412 {
			t.Fatalf("stale put: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/calendars/eu-support", Token: admin, Body: changed, Header: map[string]string{"If-Match": `"v1"`}}); r.Status != 200 || r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		// Deadline arithmetic.
		for _, c := range []struct{ cal, query, want string }{
			{"default", "from=2025-12-31T17:00:00%2B08:00&duration=2h", `"2026-01-04T10:00:00+08:00"`},
			{"default", "from=2026-01-05T06:00:00Z&duration=24h", `"2026-01-08T15:30:00+08:00"`},
			{"default", "from=2026-01-05T09:00:00%2B08:00&duration=90m", `"2026-01-05T10:30:00+08:00"`},
			{"24x7", "from=2026-01-05T09:00:00%2B08:00&duration=1h30m", `"2026-01-05T10:30:00+08:00"`},
			// Sunday 4 January has its own hours 10–12 in Berlin; Monday the 5th is off.
			{"eu-support", "from=2026-01-04T00:00:00%2B01:00&duration=3h", `"2026-01-06T09:00:00+01:00"`},
		} {
			r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/calendars/" + c.cal + "/deadline?" + c.query, Token: agent})
			if r.Status != 200 || !strings.Contains(string(r.Body), `"deadline":`+c.want) {
				t.Errorf("%s deadline %s: %d %s, want %s", c.cal, c.query, r.Status, r.Body, c.want)
			}
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/calendars/default/business-time?from=2026-01-05T09:00:00%2B08:00&to=2026-01-05T18:00:00%2B08:00", Token: agent})
		if r.Status != 200 || !strings.Contains(string(r.Body), `"seconds":27000`) {
			t.Fatalf("business-time: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/festivals?year=2027", Token: agent})
		if r.Status != 200 || !strings.Contains(string(r.Body), `{"key":"spring_festival","name_zh":"春节","name_en":"Spring Festival","date":"2027-02-06"}`) {
			t.Fatalf("festivals: %d %s", r.Status, r.Body)
		}
		// Bad queries are 4xx naming the field, never 5xx.
		for _, c := range []struct {
			path   string
			status int
			field  string
		}{
			{"/api/v1/calendars/default/deadline?from=2026-01-05T09:00:00Z&duration=-1h", 400, "duration"},
			{"/api/v1/calendars/default/deadline?from=2026-01-05T09:00:00Z&duration=soon", 400, "duration"},
			{"/api/v1/calendars/default/deadline?from=2026-01-05T09:00:00Z", 400, "duration"},
			{"/api/v1/calendars/default/deadline?from=monday&duration=1h", 400, "from"},
			{"/api/v1/calendars/default/deadline?from=1800-01-01T00:00:00Z&duration=1h", 400, "from"},
			{"/api/v1/calendars/default/deadline?from=2026-01-05T09:00:00Z&duration=2000000h", 400, "from"},
			{"/api/v1/calendars/nope/deadline?from=2026-01-05T09:00:00Z&duration=1h", 404, ""},
			{"/api/v1/calendars/default/business-time?from=2026-01-05T09:00:00Z", 400, "to"},
			{"/api/v1/calendars/default/business-time?from=2026-01-05T09:00:00Z&to=2300-01-01T00:00:00Z", 400, "to"},
			{"/api/v1/festivals?year=1899", 400, "year"},
			{"/api/v1/festivals?year=twenty", 400, "year"},
			// Every bad parameter is named in one answer.
			{"/api/v1/calendars/default/deadline?from=monday&duration=soon", 400, "from duration"},
			{"/api/v1/calendars/default/business-time?from=monday", 400, "from to"},
		} {
			r := k.Do(testkit.Request{Method: "GET", Path: c.path, Token: agent})
			if r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.path, r.Status, r.Body, c.status)
				continue
			}
			p := r.Problem(t)
			var fields []string
			for _, e := range p.Errors {
				if e.Message != "" {
					fields = append(fields, e.Field)
				}
			}
			if c.field != "" && strings.Join(fields, " ") != c.field {
				t.Errorf("%s: errors %+v, want fields %s", c.path, p.Errors, c.field)
			}
		}
		// A calendar whose only working day is in the past has no deadline: 4xx.
		past := `{"name": "past", "hours": {}, "exceptions": [{"date": "2020-01-06", "hours": [["09:00","10:00"]]}]}`
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/calendars", Token: admin, Body: past}); r.Status != 201 {
			t.Fatalf("past calendar: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/calendars/past/deadline?from=2026-01-05T09:00:00Z&duration=1h", Token: agent})
		if r.Status != 400 || r.Problem(t).Errors[0].Field != "calendar" {
			t.Fatalf("no working time: %d %s", r.Status, r.Body)
		}
		// Deleting: default refused with a clear message; others go.
		r = k.Do(testkit.Request{Method: "DELETE", Path: "/api/v1/calendars/default", Token: admin})
		if r.Status != 409 || !strings.Contains(r.Problem(t).Detail, "默认日历") {
			t.Fatalf("delete default: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "DELETE", Path: "/api/v1/calendars/past", Token: admin}); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/calendars/past/deadline?duration=1h", Token: agent}); r.Status != 404 {
			t.Fatalf("deleted calendar still answers: %d", r.Status)
		}
		// Audit trail in the same transaction.
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?entity=calendar", Token: admin})
		for _, want := range []string{"calendar.create", "calendar.update", "calendar.delete"} {
			if !strings.Contains(string(r.Body), want) {
				t.Errorf("audit lacks %s: %s", want, truncate(r.Body))
			}
		}
	})
}

func TestCalendarAPIImportAndBadInput(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		huge := bytes.Repeat([]byte("a"), 10<<20)
		before := k.Snapshot()
		for _, c := range []struct {
			name, method, path, ctype string
			body                      any
			status                    int
			field                     string
		}{
			{"malformed JSON", "POST", "/api/v1/calendars", "application/json", `{"name": "x",`, 400, ""},
			{"unknown field", "POST", "/api/v1/calendars", "application/json", `{"name": "x", "timezone": "UTC", "hours": {"mon": [["09:00","17:00"]]}}`, 400, "timezone"},
			{"bad zone", "POST", "/api/v1/calendars", "application/json", `{"name": "x", "time_zone": "Mars/Olympus", "hours": {"mon": [["09:00","17:00"]]}}`, 400, "time_zone"},
			{"overlap", "POST", "/api/v1/calendars", "application/json", `{"name": "x", "hours": {"mon": [["09:00","12:00"],["11:00","17:00"]]}}`, 400, "hours.mon[1]"},
			{"bad name", "POST", "/api/v1/calendars", "application/json", `{"name": "a b/c", "hours": {"mon": [["09:00","17:00"]]}}`, 400, "name"},
			{"no working time", "POST", "/api/v1/calendars", "application/json", `{"name": "x", "hours": {}}`, 400, "hours"},
			{"10 MB body", "POST", "/api/v1/calendars", "application/json", append(append([]byte(`{"name":"`), huge...), '"', '}'), 413, ""},
			{"wrong content type", "POST", "/api/v1/calendars", "text/plain", `{}`, 415, ""},
			{"rename", "PUT", "/api/v1/calendars/24x7", "application/json", `{"name": "other", "hours": {"mon": [["09:00","17:00"]]}}`, 400, "name"},
			{"put unknown", "PUT", "/api/v1/calendars/nope", "application/json", `{"name": "nope", "hours": {"mon": [["09:00","17:00"]]}}`, 404, ""},
			{"malformed holidays", "POST", "/api/v1/calendars/default/import", "application/json", "{\"days\": [\n{\"date\": \"2027-02-30\", \"isOffDay\": true}]}", 400, "days[0].date"},
			{"timed ics", "POST", "/api/v1/calendars/default/import", "text/calendar", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20270206T090000\nEND:VEVENT\nEND:VCALENDAR\n", 400, "DTSTART"},
			{"import type", "POST", "/api/v1/calendars/default/import", "text/plain", "x", 415, ""},
			{"import huge", "POST", "/api/v1/calendars/default/import", "application/json", huge, 413, ""},
		} {
			r := k.Do(testkit.Request{Method: c.method, Path: c.path, Token: admin, Body: c.body, Header: map[string]string{"Content-Type": c.ctype}})
			if r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, truncate(r.Body), c.status)
				continue
			}
			p := r.Problem(t)
			if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field || p.Errors[0].Message == "") {
				t.Errorf("%s: errors %+v, want field %s", c.name, p.Errors, c.field)
			}
		}
		if after := k.Snapshot(); after != before {
			t.Fatalf("bad input changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		// A holiday file: preview (dry run) changes nothing, then import.
		data, err := os.ReadFile(filepath.Join(fixtures.HolidaysCN(t), "2026.json"))
		if err != nil {
			t.Fatal(err)
		}
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/calendars/24x7/import?dry_run=true", Token: admin, Body: data})
		if r.Status != 200 || !strings.Contains(string(r.Body), `"applied":false`) || k.Snapshot() != before {
			t.Fatalf("dry run: %d %s", r.Status, truncate(r.Body))
		}
		r = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/calendars/24x7/import", Token: admin, Body: data, Header: map[string]string{"If-Match": `"v1"`}})
		if r.Status != 200 || !strings.Contains(string(r.Body), `"applied":true`) || r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("import: %d %s", r.Status, truncate(r.Body))
		}
		ics, _ := os.ReadFile(filepath.Join("..", "sla", "testdata", "holidays-2025.ics"))
		r = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/calendars/24x7/import", Token: admin, Body: ics, Header: map[string]string{"Content-Type": "text/calendar"}})
		if r.Status != 200 || !strings.Contains(string(r.Body), `"applied":true`) {
			t.Fatalf("ics import: %d %s", r.Status, truncate(r.Body))
		}
	})
}

// TestHolidayWarningForCalendarManagers: from 1 November, until the next
// year's holidays are loaded, calendar managers see a warning on every page.
func TestHolidayWarningForCalendarManagers(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		k.User("agent@example.com", "agent")
		admin := k.Login("admin@example.com", testkit.Password)
		page := func(c *http.Client, path string) string {
			r := k.DoWith(c, testkit.Request{Method: "GET", Path: path})
			return string(r.Body)
		}
		if strings.Contains(page(admin, "/"), "holiday-warning") {
			t.Fatal("warning in March")
		}
		k.Clock.Set(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC))
		// Sessions expired over the months: sign in again.
		admin = k.Login("admin@example.com", testkit.Password)
		agent := k.Login("agent@example.com", testkit.Password)
		for _, p := range []string{"/", "/admin/users", "/account"} {
			if body := page(admin, p); !strings.Contains(body, "holiday-warning") || !strings.Contains(body, "2027") {
				t.Errorf("%s: no 2027 warning for the admin", p)
			}
		}
		if strings.Contains(page(agent, "/"), "holiday-warning") {
			t.Error("the agent sees the warning")
		}
		r := k.DoWith(admin, testkit.Request{Method: "GET", Path: "/admin/calendars/default?month=2026-10"})
		if r.Status != 200 || !strings.Contains(string(r.Body), `data-date="2026-10-01"`) {
			t.Fatalf("calendar page: %d", r.Status)
		}
	})
}
