package tickets

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/textindex"
)

// The search box of the workspace (List with q): a ticket number exactly,
// else the words of the ticket's staff-only document (subject,
// description, messages, internal notes; see ticketText) and the
// customer (name through the customers' own text index, phone or its
// last four digits, customer number). Matches are listed newest first, by
// id, within the caller's scope, queue and filters, keyset-paged by id.
// See docs/tickets.md, "Search".

// Highlight is what a search hit matched, as segments (the pages wrap a
// match in <mark>, escaping every segment): the subject, always; the
// customer's name when it matched; and a snippet of the first other text
// that matched, with where it comes from (description or message). When
// the words are only in an internal note, SnippetFrom is "note" and there
// is no snippet: a note's text appears in the staff thread alone, never in
// a list.
type Highlight struct {
	Subject     []textindex.Segment `json:"subject"`
	Customer    []textindex.Segment `json:"customer,omitempty"`
	Snippet     []textindex.Segment `json:"snippet,omitempty"`
	SnippetFrom string              `json:"snippet_from,omitempty"`
}

// The PostgreSQL search scans the newest searchWindow tickets (below the
// cursor) first, checking each that passes the filters against its index
// row (a few µs): a common word (黑屏 in half the tickets) fills a page
// within a few hundred rows. When the window found some but not a page,
// its rate foretells the matches further down and picks the cheaper way
// on: a wider window (up to searchWideWindow), or the GIN index, whose
// matches (a random heap page each, some 8 µs) are sorted and checked
// against the filters by primary key, newest first, a chunk at a time.
// A window without a match goes to the index, reading at most searchFew
// matches; a word with more (a common word the filters keep few of, say
// the mine queue) leaves the plan to the planner, driven by the filters'
// indexes.
var (
	searchWindow     int64 = 2000
	searchWideWindow int64 = 20000
	searchFew              = 3000
	searchChunk            = 200
)

// maxCustomerMatches caps the customers whose tickets a search lists: a
// name part shared by more customers than that finds the tickets of the
// newest of them (the words of the tickets still find the rest).
const maxCustomerMatches = 2000

func (a *args) clone() *args { return &args{list: slices.Clone(a.list)} }

