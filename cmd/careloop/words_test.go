package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/bench"
	"github.com/careloop/careloop/internal/db/dbtest"
)

func TestCLILanguage(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "zh-CN"},
		{map[string]string{"CARELOOP_LANG": "en"}, "en"},
		{map[string]string{"CARELOOP_LANG": "zh-CN", "LANG": "en_US.UTF-8"}, "zh-CN"},
		{map[string]string{"LANG": "en_US.UTF-8"}, "en"},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, "zh-CN"},
		{map[string]string{"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"},
		{map[string]string{"LC_ALL": "C", "LANG": "en_US.UTF-8"}, "en"}, // C names no language
		{map[string]string{"LC_MESSAGES": "en", "LANG": "zh_CN"}, "en"},
		{map[string]string{"CARELOOP_LANG": "fr", "LANG": "POSIX"}, "zh-CN"},
	} {
		if got := cliLanguage(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%v: %s, want %s", c.env, got, c.want)
		}
	}
}

// TestCLIErrorsNameTheRealFlags: a validation error names the flag the user
// typed (--role, not the field "roles"), in the CLI's language.
func TestCLIErrorsNameTheRealFlags(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := newCLI(t, dbtest.Target{})
			c.env["CARELOOP_LANG"] = ""
			if lang == "en" {
				c.env["LANG"] = "en_US.UTF-8"
			}
			e := env{lang: lang}
			_, _, err := c.run("", "user", "add", "--email", "a@example.com", "--name", "A", "--role", "wizard")
			if err == nil || exitCode(err) != 2 || !strings.HasPrefix(err.Error(), "--role: ") || strings.Contains(err.Error(), "--roles") {
				t.Errorf("unknown role: %v", err)
			}
			_, _, err = c.run("short\n", "user", "add", "--email", "a@example.com", "--name", "A", "--role", "agent", "--password-stdin")
			if err == nil || !strings.HasPrefix(err.Error(), "--password-stdin: ") {
				t.Errorf("short password: %v", err)
			}
			_, _, err = c.run("", "user", "add", "--email", "a@example.com", "--name", "A", "--role", "agent", "--team", "无此团队")
			if err == nil || err.Error() != e.T("cli.no_team", "Team", "无此团队") || !strings.HasPrefix(err.Error(), "--team") {
				t.Errorf("unknown team: %v", err)
			}
			_, _, err = c.run("", "user", "passwd")
			if err == nil || err.Error() != e.T("cli.email_required") {
				t.Errorf("passwd without --email: %v", err)
			}
			out, _, err := c.run("", "migrate")
			if err != nil || strings.TrimSpace(out) != e.T("cli.migrated") {
				t.Errorf("migrate: %q %v", out, err)
			}
			_, stderr, err := c.run("", "frobnicate")
			if err == nil || err.Error() != e.T("cli.unknown_command", "Command", "frobnicate") || !strings.Contains(stderr, e.T("cli.usage")) {
				t.Errorf("unknown command: %v", err)
			}
		})
	}
	if (env{lang: "zh-CN"}).T("cli.migrated") == (env{lang: "en"}).T("cli.migrated") {
		t.Fatal("the two languages say the same")
	}
}

// TestCalendarDeadlineWarnsOfMissingHolidays: a span reaching a year without
// statutory holidays is answered with a warning on stderr, as the pages'
// banner warns; a span within loaded years, or a calendar that keeps no
// holidays, is not.
func TestCalendarDeadlineWarnsOfMissingHolidays(t *testing.T) {
	c := newCLI(t, dbtest.Target{})
	for _, tc := range []struct {
		args []string
		warn bool
	}{
		{[]string{"deadline", "--from", "2026-12-31T09:00:00+08:00", "--duration", "16h"}, true},
		{[]string{"deadline", "--from", "2026-03-02T09:00:00+08:00", "--duration", "16h"}, false},
		{[]string{"between", "--from", "2026-12-30 09:00", "--to", "2027-01-04 18:00"}, true},
		{[]string{"deadline", "--calendar", "24x7", "--from", "2026-12-31T09:00:00+08:00", "--duration", "48h"}, false},
	} {
		out, stderr, err := c.run("", append([]string{"calendar"}, tc.args...)...)
		want := (env{lang: "en"}).T("cli.holiday_gap", "Name", "default", "Year", 2027)
		if err != nil || out == "" || strings.Contains(stderr, want) != tc.warn || (!tc.warn && stderr != "") {
			t.Errorf("%v: out %q stderr %q %v, want warning %v", tc.args, out, stderr, err, tc.warn)
		}
	}
}

