package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// stmtCache keeps the prepared statements of ReadStmt. The SQLite driver
// caches none: without this, every request re-parses and re-plans the same
// SQL, about a quarter of the CPU of a signed-in request.
type stmtCache struct {
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

// ReadStmt returns query prepared on the read pool, preparing it at first
// use. database/sql keeps one prepared copy per connection the statement
// runs on, so the cost of parsing is paid once per connection. Only for the
// few statements on a hot path, with constant text: the cache never evicts.
// Not for use inside a transaction (the statement belongs to the pool).
func (d *DB) ReadStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c := &d.stmts
	c.mu.RLock()
	st := c.m[query]
	c.mu.RUnlock()
	if st != nil {
		return st, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[query]; st != nil {
		return st, nil
	}
	st, err := d.R.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for q, st := range c.m {
		err = errors.Join(err, st.Close())
		delete(c.m, q)
	}
	return err
}

// HotQueryRow runs a statement of a hot path on the read pool: prepared once
// per connection on SQLite (ReadStmt); on PostgreSQL pgx already keeps each
// statement prepared per connection, and database/sql's Stmt would only add
// its bookkeeping.
func (d *DB) HotQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if d.Dialect == SQLite {
		if st, err := d.ReadStmt(ctx, query); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
		// Preparing failed: running it unprepared reports the same error.
	}
	return d.R.QueryRowContext(ctx, query, args...)
}

// HotQuery is HotQueryRow for several rows.
func (d *DB) HotQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if d.Dialect == SQLite {
		st, err := d.ReadStmt(ctx, query)
		if err != nil {
			return nil, err
		}
		return st.QueryContext(ctx, args...)
	}
	return d.R.QueryContext(ctx, query, args...)
}

// maxWriteStmts bounds the write statements kept prepared: statements whose
// text is built per call (an IN list of as many placeholders as values) would
// otherwise fill the cache without end; past the bound they run unprepared.
const maxWriteStmts = 1024

// writeStmts keeps the statements of write transactions prepared on
// SQLite's one write connection. Inside a transaction Tx.StmtContext reuses
// the connection's prepared copy, which saves re-parsing every statement of
// every transaction (a third of the CPU of creating a ticket). A statement
// cannot be prepared on the pool while a transaction holds its only
// connection, so one first seen inside a transaction runs unprepared and is
// prepared as soon as that transaction ends.
type writeStmts struct {
	mu      sync.Mutex
	m       map[string]*sql.Stmt // nil value: preparing failed, run unprepared
	pending []string
}

// lookup returns the prepared statement of query, or nil after noting it to
// be prepared.
func (c *writeStmts) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, seen := c.m[query]
	if !seen && len(c.m)+len(c.pending) < maxWriteStmts && !slices.Contains(c.pending, query) {
		c.pending = append(c.pending, query)
	}
	return st
}

func (c *writeStmts) preparePending(ctx context.Context, pool *sql.DB) {
	c.mu.Lock()
	todo := c.pending
	c.pending = nil
	c.mu.Unlock()
	for _, query := range todo {
		st, err := pool.PrepareContext(ctx, query)
		if err != nil {
			st = nil // a statement SQLite cannot prepare alone, e.g. one referring to a temp table
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		if _, dup := c.m[query]; dup && st != nil {
			_ = st.Close()
		} else {
			c.m[query] = st
		}
		c.mu.Unlock()
	}
}

func (c *writeStmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for q, st := range c.m {
		if st != nil {
			err = errors.Join(err, st.Close())
		}
		delete(c.m, q)
	}
	return err
}

// sqliteTx is a SQLite write transaction's Querier: statements prepared on
// the write connection when there are, the plain transaction otherwise.
type sqliteTx struct {
	tx *sql.Tx
	c  *writeStmts
}

func (q sqliteTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.c.lookup(query); st != nil {
		return q.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return q.tx.ExecContext(ctx, query, args...)
}

func (q sqliteTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.c.lookup(query); st != nil {
		return q.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return q.tx.QueryContext(ctx, query, args...)
}

func (q sqliteTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.c.lookup(query); st != nil {
		return q.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.tx.QueryRowContext(ctx, query, args...)
}

// HotRow is HotQueryRow for a read that may run inside a write transaction
// (so that it sees the transaction's changes): the transaction's Querier
// then, the prepared read statement otherwise.
func (d *DB) HotRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := txFrom(ctx); st != nil {
		return st.q.QueryRowContext(ctx, query, args...)
	}
	return d.HotQueryRow(ctx, query, args...)
}
