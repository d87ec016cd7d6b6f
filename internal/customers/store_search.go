package customers

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// upper is a bound above every string starting with a prefix.
const upper = "\U0010FFFF"

// where builds the conditions of a search statement and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// prefix matches column against a prefix with an index on either database:
// a range in byte order, which a text_pattern_ops index serves on
// PostgreSQL (with a parameter too, where LIKE needs the pattern at
// planning) and a BINARY index on SQLite. noIndex writes it so that no
// index applies (a leading + on SQLite), for scans in id order.
func (w *where) prefix(d db.Dialect, column, p string, noIndex bool) string {
	if d == db.Postgres {
		return "(" + column + " ~>=~ " + w.arg(p) + " AND " + column + " ~<~ " + w.arg(p+upper) + ")"
	}
	if noIndex {
		column = "+" + column
	}
	return "(" + column + " >= " + w.arg(p) + " AND " + column + " < " + w.arg(p+upper) + ")"
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func ftsPhrase(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Search plans. Every search is "the newest matching customers first", so
// the statement must not collect every match before sorting when a common
// query ("有限公司", "zw", "北京") matches tens of thousands of customers, nor
// scan the table in id order when a rare one matches five.
//
//   - Exact keys (phone, last 4 digits, number, email, serial) and prefixes
//     select candidate ids through an index in a subquery: id IN (SELECT …).
//     SQLite keeps the candidates as a sorted rowid list and walks it from the
//     newest, stopping at the page size, so even 40,000 candidates cost a
//     couple of milliseconds of index reading and only a page of row reads.
//   - Substrings of three characters or more on SQLite are driven by the
//     FTS5 trigram index in descending rowid order (it yields its matches
//     newest first and lazily), joined to customers: a common substring stops
//     after one page, a rare one reads only its matches.
//   - Short prefixes on SQLite ("z", "zw", "北京") can match from a percent
//     to a third of all customers, and a rowid list of 40,000 candidates
//     costs 20 ms to build. When a bounded count in the index says the
//     prefix is common, they first try the newest scanWindow customers in
//     id order and use the index only when that does not fill a page.
//   - Two CJK characters (张伟, 华强) are a substring anywhere in the name,
//     one term of the text index (nameindex.go), which on SQLite drives the
//     search newest first as the trigram index does.
//   - A full company name is looked up in the trigram index by its part
//     without boilerplate (see ftsKey) and checked on the row.
//   - On PostgreSQL the code, not the planner, chooses the plan: planning
//     a search cost more than running it (a millisecond against a few
//     tenths, most of it in the statistics of the name columns), and the
//     planner's estimates for names go wrong both ways (a sampled "汪欣怡"
//     looks ten times more common than it is; a substring shared by 1 %
//     looks rare). So every search statement is shaped to have one right
//     plan whatever its parameters (index conditions written as ranges,
//     id + 0 where the primary key must not be walked) and runs on the
//     ShapedQ pool, which plans each statement once per connection.
//   - Names and pinyin on PostgreSQL are one statement (pgNames) that
//     picks its way as it runs: a rare prefix from the name indexes, which
//     carry the id; a common one, and any substring, from a scan of the
//     newest customers, then a wider scan sized by the rate met there, and
//     the indexes only for what remains of a rare substring.
//   - Exact keys (phone, last 4, number, serial, email) list candidate ids
//     from their indexes and sort them; the last 4 digits, shared by one
//     customer in ten thousand, take only a page of distinct customer ids
//     from the index, newest first.

// A short prefix query on SQLite matching commonCount customers or more
// first scans at most scanWindow of the newest customers (2 ms; a prefix
// shared by 0.3 % of the customers fills a page within 7,000) before it
// falls back to the index. Name and pinyin prefixes on PostgreSQL matching
// at most pgFew customers are answered from the indexes; others first scan
// pgWindow of the newest. When the hits there, at that rate, foretell more
// than pgIndexRows matches further down (pgIndexRowsSubstring for a
// substring), a wider window follows; fewer are read from the indexes.
// Reading an entry of a name index costs a quarter of a microsecond, one
// customer in the id-ordered scan a third, a trigram match's row one or two
// (0.3 % of 1,000,000 customers: 2 ms either way). A match of the text
// index (two characters) costs a read of its row in customer_text, some
// 7 µs when it is not cached: the wider window takes over from
// pgIndexRowsText matches (张伟, in 1,955 names: 14 ms from the index, 6
// from a window of 21,000).
var (
	commonCount          = 3000
	scanWindow           = 8000
	pgWindow             = 1000
	pgFew                = 200
	pgIndexRows          = 5000
	pgIndexRowsSubstring = 2000
	pgIndexRowsText      = 1000
)

// planMode says how a plan finds its rows.
type planMode uint8

const (
	planNormal planMode = iota // as the indexes say
	planWindow                 // only customers with id > lo, in id order (SQLite)
)

// plan is one way to run a search: the FROM clause, the column that orders
// the result (and takes the cursor), the ORDER BY clause and the
// conditions.
type plan struct {
	from, order, orderBy string
	w                    where
}

// Search lists customers matching f, newest first, as the caller may see
// them (masked without customers.contact_view).
func (s *Store) Search(ctx context.Context, p *identity.Principal, f Filter) (Page, error) {
	if !p.Can(identity.CustomersView) {
		return Page{}, fmt.Errorf("search customers: %w", domain.ErrForbidden)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 20
	}
	if err := checkSort(f.Sort); err != nil {
		return Page{}, err
	}
	if f.Sort != "" && f.Sort != SortNewest && ClassifyQuery(f.Q).Kind == QueryEmpty {
		return s.sorted(ctx, p, f)
	}
	var cursor int64
	if f.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		id, perr := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || perr != nil || id <= 0 {
			return Page{}, domain.Invalid("cursor", "validation.cursor", nil)
		}
		cursor = id
	}
	q := ClassifyQuery(f.Q)
	page := Page{Items: []Customer{}, Kind: q.Kind.String(), Sort: SortNewest}
	d := s.db.Dialect
	window := 0
	done := false
	switch {
	case d == db.SQLite && shortQuery(q):
		common, err := s.commonPrefix(ctx, q)
		if err != nil {
			return Page{}, err
		}
		if common {
			window = scanWindow
		}
	case d == db.Postgres && (q.Kind == QueryName || q.Kind == QueryPinyin):
		items, err := s.pgNames(ctx, q, f, cursor)
		if err != nil {
			return Page{}, err
		}
		page.Items, done = items, true
	}
	if window > 0 {
		// Try the newest customers first: a common query fills the page
		// there.
		top, err := s.newestID(ctx, cursor)
		if err != nil {
			return Page{}, err
		}
		lo := top - int64(window)
		items, err := s.searchRows(ctx, s.searchPlan(d, q, f, cursor, planWindow, lo), f.Limit+1, false)
		if err != nil {
			return Page{}, err
		}
		if len(items) > f.Limit || lo <= 0 { // a page, or every customer looked at
			page.Items, done = items, true
		}
	}
	if !done {
		items, err := s.searchRows(ctx, s.searchPlan(d, q, f, cursor, planNormal, 0), f.Limit+1, q.Kind == QueryEmpty)
		if err != nil {
			return Page{}, err
		}
		page.Items = items
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(page.Items[f.Limit-1].ID, 10)))
	}
	return s.finish(ctx, p, page)
}

