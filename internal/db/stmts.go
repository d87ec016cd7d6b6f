package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
