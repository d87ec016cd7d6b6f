// Package config turns command-line flags and environment variables into a
// typed Config. Every flag has an environment variable (CARELOOP_<NAME>) and a
// *_FILE variant that reads the value from a file, for secrets. Flags win over
// the environment; there is no global configuration object.
//
// Config speaks no language of its own: flag help and validation problems
// are catalog keys (cli.config.* in cli.*.toml), rendered by the Translator
// the command hands to Bind, so that `careloop serve -h` and its errors read
// in the CLI's language.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/i18n"
)

// Config is the typed configuration shared by every subcommand.
type Config struct {
	Addr    string // listen address of `serve`
	DataDir string // where SQLite, backups and uploads live
	DB      string // postgres://… selects PostgreSQL; empty means SQLite in DataDir
	Demo    bool   // load demo data and demo accounts
	BaseURL string // public URL when behind a proxy (enables Secure cookies on https)
	// TrustedOrigins are extra origins allowed to POST with a session cookie.
	TrustedOrigins []string
	// TrustedProxies are reverse proxies (addresses or CIDRs) whose
	// X-Forwarded-For names the client.
	TrustedProxies []string
	LogLevel       string
	LogFormat      string // text or json
	ShutdownGrace  time.Duration
	// ImportSyncRows is how many data rows a customer import may have to be
	// imported during the request; larger uploads run as background jobs.
	ImportSyncRows int
	// SecretKey seals stored passwords (mailboxes): 32 bytes as base64 or
	// hex; without it no password can be stored.
	SecretKey string
	// RobotsAllowPrivate lets a group robot's custom endpoint be a
	// loopback, private or link-local address (a gateway inside the
	// company); off, such targets are refused (no SSRF through a robot).
	RobotsAllowPrivate bool
}

// Getenv looks up an environment variable; os.Getenv in production.
type Getenv func(string) string

// Translator renders a catalog key with its parameters in the reader's
// language; the CLI passes its own so config need not know how it chose.
type Translator func(key string, params map[string]any) string

// Problem is one bad setting: the flag or variable it came from and the
// catalog key (with parameters) that says what is wrong.
type Problem struct {
	Setting string // "--addr", "CARELOOP_SHUTDOWN_GRACE"
	Key     string
	Params  map[string]any
}

// Error lists every bad setting at once, so a user fixes them in one go.
type Error struct {
	Problems []Problem
	tr       Translator
}

// Error renders each problem as "setting: message", one per line, in the
// translator's language, or the catalog's default language when none was
// given (Validate called outside a command, e.g. by the test kit).
func (e *Error) Error() string {
	tr := e.tr
	if tr == nil {
		tr = defaultTranslator
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Setting + ": " + tr(p.Key, p.Params)
	}
	return strings.Join(lines, "\n")
}

// In returns the error rendered by tr.
func (e *Error) In(tr Translator) *Error {
	return &Error{Problems: e.Problems, tr: tr}
}

var defaultCatalog = sync.OnceValue(i18n.MustLoad)

func defaultTranslator(key string, params map[string]any) string {
	return defaultCatalog().T(i18n.Default, key, params)
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		Addr:          "127.0.0.1:8080",
		DataDir:       "careloop-data",
		LogLevel:      "info",
		LogFormat:     "text",
		ShutdownGrace: 20 * time.Second,
		// customers.DefaultImportSyncRows (config does not import the domain).
		ImportSyncRows: 5000,
	}
}