// newestID returns the newest customer id (below the cursor, when there is
// one), where the windows of the newest customers start.
func (s *Store) newestID(ctx context.Context, cursor int64) (int64, error) {
	var top int64
	var err error
	if cursor > 0 {
		err = s.db.RQ(ctx).QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM customers WHERE id < $1`, cursor).Scan(&top)
	} else {
		err = s.db.RQ(ctx).QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM customers`).Scan(&top)
	}
	if err != nil {
		return 0, fmt.Errorf("search customers: %w", err)
	}
	return top, nil
}

// shortQuery tells whether q is a short prefix query ("张", "北京", "zw"),
// which may match a large share of all customers.
func shortQuery(q Query) bool {
	switch q.Kind {
	case QueryPinyin:
		return len(q.Text) <= 3
	case QueryName:
		if _, ok := textQuery(q); ok {
			return false // a substring, from the text index
		}
		return utf8.RuneCountInString(q.Text) < 3
	}
	return false
}

// commonPrefix tells whether a short prefix query matches at least
// commonCount customers, counting no further in the covering indexes
// (0.05 ms per thousand entries on SQLite).
func (s *Store) commonPrefix(ctx context.Context, q Query) (bool, error) {
	cols := []string{"name"}
	if q.Kind == QueryPinyin {
		cols = []string{"name_initials", "name_pinyin"}
	}
	texts := []string{q.Text}
	if q.Kind == QueryName {
		texts = caseVariants(q.Text)
	}
	var w where
	var counts []string
	for _, c := range cols {
		for _, t := range texts {
			counts = append(counts, "(SELECT COUNT(*) FROM (SELECT 1 FROM customers WHERE "+w.prefix(db.SQLite, c, t, false)+
				" LIMIT "+strconv.Itoa(commonCount)+"))")
		}
	}
	var n int
	if err := s.db.RQ(ctx).QueryRowContext(ctx, "SELECT "+strings.Join(counts, " + "), w.args...).Scan(&n); err != nil {
		return false, fmt.Errorf("search customers: %w", err)
	}
	return n >= commonCount, nil
}

