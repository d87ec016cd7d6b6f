// Package db opens Careloop's database (SQLite or PostgreSQL), applies its
// migrations and carries transactions through the context.
//
// Invariants:
//   - SQLite runs in WAL mode with synchronous=FULL, foreign keys on and a busy
//     timeout; all writes go through one connection (W) so writers queue in Go
//     instead of failing with SQLITE_BUSY, and reads use a pool (R).
//   - On PostgreSQL, W and R are the same pool; Shaped is a second, small
//     pool whose prepared statements always run their generic plan, for
//     statements whose plan the code has fixed (see Shaped).
//   - A transaction started by WithTx travels in the context: every query made
//     with Q(ctx) inside fn joins it.
//   - Times are stored in UTC.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	_ "modernc.org/sqlite"           // registers the "sqlite" driver
)

// Dialect names the SQL dialect of a database.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open Careloop database.
type DB struct {
	Dialect Dialect
	W       *sql.DB // writes (and reads inside write transactions)
	R       *sql.DB // reads
	// Shaped reads with statements shaped so that one plan serves every
	// parameter (see ShapedQ); R on SQLite.
	Shaped *sql.DB
	// Counters (PostgreSQL only, nil on SQLite) runs single statements
	// that hand out numbers outside the caller's transaction, so that
	// the counter's row is locked for one statement instead of until the
	// caller commits. Its commits do not wait for the WAL to reach the
	// disk: every number it gives is used by a transaction that commits
	// later and waits for its own, later, WAL position, which includes
	// the counter's; a counter step lost in a crash was used by nothing
	// that survived it.
	Counters *sql.DB
	DSN      string // the PostgreSQL DSN, or the SQLite file path

	stmts  stmtCache
	wstmts writeStmts
}

// Open opens PostgreSQL when dsn is a postgres:// URL, otherwise the SQLite
// file at sqlitePath (creating its directory).
func Open(ctx context.Context, dsn, sqlitePath string) (*DB, error) {
	if dsn != "" {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, sqlitePath)
}

// SQLiteDSN is the driver DSN for the file at path with Careloop's pragmas.
func SQLiteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: no database path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w, err := sql.Open("sqlite", SQLiteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The first connection creates the file and switches it to WAL before
	// readers open it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", SQLiteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	return &DB{Dialect: SQLite, W: w, R: r, Shaped: r, DSN: path}, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	p.SetMaxOpenConns(max(8, runtime.GOMAXPROCS(0)*4))
	p.SetMaxIdleConns(max(8, runtime.GOMAXPROCS(0)*4))
	p.SetConnMaxIdleTime(5 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pingCtx); err != nil {
		p.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	shaped, err := openShaped(dsn)
	if err != nil {
		p.Close()
		return nil, err
	}
	counters, err := openCounters(dsn)
	if err != nil {
		p.Close()
		shaped.Close()
		return nil, err
	}
	return &DB{Dialect: Postgres, W: p, R: p, Shaped: shaped, Counters: counters, DSN: dsn}, nil
}

// openShaped opens the pool of ShapedQ: PostgreSQL re-plans a prepared
// statement with its parameters for the first five runs and then whenever
// that plan looks cheaper than the generic one, which for the search box is
// every time; planning then costs more than running the statement (a
// millisecond against a few tenths). plan_cache_mode=force_generic_plan
// plans each statement once per connection.
func openShaped(dsn string) (*sql.DB, error) {
	return openTuned(dsn, map[string]string{
		"plan_cache_mode": "force_generic_plan",
		// A generic plan expects the default share of rows (0.5 %), which
		// makes a parallel plan look worth it; its workers take longer to
		// start than these statements take to run.
		"max_parallel_workers_per_gather": "0",
	})
}

// openCounters opens the pool of DB.Counters.
func openCounters(dsn string) (*sql.DB, error) {
	return openTuned(dsn, map[string]string{
		"synchronous_commit": "off",
		// A counter's row is locked for one statement at a time: every
		// step of every counter goes through this pool. Should a
		// transaction ever write one itself, a step waiting for it fails
		// after this instead of waiting for a commit that could be the
		// caller's own.
		"lock_timeout": "5s",
	})
}

// openTuned opens a small PostgreSQL pool whose sessions run with params.
func openTuned(dsn string, params map[string]string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	p := stdlib.OpenDB(*cfg)
	p.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)*2))
	p.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)*2))
	p.SetConnMaxIdleTime(5 * time.Minute)
	return p, nil
}

