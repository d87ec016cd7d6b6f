package db

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// The statements of SQLite write transactions are prepared after their
// first transaction and reused by the next ones, which still see their own
// writes and roll back as before; texts past the bound run unprepared.
func TestWriteTransactionsReusePreparedStatements(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, "", filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.W.ExecContext(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	const insert = `INSERT INTO kv (k, v) VALUES ($1, $2)`
	const read = `SELECT v FROM kv WHERE k = $1`
	put := func(k string, v int, fail bool) error {
		return d.WithTx(ctx, func(ctx context.Context) error {
			if _, err := d.Q(ctx).ExecContext(ctx, insert, k, v); err != nil {
				return err
			}
			var got int
			if err := d.RQ(ctx).QueryRowContext(ctx, read, k).Scan(&got); err != nil || got != v {
				return fmt.Errorf("read own write: %d, %v", got, err)
			}
			if fail {
				return fmt.Errorf("roll back")
			}
			return nil
		})
	}
	if err := put("a", 1, false); err != nil {
		t.Fatal(err)
	}
	prepared := func(q string) bool {
		d.wstmts.mu.Lock()
		defer d.wstmts.mu.Unlock()
		return d.wstmts.m[q] != nil
	}
	if !prepared(insert) || !prepared(read) {
		t.Fatalf("statements not prepared after the first transaction: %v", d.wstmts.m)
	}
	if err := put("b", 2, false); err != nil {
		t.Fatal(err)
	}
	if err := put("c", 3, true); err == nil {
		t.Fatal("the failing transaction committed")
	}
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM kv`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("rows = %d (%v), want 2: the rolled back one must be gone", n, err)
	}
	// A duplicate key through the prepared statement is still an error.
	if err := put("a", 9, false); err == nil || !IsUniqueViolation(err) {
		t.Fatalf("duplicate through a prepared statement: %v", err)
	}
	// Texts built per call stop being kept at the bound.
	for i := range maxWriteStmts + 10 {
		err := d.WithTx(ctx, func(ctx context.Context) error {
			_, err := d.Q(ctx).ExecContext(ctx, fmt.Sprintf(`UPDATE kv SET v = v + %d WHERE k = 'a'`, i))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	d.wstmts.mu.Lock()
	kept := len(d.wstmts.m)
	d.wstmts.mu.Unlock()
	if kept > maxWriteStmts {
		t.Fatalf("%d statements kept, bound %d", kept, maxWriteStmts)
	}
}