// boilerplate are words that a large share of company names contain. A
// trigram phrase made of them costs FTS5 a walk through very long lists
// when the rest of the query is rare (a full company name), so the index is
// asked for the rarest-looking part and the whole text is checked on the
// row.
var boilerplate = []string{"股份有限公司", "有限责任公司", "有限公司", "集团", "分公司", "公司", "有限", "股份", "责任",
	"科技", "技术", "信息", "网络", "电子", "软件", "实业", "贸易", "工程", "设备", "管理", "服务", "发展", "中国"}

// ftsKey returns the part of a substring query to look up in the trigram
// index: the longest run of at least three characters free of boilerplate,
// or the whole text.
func ftsKey(text string) string {
	marked := text
	for _, b := range boilerplate {
		marked = strings.ReplaceAll(marked, b, "\x00")
	}
	best := ""
	for _, run := range strings.Split(marked, "\x00") {
		if utf8.RuneCountInString(run) > utf8.RuneCountInString(best) {
			best = run
		}
	}
	if utf8.RuneCountInString(best) < 3 {
		return text
	}
	return best
}

// searchPlan builds the statement of a search (see the comment above plan)
// in the given mode; planWindow looks at the customers with id > lo. Names
// and pinyin on PostgreSQL are pgNames's.
func (s *Store) searchPlan(d db.Dialect, q Query, f Filter, cursor int64, mode planMode, lo int64) plan {
	pl := plan{from: "customers", order: "id", orderBy: "id DESC"}
	w := &pl.w
	w.add("merged_into IS NULL")
	// ids lists candidate customers from an index. On PostgreSQL they are
	// sorted (id + 0): a generic plan must not walk the primary key
	// backwards hoping to meet them.
	ids := func(sub string) {
		w.add("id IN (" + sub + ")")
		if d == db.Postgres {
			pl.orderBy = "id + 0 DESC"
		}
	}
	scan := mode == planWindow
	switch q.Kind {
	case QueryEmpty:
	case QueryPhoneSuffix:
		if !f.narrowed() {
			// Only live customers have phones (merging moves them, erasing
			// deletes them), so the newest distinct owners of the suffix in
			// the index are the page.
			sub := "SELECT DISTINCT customer_id FROM customer_phones WHERE last4 = " + w.arg(q.Text)
			if cursor > 0 {
				sub += " AND customer_id < " + w.arg(cursor)
			}
			ids(sub + " ORDER BY customer_id DESC LIMIT " + strconv.Itoa(f.Limit+1))
			break
		}
		ids("SELECT customer_id FROM customer_phones WHERE last4 = " + w.arg(q.Text))
	case QueryPhone:
		ids("SELECT customer_id FROM customer_phones WHERE phone = " + w.arg(q.Text))
	case QueryCustomerNumber:
		n := w.arg(q.Text)
		ids("SELECT id FROM customers WHERE number = " + n + " UNION ALL SELECT customer_id FROM customer_number_redirects WHERE number = " + n)
	case QueryEmail:
		ids("SELECT id FROM customers WHERE " + w.prefix(d, "email", q.Text, false))
	case QueryPinyin:
		cols := []string{"name_pinyin", "name_initials", "name_pinyin_alt", "name_initials_alt"}
		if scan {
			var alts []string
			for _, c := range cols {
				alts = append(alts, w.prefix(d, c, q.Text, true))
			}
			w.add("(" + strings.Join(alts, " OR ") + ")")
			break
		}
		var subs []string
		for _, c := range cols {
			subs = append(subs, "SELECT id FROM customers WHERE "+c+" <> '' AND "+w.prefix(d, c, q.Text, false))
		}
		ids(strings.Join(subs, " UNION ALL "))
	case QueryName:
		tq, text := textQuery(q)
		switch {
		case text && d == db.SQLite:
			// Two characters anywhere in the name: the text index yields
			// its matches newest first and lazily, as the trigram one.
			pl.from = "(SELECT id AS fts_id FROM (" + nameIndex.IDs(d, w.arg(tq.Arg(d))) + ")) AS f JOIN customers ON customers.id = f.fts_id"
			pl.order, pl.orderBy = "f.fts_id", "f.fts_id DESC"
		case text:
			ids(nameIndex.IDs(d, w.arg(tq.Arg(d))))
		case scan:
			w.add(substring(w, d, q.Text, true))
		case utf8.RuneCountInString(q.Text) >= 3:
			key := ftsKey(q.Text)
			pl.from = "(SELECT rowid AS fts_id FROM customers_fts WHERE customers_fts MATCH " + w.arg(ftsPhrase(key)) +
				") AS f JOIN customers ON customers.id = f.fts_id"
			pl.order, pl.orderBy = "f.fts_id", "f.fts_id DESC"
			if key != q.Text {
				// LIKE folds ASCII case as the trigram index does.
				w.add("name LIKE " + w.arg("%"+escapeLike(q.Text)+"%") + ` ESCAPE '\'`)
			}
		default:
			ids("SELECT id FROM customers WHERE " + substring(w, d, q.Text, false))
		}
	default:
		// Serial numbers keep the case they were typed in (the query text is
		// lower-cased), so match the raw text and its upper case.
		raw := strings.TrimSpace(f.Q)
		live := ""
		if d == db.Postgres {
			// The name prefix index leaves merged customers out: say so,
			// or it does not apply.
			live = "merged_into IS NULL AND "
		}
		names := "SELECT id FROM customers WHERE " + live + substring(w, d, q.Text, false)
		if d == db.SQLite && utf8.RuneCountInString(q.Text) >= 3 {
			names = "SELECT rowid FROM customers_fts WHERE customers_fts MATCH " + w.arg(ftsPhrase(q.Text))
		}
		ids(names + " UNION ALL SELECT customer_id FROM customer_products WHERE serial <> '' AND serial IN (" +
			w.arg(raw) + ", " + w.arg(strings.ToUpper(raw)) + ")")
	}
	if d == db.Postgres && q.Kind == QueryEmpty && f.Lifecycle != "" {
		// The list by stage walks customers_stage newest first. Written as
		// an equality, the planner reckons the stage spread evenly over the
		// ids and walks the primary key instead, past every newer customer
		// of another stage (churned customers are all old ones: 37,000 rows,
		// 15 ms). As a range with the index's order it must take the index.
		v := w.arg(f.Lifecycle)
		w.add(stageExpr + " >= " + v + " AND " + stageExpr + " <= " + v)
		pl.orderBy = stageExpr + " DESC, id DESC"
		f.Lifecycle = ""
	}
	for _, c := range f.conditions(w) {
		w.add(c)
	}
	if cursor > 0 {
		w.add(pl.order + " < " + w.arg(cursor))
	}
	if mode == planWindow {
		// A constant bound, not a subquery: SQLite then walks the rowids
		// from the newest down to it.
		w.add("id > " + w.arg(lo))
	}
	return pl
}