// TestEveryCLIMessageIsInTheCatalog: no message of cmd/careloop is a string
// literal with words in it; each comes from the catalog (cli.*.toml) in the
// CLI's language. Format strings of plain values ("%d\t%s\n", "--year %d: %s")
// and wrapped internal errors ("demo data: %w") are not messages.
func TestEveryCLIMessageIsInTheCatalog(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	words := regexp.MustCompile(`[A-Za-z\p{Han}]{2,}`)
	// Format verbs, flag names and the program's name are not words to translate.
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]|--[a-z][a-z-]*|\bcareloop\b`)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		check := func(n ast.Node, what string) {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return
			}
			s, _ := strconv.Unquote(lit.Value)
			if strings.Contains(s, "%w") {
				return
			}
			if words.MatchString(verbs.ReplaceAllString(s, "")) {
				t.Errorf("%s: %s with a literal message %q: use the catalog", fset.Position(lit.Pos()), what, s)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CompositeLit:
				if id, ok := x.Type.(*ast.Ident); ok && id.Name == "usageError" {
					for _, el := range x.Elts {
						check(el, "usageError")
						if call, ok := el.(*ast.CallExpr); ok {
							for _, a := range call.Args {
								check(a, "usageError")
							}
						}
					}
				}
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, _ := sel.X.(*ast.Ident)
				if pkg == nil || (pkg.Name != "fmt" && pkg.Name != "errors") {
					return true
				}
				switch sel.Sel.Name {
				case "Fprintf", "Fprintln", "Fprint", "Errorf", "New", "Sprintf":
					for _, a := range x.Args {
						check(a, pkg.Name+"."+sel.Sel.Name)
					}
				}
			}
			return true
		})
	}
}

// TestREADMEListsEveryCommand: the Commands table of the README has a row for
// every command that 'careloop help' lists.
func TestREADMEListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(readme), "## Commands")
	table, _, _ = strings.Cut(table, "\n## ")
	var rows []string
	for _, line := range strings.Split(table, "\n") {
		if strings.HasPrefix(line, "| `careloop ") {
			rows = append(rows, line)
		}
	}
	for _, lang := range []string{"en", "zh-CN"} {
		usage := (env{lang: lang}).T("cli.usage")
		n := 0
		for _, line := range strings.Split(usage, "\n") {
			if !strings.HasPrefix(line, "  ") {
				continue
			}
			fields := strings.Fields(line)
			cmd := fields[0]
			if len(fields) > 1 && (fields[0] == "user" || fields[0] == "token" || fields[0] == "import" || fields[0] == "export") {
				cmd += " " + fields[1]
			}
			n++
			found := false
			for _, row := range rows {
				found = found || strings.Contains(row, "`careloop "+cmd)
			}
			if !found {
				t.Errorf("README's Commands table has no row for careloop %s", cmd)
			}
		}
		if n < 12 {
			t.Errorf("%s usage lists %d commands", lang, n)
		}
	}
}

// TestFlagHelpSpeaksTheCLIsLanguage: `-h` of every command lists its flags
// with help, argument kinds and defaults in the CLI's language; the flag
// package's English ("Usage of", "(default …)", "string") never shows.
func TestFlagHelpSpeaksTheCLIsLanguage(t *testing.T) {
	english := regexp.MustCompile(`Usage of|\(default |\s-\S+ (string|int|duration|value)\b`)
	for _, lang := range []string{"zh-CN", "en"} {
		c := newCLI(t, dbtest.Target{})
		c.env["CARELOOP_LANG"] = lang
		e := env{lang: lang}
		for _, args := range [][]string{{"serve"}, {"migrate"}, {"bench"}, {"user", "add"}, {"token", "create"},
			{"import", "customers"}, {"export", "customers"}, {"calendar", "deadline"}} {
			_, stderr, err := c.run("", append(args, "-h")...)
			if err == nil || exitCode(err) != 2 || !strings.Contains(stderr, "  -") {
				t.Errorf("%s %v -h: %v, stderr %q", lang, args, err, stderr)
				continue
			}
			if lang == "zh-CN" && english.MatchString(stderr) {
				t.Errorf("%v -h speaks English: %q", args, english.FindString(stderr))
			}
		}
		_, stderr, _ := c.run("", "serve", "-h")
		for _, want := range []string{
			e.T("cli.config.addr") + e.T("cli.flag_default", "Value", "127.0.0.1:8080"),
			"-shutdown-grace " + e.T("cli.flag_type.duration"),
			e.T("cli.config.demo") + "\n",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s serve -h lacks %q:\n%s", lang, want, stderr)
			}
		}
		_, _, err := c.run("", "bench", "no-such-scenario")
		for _, s := range bench.Scenarios {
			if err == nil || !strings.Contains(err.Error(), e.T("cli.bench_entry", "Name", s.Name, "Summary", e.T(s.SummaryKey))) || !catalog().Has(s.SummaryKey) {
				t.Errorf("%s: bench list lacks %s's summary: %v", lang, s.Name, err)
			}
		}
	}
}

// TestFlagMistakesSpeakTheCLIsLanguage: the flag package's English errors
// ("flag provided but not defined") never reach the user; each mistake is a
// usage error (status 2) from the catalog, followed by the flags' list.
func TestFlagMistakesSpeakTheCLIsLanguage(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		c := newCLI(t, dbtest.Target{})
		c.env["CARELOOP_LANG"] = lang
		e := env{lang: lang}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"serve", "--bogus"}, e.T("cli.flag_undefined", "Flag", "bogus")},
			{[]string{"serve", "--import-sync-rows", "many"}, e.T("cli.flag_invalid", "Flag", "import-sync-rows", "Value", "many")},
			{[]string{"serve", "--demo=maybe"}, e.T("cli.flag_invalid", "Flag", "demo", "Value", "maybe")},
			{[]string{"user", "add", "--email"}, e.T("cli.flag_no_value", "Flag", "email")},
			{[]string{"bench", "me", "---c", "1"}, e.T("cli.flag_syntax", "Value", "---c")},
		} {
			_, stderr, err := c.run("", tc.args...)
			if err == nil || err.Error() != tc.want || exitCode(err) != 2 {
				t.Errorf("%s %v: %v, want %q", lang, tc.args, err, tc.want)
			}
			if strings.Contains(stderr, "flag provided") || strings.Contains(stderr, "invalid value") || !strings.Contains(stderr, e.T("cli.flags_of", "Command", "careloop "+tc.args[0])[:6]) {
				t.Errorf("%s %v: stderr %q", lang, tc.args, stderr)
			}
		}
	}
}
