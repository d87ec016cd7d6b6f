package customers

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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

// CountWindow bounds the rows a count of the filtered list examines (a
// variable for tests). Without filters every row of the search's path is
// a match, so reading CountCap + 1 of them settles the count. With filters
// a rare one (a seldom-used tag, a common name with a rare tier) may reject
// almost every row, and counting on to CountCap + 1 matches would read the
// whole path: a million rows for the plain list, every candidate of a
// common name. So a narrowed count examines at most CountCap + 1 rows of
// the search's own path (read at random by id), or CountWindow customers
// when the path is a scan in id order (the plain list, a common short
// prefix on SQLite), and answers a lower bound when the path goes on.
var CountWindow = 5000

// PageTotal counts the matches of the page p of f, the search's answer:
// a first page with no next page holds them all (no query); any other
// page asks Count.
func (s *Store) PageTotal(ctx context.Context, p *identity.Principal, f Filter, page Page) (n int, capped bool, err error) {
	if f.Cursor == "" && page.NextCursor == "" {
		return len(page.Items), false, nil
	}
	if k := ClassifyQuery(f.Q).Kind; (k == QueryName || k == QueryPinyin) && page.NextCursor != "" {
		// A name or pinyin search that fills its page answers "more than
		// this page": counting its matches as well doubled the cost of the
		// search box at 8 connections (1,000,000 customers, SQLite: p99 of
		// initials 21 → 41 ms, past the 30 ms floor).
		return len(page.Items) + 1, true, nil
	}
	n, capped, err = s.Count(ctx, p, f)
	if err == nil && capped {
		// A lower bound is at least this page and, when there is one, the
		// next customer.
		seen := len(page.Items)
		if page.NextCursor != "" {
			seen++
		}
		n = max(n, seen)
	}
	return n, capped, err
}

// Count counts the customers matching f (the cursor aside). Without list
// filters it is exact up to CountCap and capped says there are more; every
// such count reads at most CountCap + 1 rows of an index or the table.
// With filters it examines at most CountWindow rows of the search's path:
// exact when the path ends within them, else capped with n the matches
// seen, a lower bound ("n+"). capped thus always means "at least n, the
// count stopped there".
func (s *Store) Count(ctx context.Context, p *identity.Principal, f Filter) (n int, capped bool, err error) {
	if !p.Can(identity.CustomersView) {
		return 0, false, fmt.Errorf("count customers: %w", domain.ErrForbidden)
	}
	q := ClassifyQuery(f.Q)
	d := s.db.Dialect
	narrowed := f.narrowed()
	window := CountCap + 1
	if narrowed && q.Kind == QueryEmpty {
		window = max(CountWindow, window)
	}
	var common bool
	if d == db.SQLite && shortQuery(q) {
		// The search already asks the index whether the prefix is common;
		// a common one has more than CountCap matches.
		if common, err = s.commonPrefix(ctx, q); err != nil {
			return 0, false, err
		}
		if common && !narrowed {
			return CountCap, true, nil
		}
	}
	f.Cursor = ""
	path := Filter{Q: f.Q, Limit: window}
	var sqlText string
	var args []any
	ended := func(examined int) bool { return examined < window }
	if _, text := textQuery(q); q.Kind == QueryName && (utf8.RuneCountInString(q.Text) >= 3 || text) {
		n, capped, rare, err := s.countSubstring(ctx, q, f)
		if err != nil || !rare {
			return n, capped, err
		}
		// Rare among the newest: counted along the index, as below.
	}
	switch {
	case d == db.Postgres && (q.Kind == QueryName || q.Kind == QueryPinyin):
		sqlText, args = pgCountNames(q, f, window)
	case common:
		// A common prefix with filters: the newest window customers, in id
		// order, as the search scans them first.
		top, err := s.newestID(ctx, 0)
		if err != nil {
			return 0, false, err
		}
		lo := top - int64(max(CountWindow, window))
		pl := s.searchPlan(d, q, path, 0, planWindow, lo)
		sqlText, args = countSQL(pl, f, 0, "")
		ended = func(int) bool { return lo <= 0 }
	default:
		pl := s.searchPlan(d, q, path, 0, planNormal, 0)
		order := ""
		if q.Kind == QueryEmpty {
			order = "id DESC" // the newest customers, where the first page is
		}
		sqlText, args = countSQL(pl, f, window, order)
	}
	if d == db.Postgres {
		args = append([]any{pgxExec}, args...)
	}
	var examined int
	if err := s.db.RQ(ctx).QueryRowContext(ctx, sqlText, args...).Scan(&examined, &n); err != nil {
		return 0, false, fmt.Errorf("count customers: %w", err)
	}
	switch {
	case n > CountCap:
		return CountCap, true, nil
	case ended(examined):
		return n, false, nil
	}
	return n, true, nil
}

