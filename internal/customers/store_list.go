package customers

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// The list orders of Filter.Sort, an allow-list. "" and "-created" are the
// newest first, the order of every search; the others apply to the list
// and its filters only (a text search keeps newest first and says so in
// Page.Sort).
var Sorts = []string{"-created", "created", "number", "-number", "name", "-name"}

// SortNewest is the order of a search, and the list's default.
const SortNewest = "-created"

// CountCap is where counting stops: a page says "1,000+" beyond it (a
// variable for tests).
var CountCap = 1000

// sortKey is what a sorted list walks. Numbers sort by length, then text:
// 202405999 comes before 2024051000 (indexed as customers_sort_number).
// Names sort by their pinyin, as Chinese readers expect (张 after 王 would
// be code-point order), with the id breaking ties; on PostgreSQL in byte
// order, which the index customers_sort_pinyin serves.
func sortKey(d db.Dialect, sort string) (cols []string, desc bool) {
	desc = strings.HasPrefix(sort, "-")
	switch strings.TrimPrefix(sort, "-") {
	case "number":
		return []string{"LENGTH(number)", "number"}, desc
	case "name":
		if d == db.Postgres {
			return []string{`name_pinyin COLLATE "C"`, "id"}, desc
		}
		return []string{"name_pinyin", "id"}, desc
	}
	return []string{"id"}, desc
}

// checkSort validates f.Sort.
func checkSort(sort string) error {
	if sort != "" && !slices.Contains(Sorts, sort) {
		return domain.Invalid("sort", "validation.one_of", map[string]any{"Values": strings.Join(Sorts, ", ")})
	}
	return nil
}

// sorted lists customers of the plain list (no search text) in an order
// other than the newest first. Its cursors carry the order, the key and the
// id of the last customer shown ("number:202405001:17"), so a cursor of one
// order is refused by another.
func (s *Store) sorted(ctx context.Context, p *identity.Principal, f Filter) (Page, error) {
	d := s.db.Dialect
	page := Page{Items: []Customer{}, Kind: QueryEmpty.String(), Sort: f.Sort}
	var w where
	w.add("merged_into IS NULL")
	for _, c := range f.conditions(&w) {
		w.add(c)
	}
	cols, desc := sortKey(d, f.Sort)
	op, dir := ">", " ASC"
	if desc {
		op, dir = "<", " DESC"
	}
	orderBy := strings.Join(cols, dir+", ") + dir
	if f.Cursor != "" {
		key, id, ok := decodeSortCursor(f.Cursor, f.Sort)
		if !ok {
			return Page{}, domain.Invalid("cursor", "validation.cursor", nil)
		}
		// A row comparison walks the index from the cursor on.
		var vals []string
		switch strings.TrimPrefix(f.Sort, "-") {
		case "number":
			vals = []string{w.arg(len(key)), w.arg(key)}
		case "name":
			vals = []string{w.arg(key), w.arg(id)}
		default:
			vals = []string{w.arg(id)}
		}
		w.add("(" + strings.Join(cols, ", ") + ") " + op + " (" + strings.Join(vals, ", ") + ")")
	}
	args := w.args
	if d == db.Postgres {
		args = append([]any{pgxExec}, args...)
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+customerColumns+`, name_pinyin FROM customers WHERE `+
		strings.Join(w.conds, " AND ")+` ORDER BY `+orderBy+` LIMIT `+strconv.Itoa(f.Limit+1), args...)
	if err != nil {
		return Page{}, fmt.Errorf("list customers: %w", err)
	}
	defer rows.Close()
	var pinyins []string
	for rows.Next() {
		var py string
		c, err := scanCustomer(withExtra{rows, &py})
		if err != nil {
			return Page{}, fmt.Errorf("list customers: %w", err)
		}
		page.Items = append(page.Items, c)
		pinyins = append(pinyins, py)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list customers: %w", err)
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[f.Limit-1]
		key := ""
		switch strings.TrimPrefix(f.Sort, "-") {
		case "number":
			key = last.Number
		case "name":
			key = pinyins[f.Limit-1]
		}
		page.NextCursor = encodeSortCursor(f.Sort, key, last.ID)
	}
	return s.finish(ctx, p, page)
}

// withExtra scans a row of customerColumns followed by one more column.
type withExtra struct {
	rows  *sql.Rows
	extra any
}

func (e withExtra) Scan(dest ...any) error { return e.rows.Scan(append(dest, e.extra)...) }

// pgxExec makes pgx plan a statement with its parameters (the list's
// filters are where PostgreSQL's statistics know best).
const pgxExec = pgx.QueryExecModeExec

func encodeSortCursor(sort, key string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(sort + ":" + strconv.FormatInt(id, 10) + ":" + key))
}

func decodeSortCursor(c, sort string) (string, int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", 0, false
	}
	parts := strings.SplitN(string(raw), ":", 3)
	if len(parts) != 3 || parts[0] != sort {
		return "", 0, false
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	return parts[2], id, true
}

