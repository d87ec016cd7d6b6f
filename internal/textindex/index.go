package textindex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/db"
)

// Index is the text index of one kind of entity: a table of its own
// (customer_text, ticket_text, …) keyed by the entity's id. See the package
// documentation for its DDL on each database.
type Index struct {
	Table string
}

// Doc is one entity's document: its id and the texts it is found by.
type Doc struct {
	ID    int64
	Texts []string
}

// putBatch is how many documents one INSERT writes.
const putBatch = 200

// Put writes the documents of docs (replacing what the index held for
// their ids) through d.Q(ctx): inside db.WithTx, in the caller's
// transaction, so the index changes with the rows it indexes.
func (ix Index) Put(ctx context.Context, d *db.DB, docs ...Doc) error {
	for len(docs) > 0 {
		n := min(len(docs), putBatch)
		var b strings.Builder
		args := make([]any, 0, 2*n)
		if d.Dialect == db.Postgres {
			b.WriteString("INSERT INTO " + ix.Table + " (id, terms) VALUES ")
		} else {
			b.WriteString("INSERT OR REPLACE INTO " + ix.Table + " (rowid, terms) VALUES ")
		}
		for i, doc := range docs[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			args = append(args, doc.ID, Document(d.Dialect, doc.Texts...))
			id, terms := "$"+strconv.Itoa(len(args)-1), "$"+strconv.Itoa(len(args))
			if d.Dialect == db.Postgres {
				terms += "::tsvector"
			}
			b.WriteString("(" + id + ", " + terms + ")")
		}
		if d.Dialect == db.Postgres {
			b.WriteString(" ON CONFLICT (id) DO UPDATE SET terms = EXCLUDED.terms")
		}
		if _, err := d.Q(ctx).ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("text index %s: put: %w", ix.Table, err)
		}
		docs = docs[n:]
	}
	return nil
}

// Delete removes ids from the index (an erased or merged entity is no
// longer found by its text), in the caller's transaction as Put.
func (ix Index) Delete(ctx context.Context, d *db.DB, ids ...int64) error {
	key := "rowid"
	if d.Dialect == db.Postgres {
		key = "id"
	}
	for _, id := range ids {
		if _, err := d.Q(ctx).ExecContext(ctx, "DELETE FROM "+ix.Table+" WHERE "+key+" = $1", id); err != nil {
			return fmt.Errorf("text index %s: delete: %w", ix.Table, err)
		}
	}
	return nil
}

// IDs returns a subquery selecting the ids of the entities matching the
// query in parameter arg ("$3", holding Query.Arg(d)), in no order, as
// one column named id:
//
//	SQLite:     SELECT rowid AS id FROM ticket_text WHERE ticket_text MATCH $3
//	PostgreSQL: SELECT id FROM ticket_text WHERE terms @@ $3::tsquery
//
// On SQLite, FTS5 yields the matches newest first and lazily with ORDER BY
// id DESC: drive the search from it (FROM (…) AS m JOIN tickets ON
// tickets.id = m.id ORDER BY m.id DESC LIMIT n) and a common word stops
// after a page. On PostgreSQL the GIN index returns every match before any
// is sorted: use it as id IN (…) for rare words and scan the newest rows
// with Match first for common ones (see the package documentation).
func (ix Index) IDs(d db.Dialect, arg string) string {
	if d == db.Postgres {
		return "SELECT id FROM " + ix.Table + " WHERE terms @@ " + arg + "::tsquery"
	}
	return "SELECT rowid AS id FROM " + ix.Table + " WHERE " + ix.Table + " MATCH " + arg
}

// Match returns a condition true when the entity whose id is idExpr
// matches the query in parameter arg: on PostgreSQL a lookup of its own
// row (a few microseconds a row, for scans of the newest rows), on SQLite
// idExpr IN the FTS5 matches. On PostgreSQL it is a scalar subquery, not
// EXISTS: the planner turns an EXISTS into a semi-join and, for a phrase
// (开机黑屏) whose matches it underestimates, drives the scan from the GIN
// index, reading every match of the table before the window's few rows.
func (ix Index) Match(d db.Dialect, idExpr, arg string) string {
	if d == db.Postgres {
		return "COALESCE((SELECT terms @@ " + arg + "::tsquery FROM " + ix.Table + " WHERE id = " + idExpr + "), FALSE)"
	}
	return idExpr + " IN (" + ix.IDs(d, arg) + ")"
}

// Backfill indexes the entities that existed before the index, newest
// first, batch at a time, each batch in a transaction of its own. The
// migration that creates the index records where to start in
// text_index_backfill (name = the index's table, below = one past the
// newest id then); entities written since are indexed by their store.
// load looks at up to n entities with id < below, newest first, and
// returns the documents of those to index and the smallest id it looked
// at (0 when there were none left). It reads in the transaction (on PostgreSQL with FOR SHARE, so that a
// rename running alongside waits and indexes its own name after). Backfill
// returns how many documents it wrote; when it has written them all it
// deletes its row, and later calls cost one lookup. Several servers
// starting at once take turns (the row is locked per batch on
// PostgreSQL; SQLite has one writer).
func (ix Index) Backfill(ctx context.Context, d *db.DB, batch int, load func(ctx context.Context, below int64, n int) (docs []Doc, next int64, err error)) (int, error) {
	total := 0
	for {
		done := false
		err := d.WithTx(ctx, func(ctx context.Context) error {
			lock := ""
			if d.Dialect == db.Postgres {
				lock = " FOR UPDATE"
			}
			var below int64
			err := d.Q(ctx).QueryRowContext(ctx, "SELECT below FROM text_index_backfill WHERE name = $1"+lock, ix.Table).Scan(&below)
			if errors.Is(err, sql.ErrNoRows) {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			docs, next, err := load(ctx, below, batch)
			if err != nil {
				return err
			}
			if err := ix.Put(ctx, d, docs...); err != nil {
				return err
			}
			total += len(docs)
			if next <= 0 {
				done = true
				_, err = d.Q(ctx).ExecContext(ctx, "DELETE FROM text_index_backfill WHERE name = $1", ix.Table)
				return err
			}
			_, err = d.Q(ctx).ExecContext(ctx, "UPDATE text_index_backfill SET below = $1 WHERE name = $2", next, ix.Table)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("text index %s: backfill: %w", ix.Table, err)
		}
		if done {
			return total, nil
		}
	}
}