// Bind registers the shared flags on fs, with defaults taken from the
// environment so that a flag given on the command line overrides it; tr
// renders their help and, in Finish, the problems (nil: the default
// language). Call Finish after fs.Parse to read *_FILE variants and validate.
func Bind(fs *flag.FlagSet, getenv Getenv, c *Config, serve bool, tr Translator) *Binder {
	if tr == nil {
		tr = defaultTranslator
	}
	b := &Binder{getenv: getenv, c: c, fs: fs, tr: tr}
	help := func(key string) string { return tr(key, nil) }
	d := Defaults()
	fs.StringVar(&c.DataDir, "data", b.env("DATA", d.DataDir), help("cli.config.data"))
	fs.StringVar(&c.DB, "db", b.env("DB", ""), help("cli.config.db"))
	fs.StringVar(&c.LogLevel, "log-level", b.env("LOG_LEVEL", d.LogLevel), help("cli.config.log_level"))
	fs.StringVar(&c.LogFormat, "log-format", b.env("LOG_FORMAT", d.LogFormat), help("cli.config.log_format"))
	if serve {
		fs.StringVar(&c.Addr, "addr", b.env("ADDR", d.Addr), help("cli.config.addr"))
		fs.BoolVar(&c.Demo, "demo", b.env("DEMO", "") == "true" || b.env("DEMO", "") == "1", help("cli.config.demo"))
		fs.StringVar(&c.BaseURL, "base-url", b.env("BASE_URL", ""), help("cli.config.base_url"))
		fs.StringVar(&c.SecretKey, "secret-key", b.env("SECRET_KEY", ""), help("cli.config.secret_key"))
		fs.BoolVar(&c.RobotsAllowPrivate, "robots-allow-private", b.env("ROBOTS_ALLOW_PRIVATE", "") == "true" || b.env("ROBOTS_ALLOW_PRIVATE", "") == "1",
			help("cli.config.robots_allow_private"))
		origins := b.env("TRUSTED_ORIGINS", "")
		fs.Func("trusted-origin", help("cli.config.trusted_origin"), func(s string) error {
			c.TrustedOrigins = append(c.TrustedOrigins, s)
			return nil
		})
		if origins != "" {
			c.TrustedOrigins = splitList(origins)
		}
		if proxies := b.env("TRUSTED_PROXIES", ""); proxies != "" {
			c.TrustedProxies = splitList(proxies)
		}
		fs.Func("trusted-proxy", help("cli.config.trusted_proxy"), func(s string) error {
			c.TrustedProxies = append(c.TrustedProxies, s)
			return nil
		})
		grace := b.env("SHUTDOWN_GRACE", d.ShutdownGrace.String())
		g, err := time.ParseDuration(grace)
		if err != nil {
			b.problem("CARELOOP_SHUTDOWN_GRACE", "cli.config.bad_grace", "Value", grace)
			g = d.ShutdownGrace
		}
		fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", g, help("cli.config.shutdown_grace"))
		rows := d.ImportSyncRows
		if v := b.env("IMPORT_SYNC_ROWS", ""); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				b.problem("CARELOOP_IMPORT_SYNC_ROWS", "cli.config.bad_sync_rows_env", "Value", v)
			} else {
				rows = n
			}
		}
		fs.IntVar(&c.ImportSyncRows, "import-sync-rows", rows, help("cli.config.import_sync_rows"))
	} else if c.ImportSyncRows <= 0 {
		c.ImportSyncRows = d.ImportSyncRows // no jobs run outside serve; the value is unused
	}
	return b
}

// Binder carries what Bind needs to finish after parsing.
type Binder struct {
	getenv   Getenv
	c        *Config
	fs       *flag.FlagSet
	tr       Translator
	problems []Problem
}

func (b *Binder) problem(setting, key string, kv ...any) {
	b.problems = append(b.problems, problem(setting, key, kv...))
}

func problem(setting, key string, kv ...any) Problem {
	p := Problem{Setting: setting, Key: key, Params: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Params[kv[i].(string)] = kv[i+1]
	}
	return p
}

// env reads CARELOOP_NAME, or the content of the file named by
// CARELOOP_NAME_FILE (trailing newline removed), or def.
func (b *Binder) env(name, def string) string {
	if v := b.getenv("CARELOOP_" + name); v != "" {
		return v
	}
	if path := b.getenv("CARELOOP_" + name + "_FILE"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			// The operating system's reason is its own words; the
			// sentence around it is ours.
			b.problem("CARELOOP_"+name+"_FILE", "cli.config.unreadable_file", "Path", path, "Reason", err)
			return def
		}
		return strings.TrimRight(string(data), "\r\n")
	}
	return def
}

// Finish validates the configuration after the flags were parsed; its
// error is an *Error in the Binder's language.
func (b *Binder) Finish() error {
	if len(b.problems) > 0 {
		return &Error{Problems: b.problems, tr: b.tr}
	}
	if err := b.c.Validate(); err != nil {
		return err.(*Error).In(b.tr)
	}
	return nil
}

// Validate reports every invalid setting at once, as an *Error.
func (c *Config) Validate() error {
	var ps []Problem
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			ps = append(ps, problem("--addr", "cli.config.bad_addr", "Value", c.Addr))
		}
	}
	if c.DB != "" && !c.IsPostgres() {
		ps = append(ps, problem("--db", "cli.config.bad_db", "Value", c.DB))
	}
	if c.DB == "" && c.DataDir == "" {
		ps = append(ps, problem("--data", "cli.config.no_data"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		ps = append(ps, problem("--log-level", "cli.config.bad_log_level", "Value", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		ps = append(ps, problem("--log-format", "cli.config.bad_log_format", "Value", c.LogFormat))
	}
	if c.ImportSyncRows <= 0 {
		ps = append(ps, problem("--import-sync-rows", "cli.config.bad_sync_rows", "Value", c.ImportSyncRows, "Default", Defaults().ImportSyncRows))
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		ps = append(ps, problem("--base-url", "cli.config.bad_base_url", "Value", c.BaseURL))
	}
	if c.SecretKey != "" && !validKey(c.SecretKey) {
		ps = append(ps, problem("--secret-key", "cli.config.bad_secret_key"))
	}
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}

// IsPostgres tells whether the DSN selects PostgreSQL.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

// SQLitePath is the database file used when no PostgreSQL DSN is set.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "careloop.db") }

// SecureCookies tells whether cookies must carry the Secure attribute.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// validKey tells whether s is 32 bytes as hex or base64 (internal/email
// reads it; config only checks it, to fail at start rather than at the
// first mailbox).
func validKey(s string) bool {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return true
		}
	}
	return false
}