// finish loads the phones and contacts of a page and masks it for p.
func (s *Store) finish(ctx context.Context, p *identity.Principal, page Page) (Page, error) {
	ptrs := make([]*Customer, len(page.Items))
	for i := range page.Items {
		ptrs[i] = &page.Items[i]
	}
	if err := s.fillChildren(ctx, ptrs); err != nil {
		return Page{}, err
	}
	for i := range page.Items {
		page.Items[i] = ForViewer(p, page.Items[i])
	}
	return page, nil
}

// Count counts the customers matching f (the cursor aside) up to CountCap:
// exact at or below it; capped says there are more. Every count reads at
// most CountCap + 1 rows of an index or the table, never all matches.
func (s *Store) Count(ctx context.Context, p *identity.Principal, f Filter) (n int, capped bool, err error) {
	if !p.Can(identity.CustomersView) {
		return 0, false, fmt.Errorf("count customers: %w", domain.ErrForbidden)
	}
	q := ClassifyQuery(f.Q)
	d := s.db.Dialect
	if d == db.SQLite && shortQuery(q) {
		// The search already asks the index whether the prefix is common;
		// a common one has more than CountCap matches.
		common, err := s.commonPrefix(ctx, q)
		if err != nil {
			return 0, false, err
		}
		if common {
			return CountCap, true, nil
		}
	}
	f.Cursor, f.Limit = "", CountCap+1
	limit := strconv.Itoa(CountCap + 1)
	var sqlText string
	var args []any
	if d == db.Postgres && (q.Kind == QueryName || q.Kind == QueryPinyin) {
		sqlText, args = pgCountNames(q, f)
	} else {
		pl := s.searchPlan(d, q, f, 0, planNormal, 0)
		sqlText = `SELECT COUNT(*) FROM (SELECT 1 FROM ` + pl.from + ` WHERE ` + strings.Join(pl.w.conds, " AND ") + ` LIMIT ` + limit + `) AS m`
		args = pl.w.args
	}
	if d == db.Postgres {
		args = append([]any{pgxExec}, args...)
	}
	if err := s.db.RQ(ctx).QueryRowContext(ctx, sqlText, args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("count customers: %w", err)
	}
	if n > CountCap {
		return CountCap, true, nil
	}
	return n, false, nil
}

// pgCountNames counts name or pinyin matches on PostgreSQL: each prefix
// index read for at most CountCap + 1 entries, the union deduplicated; a
// substring through the trigram index, stopping at CountCap + 1.
func pgCountNames(q Query, f Filter) (string, []any) {
	var w where
	limit := strconv.Itoa(CountCap + 1)
	filters := f.conditions(&w)
	and := func(conds ...string) string {
		return strings.Join(append(append([]string{"merged_into IS NULL"}, conds...), filters...), " AND ")
	}
	var subs []string
	switch {
	case q.Kind == QueryPinyin:
		from, to := w.arg(q.Text), w.arg(q.Text+upper)
		for _, col := range []string{"name_pinyin", "name_initials", "name_pinyin_alt", "name_initials_alt"} {
			subs = append(subs, "(SELECT id FROM customers WHERE "+and(col+" <> ''", col+" ~>=~ "+from, col+" ~<~ "+to)+" LIMIT "+limit+")")
		}
	case len([]rune(q.Text)) < 3:
		for _, v := range caseVariants(q.Text) {
			subs = append(subs, "(SELECT id FROM customers WHERE "+and("name ~>=~ "+w.arg(v), "name ~<~ "+w.arg(v+upper))+" LIMIT "+limit+")")
		}
	default:
		subs = append(subs, "(SELECT id FROM customers WHERE "+and(substring(&w, db.Postgres, q.Text, false))+" LIMIT "+limit+")")
	}
	return "SELECT COUNT(*) FROM (" + strings.Join(subs, " UNION ") + ") AS m", w.args
}

// Staff is an active staff member who can own customers.
type Staff struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ActiveStaff lists the active staff by name, for the owner picker.
func (s *Store) ActiveStaff(ctx context.Context) ([]Staff, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, name FROM users WHERE active ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("active staff: %w", err)
	}
	defer rows.Close()
	out := []Staff{}
	for rows.Next() {
		var st Staff
		if err := rows.Scan(&st.ID, &st.Name); err != nil {
			return nil, fmt.Errorf("active staff: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// StaffNames returns the names of the given users (active or not), for the
// owner column and the record.
func (s *Store) StaffNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	list := make([]string, 0, len(ids))
	for _, id := range ids {
		list = append(list, strconv.FormatInt(id, 10))
	}
	// Integers formatted here: safe to inline, one statement per page.
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, name FROM users WHERE id IN (`+strings.Join(list, ",")+`)`)
	if err != nil {
		return nil, fmt.Errorf("staff names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("staff names: %w", err)
		}
		out[id] = name
	}
	return out, rows.Err()
}
