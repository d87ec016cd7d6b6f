package textindex

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// TestIndexOnBothDatabases writes documents and searches them on each
// database with the DDL of the package documentation.
func TestIndexOnBothDatabases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		ddl := []string{"CREATE VIRTUAL TABLE note_text USING fts5(terms, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0')"}
		if d.Dialect == db.Postgres {
			ddl = []string{"CREATE TABLE note_text (id BIGINT PRIMARY KEY, terms TSVECTOR NOT NULL)",
				"CREATE INDEX note_text_terms ON note_text USING gin (terms)"}
		}
		for _, s := range ddl {
			if _, err := d.W.ExecContext(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		ix := Index{Table: "note_text"}
		long := strings.Repeat("普通的一句话。", 3000) + "屏幕异响" // past 16,383 positions
		docs := []Doc{
			{1, []string{"申请换货", "快递已寄出"}},
			{2, []string{"换货快递"}},
			{3, []string{"华X强 电子", "强电"}},
			{4, []string{"深圳华强电子有限公司"}},
			{5, []string{"iPhone 15 黑屏 Error E04"}},
			{6, []string{long}},
		}
		err := d.WithTx(ctx, func(ctx context.Context) error { return ix.Put(ctx, d, docs...) })
		if err != nil {
			t.Fatal(err)
		}
		search := func(q string) []int64 {
			t.Helper()
			pq, ok := ParseQuery(q)
			if !ok {
				t.Fatalf("query %q", q)
			}
			rows, err := d.R.QueryContext(ctx, "SELECT id FROM ("+ix.IDs(d.Dialect, "$1")+") AS m ORDER BY id DESC", pq.Arg(d.Dialect))
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			defer rows.Close()
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			return ids
		}
		for q, want := range map[string][]int64{
			"换货":     {2, 1},
			"换货快递":   {2},    // adjacent only
			"货快":     {2},    // not across the two texts of 1
			"华强":     {4},    // 华X强 is no match
			"华强电子":   {4},    // 3 has 强电 and 电子 apart
			"强电":     {4, 3}, // 3's second text
			"黑屏":     {5},
			"iphone": {5},
			"iph":    {5}, // the last word is a prefix
			"e04":    {5},
			"error":  {5},
			"15 黑屏":  {5},
			"换":      {2, 1}, // a character starts terms
			"递":      {2, 1},
			"异响":     {6},
			"屏幕异响":   {6},
			"话普":     {}, // 。 breaks
			"一句话":    {6},
			"公司 深圳":  {4},
			"电子 快递":  {},
		} {
			if got := search(q); fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
				t.Errorf("%q: %v, want %v", q, got, want)
			}
		}
		// Replace and delete, in a transaction.
		err = d.WithTx(ctx, func(ctx context.Context) error {
			if err := ix.Put(ctx, d, Doc{4, []string{"深圳华为"}}); err != nil {
				return err
			}
			return ix.Delete(ctx, d, 2)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := search("华强"); len(got) != 0 {
			t.Errorf("华强 after the rename: %v", got)
		}
		if got := search("华为"); !slices.Equal(got, []int64{4}) {
			t.Errorf("华为 after the rename: %v", got)
		}
		if got := search("换货"); !slices.Equal(got, []int64{1}) {
			t.Errorf("换货 after the delete: %v", got)
		}
		// Match, per row.
		pq, _ := ParseQuery("快递")
		var n int
		err = d.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 AS id UNION ALL SELECT 2 UNION ALL SELECT 3) AS x WHERE "+
			ix.Match(d.Dialect, "x.id", "$1"), pq.Arg(d.Dialect)).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("Match: %d, %v", n, err)
		}
	})
}
