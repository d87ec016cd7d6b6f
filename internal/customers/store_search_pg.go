package customers

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/db"
)

// The PostgreSQL search of names and pinyin: one statement that picks its
// way at run time (see the comment above plan in store_search.go).

// window matches a column against a prefix in the scans of the newest
// customers: byte comparisons in the C collation, which no index serves
// (so the scan stays in id order) and which cost a tenth of starts_with,
// which counts characters and looks the collation up on every row.
func window(col, from, to string) string {
	return "(" + col + ` COLLATE "C" >= ` + from + " AND " + col + ` COLLATE "C" < ` + to + ")"
}

// pgNames searches names or pinyin on PostgreSQL in one statement. A
// prefix (a name under three characters, pinyin, initials) first counts its
// matches in the name indexes, which carry the id, reading at most
// pgFew + 1: a rare one (most searches are for one customer) is answered
// from them, and only its page of rows is read. A common prefix, and every
// substring (whose trigram index cannot stop early), scans the newest
// pgWindow customers; when they hold less than a page, the matches below
// the window come from the indexes.
func (s *Store) pgNames(ctx context.Context, q Query, f Filter, cursor int64) ([]Customer, error) {
	var w where
	n := w.arg(f.Limit + 1)
	below := int64(math.MaxInt64)
	if cursor > 0 {
		below = cursor
	}
	c := w.arg(below)
	common := append([]string{"merged_into IS NULL", "id < " + c}, f.conditions(&w)...)
	and := func(conds ...string) string {
		return strings.Join(append(slices.Clone(common), conds...), " AND ")
	}
	const (
		inWindow    = "id > (SELECT lo FROM bound)"
		inWider     = "id <= (SELECT lo FROM bound) AND id > (SELECT lo FROM wider)"
		belowWindow = "id <= (SELECT lo FROM wider)"
		unfilled    = "(SELECT COUNT(*) FROM recent) + (SELECT COUNT(*) FROM mid) < " // + n
	)
	few := strconv.Itoa(pgFew)
	// matching lists the ids matching a prefix in the indexes, with extra
	// conditions (a customer can match by pinyin and initials: twice).
	var matching func(extra ...string) string
	var match, older string
	switch {
	case q.Kind == QueryPinyin:
		from, to := w.arg(q.Text), w.arg(q.Text+upper)
		var alts []string
		cols := []string{"name_pinyin", "name_initials", "name_pinyin_alt", "name_initials_alt"}
		for _, col := range cols {
			alts = append(alts, window(col, from, to))
		}
		matching = func(extra ...string) string {
			var subs []string
			for _, col := range cols {
				// The alternative readings' indexes leave out the empty ones.
				subs = append(subs, "SELECT id FROM customers WHERE "+
					and(append([]string{col + " <> ''", col + " ~>=~ " + from, col + " ~<~ " + to}, extra...)...))
			}
			return strings.Join(subs, " UNION ALL ")
		}
		match = "(" + strings.Join(alts, " OR ") + ")"
		// A customer is in the union once per matching column: the newest
		// four pages hold a page of distinct customers, and the final IN
		// drops the repeats (sorting a page is cheaper than hashing every
		// match to drop them first).
		older = "SELECT id FROM (" + matching(belowWindow, unfilled+n, "(SELECT COUNT(*) FROM cand) > "+few) +
			") AS u ORDER BY id DESC LIMIT 4 * " + n
	case utf8.RuneCountInString(q.Text) < 3 && !isText(q):
		// Names keep the case they were written in: "a座" is also "A座".
		type bounds struct{ from, to string }
		var vs []bounds
		var alts []string
		for _, v := range caseVariants(q.Text) {
			b := bounds{w.arg(v), w.arg(v + upper)}
			vs = append(vs, b)
			alts = append(alts, window("name", b.from, b.to))
		}
		matching = func(extra ...string) string {
			var subs []string
			for _, b := range vs {
				subs = append(subs, "SELECT id FROM customers WHERE "+
					and(append([]string{"name ~>=~ " + b.from, "name ~<~ " + b.to}, extra...)...))
			}
			return strings.Join(subs, " UNION ALL ")
		}
		match = "(" + strings.Join(alts, " OR ") + ")"
		// The variants' ranges do not overlap: no customer twice.
		older = "SELECT id FROM (" + matching(belowWindow, unfilled+n, "(SELECT COUNT(*) FROM cand) > "+few) +
			") AS u ORDER BY id + 0 DESC LIMIT " + n
	default:
		// A substring: the trigram index by the part without boilerplate
		// (ftsKey), the whole text checked on the row; two characters, the
		// text index (see textQuery). The query text is lower-cased; names
		// with Latin letters compare in lower case.
		text := w.arg(q.Text)
		name := "name"
		if hasCase(q.Text) {
			name = "lower(name)"
		}
		name += ` COLLATE "C"` // bytes: no locale looked up per row
		match = "strpos(" + name + ", " + text + ") > 0"
		tq, isText := textQuery(q)
		if !isText {
			conds := []string{substring(&w, db.Postgres, ftsKey(q.Text), false), belowWindow, unfilled + n}
			if ftsKey(q.Text) != q.Text {
				conds = append(conds, "strpos("+name+", "+text+") > 0")
			}
			older = "SELECT id FROM customers WHERE " + and(conds...) + " ORDER BY id + 0 DESC LIMIT " + n
		} else {
			// Two characters: the text index, whose term the name holds
			// exactly when it holds the two characters (so the windows
			// check strpos). Driven from the index's matches, sorted
			// newest first, each customer then checked by its primary key
			// in a scalar subquery until a page is found: as a join, the
			// generic plan hashed the matches and walked the whole primary
			// key of customers (0.5 s); id + 0, or it intersected the
			// matches with the index table's primary key below the window.
			older = "SELECT id FROM (SELECT t.id FROM (" + nameIndex.IDs(db.Postgres, w.arg(tq.Arg(db.Postgres))) + ") AS t WHERE t.id + 0 <= (SELECT lo FROM wider) AND " +
				unfilled + n + " ORDER BY t.id + 0 DESC OFFSET 0) AS m WHERE (SELECT TRUE FROM customers WHERE customers.id = m.id AND " + and() + ") LIMIT " + n
		}
	}
	// Without candidates (substrings) the window always runs.
	cand := "SELECT NULL::bigint AS id WHERE FALSE"
	direct := "SELECT NULL::bigint AS id WHERE FALSE"
	commonPrefix := "TRUE"
	indexRows := pgIndexRowsSubstring
	if isText(q) {
		indexRows = pgIndexRowsText
	}
	if matching != nil {
		indexRows = pgIndexRows
		cand = matching() + " LIMIT " + few + " + 1"
		direct = "SELECT DISTINCT id FROM cand WHERE (SELECT COUNT(*) FROM cand) <= " + few + " ORDER BY id DESC LIMIT " + n
		commonPrefix = "(SELECT COUNT(*) FROM cand) > " + few
	}
	// The wider window holds twice a page at the rate met in the first one;
	// h hits there foretell h × lo / pgWindow matches below it.
	window := strconv.Itoa(pgWindow)
	sqlText := `WITH cand AS MATERIALIZED (` + cand + `),
	direct AS MATERIALIZED (` + direct + `),
	bound AS MATERIALIZED (SELECT COALESCE(MAX(id), 0) - ` + window + ` AS lo FROM customers WHERE id < ` + c + `),
	recent AS MATERIALIZED (SELECT id FROM customers WHERE ` + and(inWindow, match, commonPrefix) + ` ORDER BY id DESC LIMIT ` + n + `),
	wider AS MATERIALIZED (SELECT CASE WHEN h < ` + n + ` AND h * lo > ` + strconv.Itoa(indexRows) + `::bigint * ` + window + `
		THEN lo - (` + window + ` * CEIL(2.0 * ` + n + ` / h))::bigint ELSE lo END AS lo
		FROM (SELECT (SELECT lo FROM bound) AS lo, (SELECT COUNT(*) FROM recent) AS h) AS first),
	mid AS MATERIALIZED (SELECT id FROM customers WHERE ` + and(inWider, match) + ` ORDER BY id DESC LIMIT ` + n + `),
	older AS MATERIALIZED (` + older + `)
	SELECT ` + customerColumns + ` FROM customers
	WHERE id IN (SELECT id FROM direct UNION ALL SELECT id FROM recent UNION ALL SELECT id FROM mid UNION ALL SELECT id FROM older)
	ORDER BY id DESC LIMIT ` + n
	return s.queryCustomers(ctx, s.db.ShapedQ(ctx), sqlText, w.args)
}