// countSubstring counts a name substring (three characters or more)
// among the newest CountWindow customers first. On PostgreSQL the trigram
// index cannot stop early (a bitmap of every match is built first: 有限公司
// has 250,000), nor can a scan in table order when the substring is rare
// (all million rows); on SQLite the trigram index stops early, but every
// match it yields is a customer row read at random (1,001 of them cost more
// than the search). So: more than CountCap matches in the window is
// "1,000+"; a window over every customer is exact; a substring so rare
// there that at this rate it has at most pgIndexRowsSubstring matches in
// all is rare, and the caller counts it along the index (the search reads
// those same rows); else the matches of the window are a lower bound.
func (s *Store) countSubstring(ctx context.Context, q Query, f Filter) (n int, capped, rare bool, err error) {
	top, err := s.newestID(ctx, 0)
	if err != nil {
		return 0, false, false, err
	}
	lo := top - int64(CountWindow)
	d := s.db.Dialect
	var w where
	from := "customers"
	conds := []string{"merged_into IS NULL"}
	tq, text := textQuery(q)
	switch {
	case d == db.Postgres && text:
		// The text query's term is in the index exactly when the name
		// holds the two characters.
		conds = append(conds, "id > "+w.arg(lo), `strpos(name COLLATE "C", `+w.arg(q.Text)+") > 0")
	case d == db.Postgres:
		conds = append(conds, "id > "+w.arg(lo), substring(&w, d, q.Text, false))
	case text:
		from = "(SELECT id AS fts_id FROM (" + nameIndex.IDs(d, w.arg(tq.Arg(d))) + ") WHERE id > " + w.arg(lo) +
			") AS f JOIN customers ON customers.id = f.fts_id"
	default:
		key := ftsKey(q.Text)
		from = "(SELECT rowid AS fts_id FROM customers_fts WHERE customers_fts MATCH " + w.arg(ftsPhrase(key)) +
			" AND rowid > " + w.arg(lo) + ") AS f JOIN customers ON customers.id = f.fts_id"
		if key != q.Text {
			conds = append(conds, "name LIKE "+w.arg("%"+escapeLike(q.Text)+"%")+` ESCAPE '\'`)
		}
	}
	hit := "1"
	if fc := f.conditions(&w); len(fc) > 0 {
		hit = "CASE WHEN " + strings.Join(fc, " AND ") + " THEN 1 END"
	}
	sqlText := "SELECT COUNT(*), COUNT(hit) FROM (SELECT " + hit + " AS hit FROM " + from + " WHERE " + strings.Join(conds, " AND ") +
		" LIMIT " + strconv.Itoa(CountCap+1) + ") AS m"
	args := w.args
	if d == db.Postgres {
		args = append([]any{pgxExec}, args...)
	}
	var examined int
	if err := s.db.RQ(ctx).QueryRowContext(ctx, sqlText, args...).Scan(&examined, &n); err != nil {
		return 0, false, false, fmt.Errorf("count customers: %w", err)
	}
	switch {
	case n > CountCap:
		return CountCap, true, false, nil
	case examined > CountCap:
		return n, true, false, nil // the window is full of the substring; the filters keep n
	case lo <= 0:
		return n, false, false, nil
	case int64(examined)*top <= int64(pgIndexRowsSubstring)*int64(CountWindow):
		return 0, false, true, nil
	}
	return n, true, false, nil
}

// countSQL counts the rows of a search plan made without f's filters (at
// most limit of them in the given order, 0 for all) and, among them, those
// the filters keep: two columns, examined and matches.
func countSQL(pl plan, f Filter, limit int, order string) (string, []any) {
	hit := "1"
	if conds := f.conditions(&pl.w); len(conds) > 0 {
		hit = "CASE WHEN " + strings.Join(conds, " AND ") + " THEN 1 END"
	}
	sqlText := `SELECT ` + hit + ` AS hit FROM ` + pl.from + ` WHERE ` + strings.Join(pl.w.conds, " AND ")
	if order != "" {
		sqlText += ` ORDER BY ` + order
	}
	if limit > 0 {
		sqlText += ` LIMIT ` + strconv.Itoa(limit)
	}
	return `SELECT COUNT(*), COUNT(hit) FROM (` + sqlText + `) AS m`, pl.w.args
}

// pgCountNames counts name or pinyin matches on PostgreSQL: each prefix
// index read for at most limit entries, the union deduplicated; a
// substring through the trigram index, stopping at limit. The list filters
// are checked on the customers so found: two columns, examined and
// matches.
func pgCountNames(q Query, f Filter, limit int) (string, []any) {
	var w where
	lim := strconv.Itoa(limit)
	and := func(conds ...string) string {
		return strings.Join(append([]string{"merged_into IS NULL"}, conds...), " AND ")
	}
	var subs []string
	switch {
	case q.Kind == QueryPinyin:
		from, to := w.arg(q.Text), w.arg(q.Text+upper)
		for _, col := range []string{"name_pinyin", "name_initials", "name_pinyin_alt", "name_initials_alt"} {
			subs = append(subs, "(SELECT id FROM customers WHERE "+and(col+" <> ''", col+" ~>=~ "+from, col+" ~<~ "+to)+" LIMIT "+lim+")")
		}
	case isText(q):
		tq, _ := textQuery(q)
		subs = append(subs, "(SELECT id FROM customers WHERE "+and("id IN ("+nameIndex.IDs(db.Postgres, w.arg(tq.Arg(db.Postgres)))+")")+" LIMIT "+lim+")")
	case len([]rune(q.Text)) < 3:
		for _, v := range caseVariants(q.Text) {
			subs = append(subs, "(SELECT id FROM customers WHERE "+and("name ~>=~ "+w.arg(v), "name ~<~ "+w.arg(v+upper))+" LIMIT "+lim+")")
		}
	default:
		subs = append(subs, "(SELECT id FROM customers WHERE "+and(substring(&w, db.Postgres, q.Text, false))+" LIMIT "+lim+")")
	}
	ids := "(" + strings.Join(subs, " UNION ") + ")"
	conds := f.conditions(&w)
	if len(conds) == 0 {
		return "SELECT COUNT(*), COUNT(*) FROM " + ids + " AS m", w.args
	}
	// At most limit customers read for the filters; the union is below
	// limit only when every index read ended before it.
	return "SELECT COUNT(*), COUNT(CASE WHEN " + strings.Join(conds, " AND ") + " THEN 1 END) FROM customers WHERE id IN (SELECT id FROM " +
		ids + " AS u LIMIT " + lim + ")", w.args
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
