package config

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestHelpAndProblemsSpeakTheReadersLanguage: every shared flag's help and
// every validation problem comes from the catalog in the translator's
// language; the zh-CN rendering holds none of the English sentence.
func TestHelpAndProblemsSpeakTheReadersLanguage(t *testing.T) {
	bad := map[string]string{"CARELOOP_SHUTDOWN_GRACE": "soon", "CARELOOP_IMPORT_SYNC_ROWS": "5k", "CARELOOP_DB_FILE": "/nonexistent/dsn"}
	for _, lang := range []string{"zh-CN", "en"} {
		var c Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		Bind(fs, func(string) string { return "" }, &c, true, in(lang))
		n := 0
		fs.VisitAll(func(f *flag.Flag) {
			n++
			key := "cli.config." + strings.ReplaceAll(f.Name, "-", "_")
			if !cat.Has(key) || f.Usage != cat.T(lang, key, nil) {
				t.Errorf("%s: --%s help %q is not the catalog's %s", lang, f.Name, f.Usage, key)
			}
		})
		if n < 11 {
			t.Errorf("%s: only %d flags", lang, n)
		}
		_, early := parseIn(t, lang, bad)
		_, late := parseIn(t, lang, nil, "--addr", "nonsense", "--db", "mysql://x", "--log-level", "loud",
			"--log-format", "xml", "--import-sync-rows", "0", "--base-url", "care.example.com")
		_, noData := parseIn(t, lang, nil, "--data", "")
		for _, err := range []error{early, late, noData} {
			var ce *Error
			if err == nil || !asError(err, &ce) {
				t.Fatalf("%s: error %v is not a config *Error", lang, err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(ce.Problems) {
				t.Errorf("%s: %d lines for %d problems", lang, len(lines), len(ce.Problems))
			}
			for i, p := range ce.Problems {
				want := p.Setting + ": " + cat.T(lang, p.Key, p.Params)
				if !cat.Has(p.Key) || lines[i] != want {
					t.Errorf("%s: line %q, want %q", lang, lines[i], want)
				}
				if lang == "zh-CN" && regexp.MustCompile(`\bwant\b|\bneeded\b|\bcannot\b|not a duration`).MatchString(lines[i]) {
					t.Errorf("zh-CN problem in English: %q", lines[i])
				}
			}
		}
		if n := len(late.(*Error).Problems); n != 6 {
			t.Errorf("%s: %d problems for 6 bad flags: %v", lang, n, late)
		}
	}
	// Without a translator (the test kit's Validate) the default language.
	err := (&Config{LogLevel: "loud", LogFormat: "text", DataDir: "x", ImportSyncRows: 1}).Validate()
	if err == nil || err.Error() != "--log-level: "+cat.T("zh-CN", "cli.config.bad_log_level", map[string]any{"Value": "loud"}) {
		t.Errorf("default language: %v", err)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

// TestNoEnglishLiteralsInConfig: config's flag help and problems are catalog
// keys; a string literal with words passed to a flag definition, fmt or
// errors would be a sentence that the catalog does not translate.
func TestNoEnglishLiteralsInConfig(t *testing.T) {
	words := regexp.MustCompile(`[A-Za-z\p{Han}]{3,}`)
	fset := token.NewFileSet()
	for _, name := range []string{"config.go"} {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch sel.Sel.Name {
			case "StringVar", "BoolVar", "IntVar", "DurationVar", "Func", "Errorf", "New":
			default:
				return true
			}
			// The flag's name (second argument of *Var, first of Func) is
			// not a sentence.
			for i, a := range call.Args {
				lit, ok := a.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || (sel.Sel.Name != "Func" && sel.Sel.Name != "Errorf" && sel.Sel.Name != "New" && i == 1) || (sel.Sel.Name == "Func" && i == 0) {
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				if words.MatchString(s) {
					t.Errorf("%s: %s with the literal %q: use a cli.config.* key", fset.Position(lit.Pos()), sel.Sel.Name, s)
				}
			}
			return true
		})
	}
}
