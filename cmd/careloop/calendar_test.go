package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/testkit/fixtures"
)

func TestCalendarCommands(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		out, _, err := c.run("", "calendar", "list")
		if err != nil || !strings.Contains(out, "default  Asia/Shanghai  2020-2026 (7)") || !strings.Contains(out, "24x7") {
			t.Fatalf("list: %v\n%s", err, out)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			// 元旦 2026 is off on 1–3 January; Sunday the 4th is a make-up working day.
			{[]string{"deadline", "--from", "2025-12-31T17:00:00+08:00", "--duration", "2h"}, "2026-01-04T10:00:00+08:00\n"},
			{[]string{"deadline", "--calendar", "default", "--from", "2026-01-05T06:00:00Z", "--duration", "24h", "--wall-clock"}, "2026-01-08 15:30:00\n"},
			{[]string{"deadline", "--calendar", "24x7", "--from", "2026-01-05T14:00:00+08:00", "--duration", "1h30m"}, "2026-01-05T15:30:00+08:00\n"},
			{[]string{"between", "--from", "2026-01-05T09:00:00+08:00", "--to", "2026-01-05 18:00"}, "7h30m0s\n"},
			{[]string{"between", "--from", "2026-01-05 18:00", "--to", "2026-01-05 09:00"}, "-7h30m0s\n"},
		} {
			out, _, err := c.run("", append([]string{"calendar"}, tc.args...)...)
			if err != nil || out != tc.want {
				t.Errorf("%v: %q %v, want %q", tc.args, out, err, tc.want)
			}
		}
		out, _, err = c.run("", "calendar", "festivals", "--year", "2027")
		var fs []struct{ Key, Date string }
		if err != nil || json.Unmarshal([]byte(out), &fs) != nil || len(fs) < 10 {
			t.Fatalf("festivals: %v %s", err, out)
		}
		found := false
		for _, f := range fs {
			found = found || (f.Key == "spring_festival" && f.Date == "2027-02-06")
		}
		if !found || !strings.Contains(out, `"name_zh": "春节"`) {
			t.Fatalf("festivals lack 春节 2027-02-06: %s", out)
		}
		// Mistakes exit 2 with the field named.
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"deadline", "--calendar", "nope", "--from", "2026-01-05T09:00:00Z", "--duration", "1h"}, `no calendar named “nope”`},
			{[]string{"deadline", "--from", "2026-01-05T09:00:00Z", "--duration", "-1h"}, "--duration"},
			{[]string{"deadline", "--from", "yesterday", "--duration", "1h"}, "--from"},
			{[]string{"deadline", "--from", "1800-01-01T00:00:00Z", "--duration", "1h"}, "--from"},
			{[]string{"festivals", "--year", "2101"}, "--year"},
			{[]string{"import", "--calendar", "default"}, "usage"},
		} {
			_, _, err := c.run("", append([]string{"calendar"}, tc.args...)...)
			if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: %v, want exit 2 naming %s", tc.args, err, tc.want)
			}
		}
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.json")
		os.WriteFile(bad, []byte(`{"name":"x","time_zone":"Mars/Base","hours":{"mon":[["09:00","12:00"],["11:00","13:00"]]},"timezone":"UTC"}`), 0o600)
		_, _, err = c.run("", "calendar", "create", "--file", bad)
		if err == nil || !strings.Contains(err.Error(), "time_zone") || !strings.Contains(err.Error(), "hours.mon[1]") || !strings.Contains(err.Error(), "timezone") {
			t.Fatalf("bad definition: %v", err)
		}
		good := filepath.Join(dir, "eu.json")
		os.WriteFile(good, []byte(`{"name":"eu","time_zone":"Europe/Berlin","hours":{"mon":[["09:00","17:00"]],"fri":[["09:00","17:00"]]}}`), 0o600)
		if out, _, err := c.run("", "calendar", "create", "--file", good); err != nil || !strings.Contains(out, "created calendar eu") {
			t.Fatalf("create: %v %s", err, out)
		}
		fixture := filepath.Join(fixtures.HolidaysCN(t), "2026.json")
		out, _, err = c.run("", "calendar", "import", "--calendar", "eu", "--dry-run", fixture)
		if err != nil || !strings.Contains(out, "would import 39 added, 0 changed") {
			t.Fatalf("dry run: %v %s", err, out)
		}
		malformed := filepath.Join(dir, "m.json")
		os.WriteFile(malformed, []byte("{\"days\": [\n{\"date\": \"2027-13-01\", \"isOffDay\": true}]}"), 0o600)
		_, _, err = c.run("", "calendar", "import", "--calendar", "eu", malformed)
		if err == nil || !strings.Contains(err.Error(), "days[0].date: Line 2") {
			t.Fatalf("malformed import: %v", err)
		}
		if out, _, err := c.run("", "calendar", "import", "--calendar", "eu", fixture); err != nil || !strings.Contains(out, "imported 39 added") {
			t.Fatalf("import: %v %s", err, out)
		}
		if out, _, err := c.run("", "calendar", "import", "--calendar", "eu", filepath.Join("..", "..", "internal", "sla", "testdata", "holidays-2025.ics")); err != nil || !strings.Contains(out, "imported 14 added") {
			t.Fatalf("ics import: %v %s", err, out)
		}
		out, _, _ = c.run("", "calendar", "list")
		if !strings.Contains(out, "eu       Europe/Berlin  2025-2026 (2)  53          3") {
			t.Fatalf("list after imports:\n%s", out)
		}
	})
}