// stageExpr is the effective lifecycle stage, the expression of the index
// customers_stage.
const stageExpr = "(CASE WHEN lifecycle_override <> '' THEN lifecycle_override ELSE lifecycle END)"

// substring matches names containing s (prefix below three characters:
// the trigram indexes need three); noIndex as for prefix. On SQLite the
// FTS5 table serves indexed substrings; callers use it directly. ILIKE on
// PostgreSQL ignores case as the FTS5 trigram index does (the query text is
// lower-cased).
func substring(w *where, d db.Dialect, s string, noIndex bool) string {
	if utf8.RuneCountInString(s) < 3 {
		var alts []string
		for _, v := range caseVariants(s) {
			alts = append(alts, w.prefix(d, "name", v, noIndex))
		}
		return "(" + strings.Join(alts, " OR ") + ")"
	}
	if d == db.Postgres {
		op := "LIKE"
		if hasCase(s) {
			op = "ILIKE" // slower: only when case matters
		}
		return "name " + op + " " + w.arg("%"+escapeLike(s)+"%") + ` ESCAPE '\'`
	}
	return "name LIKE " + w.arg("%"+escapeLike(s)+"%") + ` ESCAPE '\'`
}

// caseVariants returns s with every cased letter in either case ("3m":
// "3m", "3M"), for prefixes of names, which keep the case they were
// written in while the query text is lower-cased. Prefixes are under three
// characters, so there are at most four (more letters: s alone).
func caseVariants(s string) []string {
	out := []string{""}
	for _, r := range s {
		lo, up := unicode.ToLower(r), unicode.ToUpper(r)
		next := make([]string, 0, 2*len(out))
		for _, p := range out {
			next = append(next, p+string(lo))
			if up != lo {
				next = append(next, p+string(up))
			}
		}
		out = next
		if len(out) > 4 {
			return []string{s}
		}
	}
	return out
}

