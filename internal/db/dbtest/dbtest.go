// Package dbtest gives tests a fresh, migrated Careloop database on SQLite and,
// when CARELOOP_TEST_POSTGRES holds a DSN, on PostgreSQL too (a new schema per
// test, dropped afterwards). Under CI=true a missing PostgreSQL DSN fails the
// test instead of skipping it.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db"
)

// EnvPostgres names the variable holding the PostgreSQL DSN for tests.
const EnvPostgres = "CARELOOP_TEST_POSTGRES"

// Target is one database a test runs against.
type Target struct {
	Dialect db.Dialect
	// DSN is the PostgreSQL DSN (with the test schema on its search_path) or
	// empty for SQLite.
	DSN string
	// SQLitePath is the database file for SQLite targets.
	SQLitePath string
}

// Each runs fn as a subtest on every available database, each freshly migrated.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, tg := range Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			fn(t, tg.Open(t))
		})
	}
}

// Targets lists the databases to test on; each PostgreSQL target owns a new
// schema that is dropped when the test ends.
func Targets(t testing.TB) []Target {
	t.Helper()
	out := []Target{{Dialect: db.SQLite}}
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: under CI=true every store test must run on PostgreSQL too", EnvPostgres)
		}
		return out
	}
	return append(out, Target{Dialect: db.Postgres, DSN: dsn})
}

// Open creates the target's fresh database, migrates it and closes it when
// the test ends.
func (tg Target) Open(t testing.TB) *db.DB {
	t.Helper()
	ctx := context.Background()
	var dsn, path string
	if tg.Dialect == db.Postgres {
		dsn = NewSchema(t, tg.DSN)
	} else {
		path = tg.SQLitePath
		if path == "" {
			path = filepath.Join(t.TempDir(), "careloop.db")
		}
	}
	d, err := db.Open(ctx, dsn, path)
	if err != nil {
		t.Fatalf("open %s: %v", tg.Dialect, err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", tg.Dialect, err)
	}
	return d
}

// NewSchema creates a uniquely named schema and returns base with that schema
// on its search_path; the schema is dropped when the test ends.
func NewSchema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + strings.ToLower(hex.EncodeToString(b[:]))
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	// Extensions are database-wide: keep them in public, which every test
	// schema has on its search path, so dropping a test schema never takes
	// an extension away from the others.
	if _, err := admin.Exec("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("postgres at %s: pg_trgm: %v", base, err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("postgres at %s: create schema: %v", base, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		if _, err := a.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	return WithSearchPath(base, schema)
}

// WithSearchPath is db.WithSearchPath, kept here for tests' convenience.
func WithSearchPath(dsn, schema string) string { return db.WithSearchPath(dsn, schema) }