// Close closes the prepared statements and the pools.
func (d *DB) Close() error {
	err := errors.Join(d.stmts.close(), d.wstmts.close(), d.W.Close())
	if d.R != d.W {
		err = errors.Join(err, d.R.Close())
	}
	if d.Shaped != nil && d.Shaped != d.R {
		err = errors.Join(err, d.Shaped.Close())
	}
	if d.Counters != nil {
		err = errors.Join(err, d.Counters.Close())
	}
	return err
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.R.PingContext(ctx)
}

// Querier is what *sql.DB and *sql.Tx have in common.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type txKey struct{}

// txState is what a transaction's context carries: the transaction and the
// Querier its statements go through (on SQLite one that reuses the write
// connection's prepared statements).
type txState struct {
	tx *sql.Tx
	q  Querier
}

func txFrom(ctx context.Context) *txState {
	st, _ := ctx.Value(txKey{}).(*txState)
	return st
}

// WithTx runs fn in a write transaction carried by the context. If ctx already
// carries one, fn joins it (the outermost WithTx commits). A panic or error in
// fn rolls back.
func (d *DB) WithTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if txFrom(ctx) != nil {
		return fn(ctx)
	}
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
		if d.Dialect == SQLite {
			// The connection is free again: prepare what the
			// transaction ran unprepared.
			d.wstmts.preparePending(context.WithoutCancel(ctx), d.W)
		}
	}()
	state := &txState{tx: tx, q: tx}
	if d.Dialect == SQLite {
		state.q = sqliteTx{tx: tx, c: &d.wstmts}
	}
	if err = fn(context.WithValue(ctx, txKey{}, state)); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Savepoint runs fn inside ctx's transaction so that fn's error rolls back
// fn's changes only and the transaction goes on (on PostgreSQL a failed
// statement would otherwise end it). Without a transaction in ctx it is
// WithTx.
func (d *DB) Savepoint(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	st := txFrom(ctx)
	if st == nil {
		return d.WithTx(ctx, fn)
	}
	// Not the caller's context: a cancelled one must still roll back.
	bg := context.WithoutCancel(ctx)
	if _, err := st.q.ExecContext(bg, `SAVEPOINT sp`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	defer func() {
		p := recover()
		if err != nil || p != nil {
			if _, rerr := st.q.ExecContext(bg, `ROLLBACK TO SAVEPOINT sp`); rerr != nil {
				err = errors.Join(err, fmt.Errorf("roll back to savepoint: %w", rerr))
			}
		}
		if _, rerr := st.q.ExecContext(bg, `RELEASE SAVEPOINT sp`); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release savepoint: %w", rerr))
		}
		if p != nil {
			panic(p)
		}
	}()
	return fn(ctx)
}

// Q returns the transaction in ctx, or the write pool.
func (d *DB) Q(ctx context.Context) Querier {
	if st := txFrom(ctx); st != nil {
		return st.q
	}
	return d.W
}

// RQ returns the transaction in ctx (so a read inside a write sees its own
// changes), or the read pool.
func (d *DB) RQ(ctx context.Context) Querier {
	if st := txFrom(ctx); st != nil {
		return st.q
	}
	return d.R
}

// ShapedQ returns the transaction in ctx, or the pool for statements whose
// plan does not depend on their parameters: statements that name the index
// they need through the form of their conditions (range operators rather
// than LIKE with a parameter, id + 0 where the primary key must not be
// walked), so that PostgreSQL's generic plan is the right one. Anything
// else belongs on RQ.
func (d *DB) ShapedQ(ctx context.Context) Querier {
	if st := txFrom(ctx); st != nil {
		return st.q
	}
	return d.Shaped
}

// InTx tells whether ctx carries a transaction.
func InTx(ctx context.Context) bool {
	return txFrom(ctx) != nil
}

// IsUniqueViolation tells whether err is a unique-constraint violation on
// either database.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// Now is the database time representation of t: UTC, microsecond precision
// (what PostgreSQL keeps), so values round-trip identically on both databases.
func Now(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// WithSearchPath returns the PostgreSQL dsn with search_path set to schema,
// then public (where shared extensions such as pg_trgm live).
func WithSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}
