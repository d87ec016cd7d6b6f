package customers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// TestTwoCharacterPartsAnywhere: two characters anywhere in a name find
// the customer (the text index), newest first; a rename, an erase, a merge
// and an import keep the index current, on both databases.
func TestTwoCharacterPartsAnywhere(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		create := func(name string) int64 {
			t.Helper()
			c, err := f.store.Create(ctx, customers.Input{Name: str(name), AllowDuplicate: true})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		search := func(q string) string {
			t.Helper()
			page, err := f.store.Search(ctx, f.agent, customers.Filter{Q: q})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var names []string
			for _, c := range page.Items {
				names = append(names, c.Name)
			}
			return fmt.Sprint(names)
		}
		create("李小红")
		create("深圳华强电子有限公司")
		create("华X强贸易") // 华 and 强, not adjacent
		create("华，强五金") // nor across punctuation
		create("小红帽餐饮")
		create("王大红")
		for q, want := range map[string]string{
			"小红":       "[小红帽餐饮 李小红]", // the end of one name, the start of the other
			"华强":       "[深圳华强电子有限公司]",
			"强电":       "[深圳华强电子有限公司]",
			"公司":       "[深圳华强电子有限公司]",
			"华强电子":     "[深圳华强电子有限公司]", // four characters (the trigram index)
			"强电子有限":    "[深圳华强电子有限公司]",
			"大红":       "[王大红]",
			"红帽":       "[小红帽餐饮]",
			"李":        "[李小红]", // one character stays a prefix (a surname)
			"红":        "[]",
			"xiaohong": "[小红帽餐饮]", // pinyin is a prefix
			"lxh":      "[李小红]",
		} {
			if got := search(q); got != want {
				t.Errorf("search %q = %s, want %s", q, got, want)
			}
		}
		// A rename moves the customer in the index.
		id := create("赵一鸣")
		if _, err := f.store.Update(ctx, id, customers.Input{Name: str("赵华强")}); err != nil {
			t.Fatal(err)
		}
		if got := search("华强"); got != "[赵华强 深圳华强电子有限公司]" {
			t.Errorf("华强 after the rename: %s", got)
		}
		if got := search("一鸣"); got != "[]" {
			t.Errorf("一鸣 after the rename: %s", got)
		}
		// Erased: not found by the old name.
		if err := f.store.Erase(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := search("华强"); got != "[深圳华强电子有限公司]" {
			t.Errorf("华强 after the erase: %s", got)
		}
		// Merged away: found as the one kept, by its name.
		keep, gone := create("孙悟空"), create("孙行者")
		if _, err := f.store.Merge(ctx, keep, gone); err != nil {
			t.Fatal(err)
		}
		if got := search("行者"); got != "[]" {
			t.Errorf("行者 after the merge: %s", got)
		}
		if got := search("悟空"); got != "[孙悟空]" {
			t.Errorf("悟空 after the merge: %s", got)
		}
		// Imported customers are indexed with their rows.
		if _, err := f.store.Import(ctx, csvFile("客户名称/单位,联系方式", "上海华强电器商行,13900000011", "钱小红,13900000012"),
			customers.ImportSettings{}); err != nil {
			t.Fatal(err)
		}
		if got := search("小红"); got != "[钱小红 小红帽餐饮 李小红]" {
			t.Errorf("小红 after the import: %s", got)
		}
		if got := search("电器"); got != "[上海华强电器商行]" {
			t.Errorf("电器 after the import: %s", got)
		}
		// The count agrees.
		if n, capped, err := f.store.Count(ctx, f.agent, customers.Filter{Q: "小红"}); err != nil || n != 3 || capped {
			t.Errorf("count 小红 = %d, %v, %v", n, capped, err)
		}
	})
}

// TestBackfillIndexesOlderCustomers: customers written before the text
// index existed are indexed by BackfillNameIndex, once.
func TestBackfillIndexesOlderCustomers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var ids []int64
		for _, n := range []string{"李小红", "深圳华强电子有限公司", "王小红", "赵六"} {
			c, err := f.store.Create(ctx, customers.Input{Name: str(n)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		if err := f.store.Erase(ctx, ids[2]); err != nil {
			t.Fatal(err)
		}
		// As the migration leaves an existing database: nothing indexed,
		// a row saying where to start.
		for _, s := range []string{"DELETE FROM customer_text",
			fmt.Sprintf("INSERT INTO text_index_backfill (name, below) VALUES ('customer_text', %d)", ids[3]+1)} {
			if _, err := d.W.ExecContext(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		old := customers.SetBackfillBatch(1)
		defer old()
		n, err := f.store.BackfillNameIndex(ctx)
		if err != nil || n != 3 {
			t.Fatalf("backfill: %d, %v", n, err)
		}
		page, err := f.store.Search(ctx, f.agent, customers.Filter{Q: "小红"})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != ids[0] {
			t.Errorf("小红 after the backfill: %+v, %v", page.Items, err)
		}
		if n, err := f.store.BackfillNameIndex(ctx); err != nil || n != 0 {
			t.Errorf("second backfill: %d, %v", n, err)
		}
	})
}
