package db_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

func TestMigrationsHaveTheSameVersionsOnBothDialects(t *testing.T) {
	names := func(d db.Dialect) []string {
		fsys, err := db.MigrationsFS(d)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	lite, pg := names(db.SQLite), names(db.Postgres)
	if len(lite) == 0 {
		t.Fatal("no migrations")
	}
	if strings.Join(lite, ",") != strings.Join(pg, ",") {
		t.Fatalf("migration files differ:\nsqlite:   %v\npostgres: %v", lite, pg)
	}
}

func TestWithTxCommitsAndRollsBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := db.Now(time.Now())
		insert := func(ctx context.Context, name string) error {
			_, err := d.Q(ctx).ExecContext(ctx,
				`INSERT INTO teams (name, created_at, updated_at) VALUES ($1, $2, $2)`, name, now)
			return err
		}
		if err := d.WithTx(ctx, func(ctx context.Context) error { return insert(ctx, "kept") }); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		err := d.WithTx(ctx, func(ctx context.Context) error {
			if err := insert(ctx, "dropped"); err != nil {
				return err
			}
			// A nested WithTx joins the outer transaction.
			return d.WithTx(ctx, func(ctx context.Context) error {
				if !db.InTx(ctx) {
					t.Error("nested call lost the transaction")
				}
				return boom
			})
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		var names []string
		rows, err := d.RQ(ctx).QueryContext(ctx, `SELECT name FROM teams ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		if strings.Join(names, ",") != "kept" {
			t.Fatalf("teams = %v, want only kept", names)
		}
		// Times round-trip exactly.
		var got time.Time
		if err := d.RQ(ctx).QueryRowContext(ctx, `SELECT created_at FROM teams WHERE name = 'kept'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(now) {
			t.Fatalf("created_at = %v, want %v", got, now)
		}
		// Unique violations are recognised on both databases.
		if err := insert(ctx, "kept"); !db.IsUniqueViolation(err) {
			t.Fatalf("duplicate insert err = %v, want a unique violation", err)
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.W.ExecContext(ctx, `INSERT INTO audit_log (at, action, entity) VALUES ($1, 'x', 'y')`, db.Now(time.Now())); err != nil {
			t.Fatal(err)
		}
		if _, err := d.W.ExecContext(ctx, `UPDATE audit_log SET action = 'z'`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("update err = %v, want append-only refusal", err)
		}
		if _, err := d.W.ExecContext(ctx, `DELETE FROM audit_log`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("delete err = %v, want append-only refusal", err)
		}
	})
}

func TestReadyAfterMigrate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		pending, err := d.Pending(context.Background())
		if err != nil || pending {
			t.Fatalf("Pending = %v, %v after migrate", pending, err)
		}
	})
}
