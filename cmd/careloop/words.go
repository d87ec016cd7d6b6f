package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
)

// catalog is loaded once per process: every command speaks through it.
var catalog = sync.OnceValue(i18n.MustLoad)

// cliLanguage is the language of the CLI's words: CARELOOP_LANG, then the
// POSIX locale variables in their order of precedence (LC_ALL, LC_MESSAGES,
// LANG; "en_US.UTF-8" is English, "zh_CN.UTF-8" Chinese), else zh-CN. A
// variable naming no language Careloop speaks ("C", "POSIX", "fr_FR") is
// passed over, as a shell in the C locale says nothing about the reader.
func cliLanguage(getenv func(string) string) string {
	for _, name := range []string{"CARELOOP_LANG", "LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := localeLanguage(getenv(name)); l != "" {
			return l
		}
	}
	return i18n.Default
}

// localeLanguage maps a locale name ("en_US.UTF-8", "zh-CN", "en") to a
// catalog language, "" when it names none.
func localeLanguage(s string) string {
	s, _, _ = strings.Cut(s, ".")
	s, _, _ = strings.Cut(s, "@")
	s = strings.ReplaceAll(s, "_", "-")
	if l := i18n.Normalize(s); l != "" {
		return l
	}
	switch lang, _, _ := strings.Cut(strings.ToLower(s), "-"); lang {
	case "zh":
		return i18n.Default
	case "en":
		return i18n.English
	}
	return ""
}

// T is the catalog message key in the CLI's language; kv are the template
// parameters as name, value pairs.
func (e env) T(key string, kv ...any) string {
	var params map[string]any
	if len(kv) > 0 {
		params = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			params[kv[i].(string)] = kv[i+1]
		}
	}
	return catalog().T(e.lang, key, params)
}

// usage is a usage error with the message key.
func (e env) usage(key string, kv ...any) error {
	return usageError{e.T(key, kv...)}
}

// explain turns a validation error into one line naming, for each problem,
// the flag the user typed: flagOf maps a field to its flag where the two
// differ (the field "roles" is the flag --role, "password" is
// --password-stdin); other fields are their flag with "_" as "-".
func (e env) explain(err error, flagOf map[string]string) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	var b strings.Builder
	for i, f := range v.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		name, ok := flagOf[f.Field]
		if !ok {
			name = strings.ReplaceAll(f.Field, "_", "-")
		}
		b.WriteString("--" + name + ": " + catalog().T(e.lang, f.Key, f.Params))
	}
	return usageError{b.String()}
}

// flagUsage replaces the flag package's English "Usage of …" header.
func (e env) flagUsage(fs *flag.FlagSet, command string) func() {
	return func() {
		fmt.Fprintln(fs.Output(), e.T("cli.flags_of", "Command", "careloop "+command))
		e.printFlags(fs.Output(), fs)
	}
}

// printFlags lays the flags out as flag.PrintDefaults does, but with the
// argument's kind and the "(default …)" suffix from the catalog, which
// PrintDefaults writes in English whatever the reader's language.
func (e env) printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		var b strings.Builder
		b.WriteString("  -" + f.Name)
		kind, help := flag.UnquoteUsage(f)
		if kind != "" {
			// A name given in backquotes in the help is the help's own word.
			if key := "cli.flag_type." + kind; catalog().Has(key) {
				kind = e.T(key)
			}
			b.WriteString(" " + kind)
		}
		b.WriteString("\n    \t" + strings.ReplaceAll(help, "\n", "\n    \t"))
		if !zeroDefault(f) {
			b.WriteString(e.T("cli.flag_default", "Value", f.DefValue)) // its own space, or none before （
		}
		fmt.Fprintln(w, b.String())
	})
}

// zeroDefault tells whether a flag's default is its type's zero value, which
// PrintDefaults also leaves unsaid. Func flags have an empty DefValue.
func zeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "0", "false", "0s", "[]":
		return true
	}
	return false
}

// The flag package's own errors, which it writes in English.
var (
	flagUndefined = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	flagInvalid   = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:]+): `)
	flagNoValue   = regexp.MustCompile(`^flag needs an argument: -+(.+)$`)
	flagSyntax    = regexp.MustCompile(`^bad flag syntax: (.*)$`)
)

// parseFlags parses args as fs.Parse does, but answers a mistake in the
// CLI's language: the flag package writes "flag provided but not defined"
// to its output before calling Usage, so that output is silenced during
// the parse and the usage is printed after the translated error is known.
func (e env) parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if err == nil {
		return nil
	}
	fs.Usage()
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return usageError{e.flagError(err.Error())}
}

// flagError is the catalog's sentence for one of the flag package's errors;
// one it does not know of is passed on as it is.
func (e env) flagError(msg string) string {
	if m := flagUndefined.FindStringSubmatch(msg); m != nil {
		return e.T("cli.flag_undefined", "Flag", m[1])
	}
	if m := flagInvalid.FindStringSubmatch(msg); m != nil {
		return e.T("cli.flag_invalid", "Flag", m[2], "Value", m[1])
	}
	if m := flagNoValue.FindStringSubmatch(msg); m != nil {
		return e.T("cli.flag_no_value", "Flag", m[1])
	}
	if m := flagSyntax.FindStringSubmatch(msg); m != nil {
		return e.T("cli.flag_syntax", "Value", m[1])
	}
	return msg
}