// hasCase tells whether s has letters with an upper and a lower case.
func hasCase(s string) bool { return strings.ToUpper(s) != strings.ToLower(s) }

// searchRows runs a search plan and returns at most limit customers. The
// list without a search text keeps PostgreSQL's planning with the
// parameters: its filters (tier, type, stage) are where the statistics
// know best. Searches run shaped (see the comment above plan).
func (s *Store) searchRows(ctx context.Context, pl plan, limit int, listOnly bool) ([]Customer, error) {
	sqlText := `SELECT ` + customerColumns + ` FROM ` + pl.from + ` WHERE ` + strings.Join(pl.w.conds, " AND ") +
		` ORDER BY ` + pl.orderBy + ` LIMIT ` + strconv.Itoa(limit)
	if !listOnly {
		return s.queryCustomers(ctx, s.db.ShapedQ(ctx), sqlText, pl.w.args)
	}
	args := pl.w.args
	if s.db.Dialect == db.Postgres {
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	return s.queryCustomers(ctx, s.db.RQ(ctx), sqlText, args)
}

// queryCustomers runs a statement selecting customerColumns.
func (s *Store) queryCustomers(ctx context.Context, q db.Querier, sqlText string, args []any) ([]Customer, error) {
	rows, err := q.QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	defer rows.Close()
	items := []Customer{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("search customers: %w", err)
		}
		items = append(items, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	return items, nil
}
