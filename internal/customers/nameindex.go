package customers

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/textindex"
)

// nameIndex is the text index of customer names (package textindex): a
// two-character part anywhere in a name (小红 in 李小红, 华强 in
// 深圳华强电子有限公司) is one term of it. Live customers only: merging and
// erasing take a customer out, so an erased customer is not found by its
// old name. Written with the name, in its transaction.
var nameIndex = textindex.Index{Table: "customer_text"}

// textQuery returns the text-index query of a name search of two CJK
// characters (张伟, 华强): a substring anywhere in the name, one term of
// the index. One character stays a prefix (a surname), three or more stay
// with the trigram index, which the search's plans were tuned on; a
// mixed query such as "a座" stays a prefix. For such a query a name
// contains q.Text exactly when its document holds the term, so the scans
// of the newest customers on PostgreSQL check strpos on the name instead
// of reading the index row.
func textQuery(q Query) (textindex.Query, bool) {
	if q.Kind != QueryName || utf8.RuneCountInString(q.Text) != 2 {
		return textindex.Query{}, false
	}
	tq, ok := textindex.ParseQuery(q.Text)
	if !ok || !tq.Single() {
		return textindex.Query{}, false
	}
	return tq, true
}

// isText tells whether q is searched in the text index.
func isText(q Query) bool {
	_, ok := textQuery(q)
	return ok
}

// backfillBatch is how many customers a backfill transaction looks at.
var backfillBatch = 5000

// indexName writes a customer's name into the text index.
func (s *Store) indexName(ctx context.Context, id int64, name string) error {
	return nameIndex.Put(ctx, s.db, textindex.Doc{ID: id, Texts: []string{name}})
}

// BackfillNameIndex indexes the names of the customers that existed when
// the text index was created (migration 00011), newest first, 5,000 per
// transaction; the app runs it at start, in the background. It returns
// how many names it indexed; once done it costs one lookup.
func (s *Store) BackfillNameIndex(ctx context.Context) (int, error) {
	lock := ""
	if s.db.Dialect == db.Postgres {
		lock = " FOR SHARE"
	}
	n, err := nameIndex.Backfill(ctx, s.db, backfillBatch, func(ctx context.Context, below int64, n int) ([]textindex.Doc, int64, error) {
		rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id, name, merged_into IS NULL AND erased_at IS NULL FROM customers
			WHERE id < $1 ORDER BY id DESC LIMIT $2`+lock, below, n)
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		var docs []textindex.Doc
		var next int64
		for rows.Next() {
			var id int64
			var name string
			var live bool
			if err := rows.Scan(&id, &name, &live); err != nil {
				return nil, 0, err
			}
			next = id
			if live {
				docs = append(docs, textindex.Doc{ID: id, Texts: []string{name}})
			}
		}
		return docs, next, rows.Err()
	})
	if err != nil {
		return n, fmt.Errorf("customers: %w", err)
	}
	return n, nil
}
