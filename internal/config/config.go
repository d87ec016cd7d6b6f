// Package config turns command-line flags and environment variables into a
// typed Config. Every flag has an environment variable (CARELOOP_<NAME>) and a
// *_FILE variant that reads the value from a file, for secrets. Flags win over
// the environment; there is no global configuration object.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
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
}

// Getenv looks up an environment variable; os.Getenv in production.
type Getenv func(string) string

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
// environment so that a flag given on the command line overrides it.
// Call Finish after fs.Parse to read *_FILE variants and validate.
func Bind(fs *flag.FlagSet, getenv Getenv, c *Config, serve bool) *Binder {
	b := &Binder{getenv: getenv, c: c, fs: fs}
	d := Defaults()
	fs.StringVar(&c.DataDir, "data", b.env("DATA", d.DataDir), "data directory (SQLite database, backups) [CARELOOP_DATA]")
	fs.StringVar(&c.DB, "db", b.env("DB", ""), "database DSN: postgres://… for PostgreSQL; empty for SQLite in the data directory [CARELOOP_DB]")
	fs.StringVar(&c.LogLevel, "log-level", b.env("LOG_LEVEL", d.LogLevel), "debug, info, warn or error [CARELOOP_LOG_LEVEL]")
	fs.StringVar(&c.LogFormat, "log-format", b.env("LOG_FORMAT", d.LogFormat), "text or json [CARELOOP_LOG_FORMAT]")
	if serve {
		fs.StringVar(&c.Addr, "addr", b.env("ADDR", d.Addr), "listen address [CARELOOP_ADDR]")
		fs.BoolVar(&c.Demo, "demo", b.env("DEMO", "") == "true" || b.env("DEMO", "") == "1", "load demo data and demo accounts [CARELOOP_DEMO]")
		fs.StringVar(&c.BaseURL, "base-url", b.env("BASE_URL", ""), "public URL, e.g. https://care.example.com [CARELOOP_BASE_URL]")
		origins := b.env("TRUSTED_ORIGINS", "")
		fs.Func("trusted-origin", "extra origin allowed to post forms (repeatable) [CARELOOP_TRUSTED_ORIGINS, comma-separated]", func(s string) error {
			c.TrustedOrigins = append(c.TrustedOrigins, s)
			return nil
		})
		if origins != "" {
			c.TrustedOrigins = splitList(origins)
		}
		if proxies := b.env("TRUSTED_PROXIES", ""); proxies != "" {
			c.TrustedProxies = splitList(proxies)
		}
		fs.Func("trusted-proxy", "reverse proxy address or CIDR whose X-Forwarded-For is believed (repeatable) [CARELOOP_TRUSTED_PROXIES, comma-separated]", func(s string) error {
			c.TrustedProxies = append(c.TrustedProxies, s)
			return nil
		})
		grace := b.env("SHUTDOWN_GRACE", d.ShutdownGrace.String())
		g, err := time.ParseDuration(grace)
		if err != nil {
			b.errs = append(b.errs, fmt.Errorf("CARELOOP_SHUTDOWN_GRACE: %w", err))
			g = d.ShutdownGrace
		}
		fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", g, "how long shutdown waits for in-flight requests and jobs [CARELOOP_SHUTDOWN_GRACE]")
		rows := d.ImportSyncRows
		if v := b.env("IMPORT_SYNC_ROWS", ""); v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				b.errs = append(b.errs, fmt.Errorf("CARELOOP_IMPORT_SYNC_ROWS %q: want a whole number of rows, e.g. 5000", v))
			} else {
				rows = n
			}
		}
		fs.IntVar(&c.ImportSyncRows, "import-sync-rows", rows,
			"customer imports with more data rows than this run as background jobs with progress and cancel [CARELOOP_IMPORT_SYNC_ROWS]")
	} else if c.ImportSyncRows <= 0 {
		c.ImportSyncRows = d.ImportSyncRows // no jobs run outside serve; the value is unused
	}
	return b
}

// Binder carries what Bind needs to finish after parsing.
type Binder struct {
	getenv Getenv
	c      *Config
	fs     *flag.FlagSet
	errs   []error
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
			b.errs = append(b.errs, fmt.Errorf("CARELOOP_%s_FILE: %w", name, err))
			return def
		}
		return strings.TrimRight(string(data), "\r\n")
	}
	return def
}

// Finish validates the configuration after the flags were parsed.
func (b *Binder) Finish() error {
	if len(b.errs) > 0 {
		return errors.Join(b.errs...)
	}
	return b.c.Validate()
}

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var errs []error
	if c.Addr != "" {
		if _, _, err := net.SplitHostPort(c.Addr); err != nil {
			errs = append(errs, fmt.Errorf("--addr %q: want host:port", c.Addr))
		}
	}
	if c.DB != "" && !c.IsPostgres() {
		errs = append(errs, fmt.Errorf("--db %q: want a postgres:// or postgresql:// URL, or nothing for SQLite", c.DB))
	}
	if c.DB == "" && c.DataDir == "" {
		errs = append(errs, errors.New("--data: a data directory is needed for SQLite"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.ImportSyncRows <= 0 {
		errs = append(errs, fmt.Errorf("--import-sync-rows %d: want a positive number of rows (default 5000); larger imports run in the background", c.ImportSyncRows))
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		errs = append(errs, fmt.Errorf("--base-url %q: want an http:// or https:// URL", c.BaseURL))
	}
	return errors.Join(errs...)
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