// search is List for a query that is not a ticket number; conds and a
// hold the queue, scope and filters.
func (s *Store) search(ctx context.Context, p *identity.Principal, f Filter, conds []string, a *args) (Page, error) {
	page := Page{Items: []Ticket{}, Sort: "-created"}
	_, below, _ := decodeCursor(f.Cursor)
	if below == 0 {
		below = math.MaxInt64
	}
	n := f.Limit + 1
	from := " FROM tickets t"
	if f.Tier != "" {
		from += " JOIN customers c ON c.id = t.customer_id"
	}
	tq, textOK := textindex.ParseQuery(f.Q)
	var ids []int64
	var err error
	if textOK {
		if s.db.Dialect == db.Postgres {
			ids, err = s.pgTextIDs(ctx, tq, from, conds, a, below, n)
		} else {
			b := a.clone()
			ids, err = s.ids(ctx, s.db.ShapedQ(ctx), `SELECT t.id FROM (SELECT rowid AS m_id FROM ticket_text WHERE ticket_text MATCH `+b.add(tq.Arg(db.SQLite))+
				` AND rowid < `+b.add(below)+`) AS m JOIN tickets t ON t.id = m.m_id`+strings.TrimPrefix(from, " FROM tickets t")+
				` WHERE `+strings.Join(conds, " AND ")+` ORDER BY m.m_id DESC LIMIT `+strconv.Itoa(n), b.list)
		}
		if err != nil {
			return Page{}, fmt.Errorf("search tickets: %w", err)
		}
	}
	cust, err := s.customerMatches(ctx, p, f.Q, tq, textOK)
	if err != nil {
		return Page{}, fmt.Errorf("search tickets: %w", err)
	}
	if len(cust) > 0 {
		b := a.clone()
		in := b.add(idList(s.db.Dialect, cust))
		byCustomer := "t.customer_id IN (SELECT value FROM json_each(" + in + "))"
		if s.db.Dialect == db.Postgres {
			byCustomer = "t.customer_id = ANY(" + in + "::bigint[])"
		}
		// id + 0: the customers' tickets come from tickets_customer and are
		// sorted, never found by walking the primary key.
		more, err := s.ids(ctx, s.db.ShapedQ(ctx), `SELECT t.id`+from+` WHERE `+strings.Join(append(slices.Clone(conds), byCustomer, "t.id + 0 < "+b.add(below)), " AND ")+
			` ORDER BY t.id + 0 DESC LIMIT `+strconv.Itoa(n), b.list)
		if err != nil {
			return Page{}, fmt.Errorf("search tickets: %w", err)
		}
		ids = append(ids, more...)
		slices.SortFunc(ids, func(x, y int64) int { return cmp.Compare(y, x) }) // newest first
		ids = slices.Compact(ids)
	}
	if len(ids) > n {
		ids = ids[:n]
	}
	if len(ids) == 0 {
		return page, nil
	}
	ph := make([]string, len(ids))
	fa := &args{}
	for i, id := range ids {
		ph[i] = fa.add(id)
	}
	rows, err := s.db.ShapedQ(ctx).QueryContext(ctx, `SELECT `+ticketCols+ticketFrom+` WHERE t.id IN (`+strings.Join(ph, ", ")+`) ORDER BY t.id DESC`, fa.list...)
	if err != nil {
		return Page{}, fmt.Errorf("search tickets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, t)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[len(page.Items)-1]
		page.NextCursor = encodeCursor(last.CreatedAt.UnixMicro(), last.ID)
	}
	if err := s.highlight(ctx, page.Items, f.Q); err != nil {
		return Page{}, err
	}
	return page, nil
}

// ids runs a statement listing ticket ids on q: ShapedQ for those whose
// one generic plan is right whatever the word (planning them cost more
// than running them), RQ where the planner must see the filters' values.
func (s *Store) ids(ctx context.Context, q db.Querier, query string, args []any) ([]int64, error) {
	return scanIDs(q.QueryContext(ctx, query, args...))
}

// scanIDs reads a one-column result of ids.
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// idList is ids as one parameter: a JSON array for SQLite's json_each, an
// array literal for PostgreSQL's bigint[].
func idList(d db.Dialect, ids []int64) string {
	var b strings.Builder
	open, end := "[", "]"
	if d == db.Postgres {
		open, end = "{", "}"
	}
	b.WriteString(open)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteString(end)
	return b.String()
}

// pgTextIDs lists up to n ids below below of the tickets matching tq and
// conds, newest first, on PostgreSQL (see searchWindow).
func (s *Store) pgTextIDs(ctx context.Context, tq textindex.Query, from string, conds []string, a *args, below int64, n int) ([]int64, error) {
	var top int64
	if err := s.db.ShapedQ(ctx).QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM tickets WHERE id < $1`, below).Scan(&top); err != nil || top == 0 {
		return nil, err
	}
	arg := tq.Arg(db.Postgres)
	// scan lists the matches with lo < id <= hi. The filters come first:
	// only the tickets that pass them read their index row.
	// The windows' plan is the same for every word and filter (the
	// primary key backwards); the scan to the end (lo 0) leaves the
	// planner to pick the filters' index by their values. The filters are
	// repeated inside the CASE because PostgreSQL orders a row's
	// conditions by their estimated cost and put the index lookup first.
	scan := func(lo, hi int64, limit int) ([]int64, error) {
		b := a.clone()
		cs := append(slices.Clone(conds), "t.id <= "+b.add(hi))
		q := s.db.RQ(ctx)
		if lo > 0 {
			cs = append(cs, "t.id > "+b.add(lo))
			q = s.db.ShapedQ(ctx)
		}
		cs = append(cs, "CASE WHEN "+strings.Join(conds, " AND ")+" THEN "+ticketText.Match(db.Postgres, "t.id", b.add(arg))+" ELSE FALSE END")
		return s.ids(ctx, q, `SELECT t.id`+from+` WHERE `+strings.Join(cs, " AND ")+` ORDER BY t.id DESC LIMIT `+strconv.Itoa(limit), b.list)
	}
	lo := top - searchWindow
	ids, err := scan(lo, top, n)
	if err != nil || len(ids) >= n || lo <= 0 {
		return ids, err
	}
	hi := lo
	if h := int64(len(ids)); h > 0 {
		// h matches in the window foretell est more below (that pass the
		// filters). The index reads each match's row, some 8 µs (a
		// random heap page, a phrase rechecked); the windows 2 or 3 µs a
		// row. Unless the index is cheaper, a wider window, sized to find
		// the rest of the page at that rate twice over, goes on.
		est := h * hi / searchWindow
		scanned := searchWindow
		if wide := min(searchWindow*((2*(int64(n)-h)+h-1)/h), searchWideWindow); est*10 > wide*3 {
			lo = hi - wide
			more, err := scan(lo, hi, n-len(ids))
			ids = append(ids, more...)
			if err != nil || len(ids) >= n || lo <= 0 {
				return ids, err
			}
			hi = lo
			scanned += wide
			est = int64(len(ids)) * hi / scanned
		}
		if est > int64(searchFew) {
			// Still common: rather than read its matches from the index,
			// the planner's scan, as the windows but to the end.
			more, err := scan(0, hi, n-len(ids))
			return append(ids, more...), err
		}
	}
	// id + 0: the generic plan walked the whole primary key of ticket_text
	// (a second for a word in none) rather than ask the GIN index.
	cand, err := s.ids(ctx, s.db.ShapedQ(ctx), `SELECT id FROM ticket_text WHERE terms @@ $1::tsquery AND id + 0 <= $2 LIMIT $3`, []any{arg, hi, searchFew + 1})
	if err != nil || len(cand) == 0 {
		return ids, err
	}
	if len(cand) > searchFew {
		// A common word that the filters keep few of (none in the
		// window): the planner drives the scan from the filters' indexes.
		more, err := scan(0, hi, n-len(ids))
		return append(ids, more...), err
	}
	// A rare word: its matches newest first, checked against the filters
	// by primary key a growing chunk at a time (id + 0: never by walking
	// the primary key in order).
	slices.SortFunc(cand, func(x, y int64) int { return cmp.Compare(y, x) })
	for chunk := searchChunk; len(cand) > 0 && len(ids) < n; chunk *= 4 {
		part := cand[:min(chunk, len(cand))]
		cand = cand[len(part):]
		b := a.clone()
		cs := append(slices.Clone(conds), "t.id = ANY("+b.add(idList(db.Postgres, part))+"::bigint[])")
		more, err := s.ids(ctx, s.db.ShapedQ(ctx), `SELECT t.id`+from+` WHERE `+strings.Join(cs, " AND ")+` ORDER BY t.id + 0 DESC LIMIT `+strconv.Itoa(n-len(ids)), b.list)
		if err != nil {
			return nil, err
		}
		ids = append(ids, more...)
	}
	return ids, nil
}

// customerMatches returns the customers a query names (newest first, at
// most maxCustomerMatches): by a phone or its last four digits, by
// customer number (those for callers who may see customers), or by name
// through the customers' text index (customer_text, live customers). A
// single character (a surname) names too many customers to be useful and
// is left to the tickets' own words.
func (s *Store) customerMatches(ctx context.Context, p *identity.Principal, q string, tq textindex.Query, textOK bool) ([]int64, error) {
	cq := customers.ClassifyQuery(q)
	limit := " LIMIT " + strconv.Itoa(maxCustomerMatches)
	var query string
	var arg any
	switch cq.Kind {
	case customers.QueryPhone, customers.QueryPhoneSuffix, customers.QueryCustomerNumber:
		if p != nil && !p.Can(identity.CustomersView) {
			return nil, nil
		}
		arg = cq.Text
		switch cq.Kind {
		case customers.QueryPhone:
			query = `SELECT DISTINCT customer_id FROM customer_phones WHERE phone = $1 ORDER BY customer_id DESC` + limit
		case customers.QueryPhoneSuffix:
			query = `SELECT DISTINCT customer_id FROM customer_phones WHERE last4 = $1 ORDER BY customer_id DESC` + limit
		default:
			query = `SELECT id FROM customers WHERE number = $1`
		}
	default:
		if !textOK || oneChar(tq) {
			return nil, nil
		}
		arg = tq.Arg(s.db.Dialect)
		if s.db.Dialect == db.Postgres {
			query = `SELECT id FROM customer_text WHERE terms @@ $1::tsquery ORDER BY id DESC` + limit
		} else {
			query = `SELECT rowid FROM customer_text WHERE customer_text MATCH $1 ORDER BY rowid DESC` + limit
		}
	}
	return s.ids(ctx, s.db.ShapedQ(ctx), query, []any{arg})
}

// oneChar tells whether a query is one character (a prefix of many terms).
func oneChar(tq textindex.Query) bool {
	t := tq.Terms()
	return len(t) == 1 && len(t[0]) == 1 && utf8.RuneCountInString(strings.TrimSuffix(t[0][0], "*")) == 1
}
