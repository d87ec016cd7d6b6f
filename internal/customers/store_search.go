package customers

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Filter selects customers for the list and the search box.
type Filter struct {
	Q         string // the search box: name, pinyin, initials, phone (or its last 4), number, email, serial
	Type      string
	Tier      string
	Lifecycle string // the effective stage: the override when set, else the computed one
	OwnerID   int64
	Tag       string
	Limit     int
	Cursor    string
}

// Page is one page of customers, newest first.
type Page struct {
	Items      []Customer `json:"items"`
	NextCursor string     `json:"next_cursor,omitempty"`
	// Kind says how the query was understood (phone_suffix, pinyin, …).
	Kind string `json:"query_kind,omitempty"`
}

// upper is a bound above every string starting with a prefix.
const upper = "\U0010FFFF"

// where builds the search condition of f; args continue after n existing.
type where struct {
	conds []string
	args  []any
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// prefix matches column against a prefix with an index on either database.
func (w *where) prefix(d db.Dialect, column, p string) string {
	if d == db.Postgres {
		return column + " LIKE " + w.arg(escapeLike(p)+"%") + ` ESCAPE '\'`
	}
	return "(" + column + " >= " + w.arg(p) + " AND " + column + " < " + w.arg(p+upper) + ")"
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// substring matches names containing s: through the trigram index for three
// characters or more, by prefix below that (FTS5 and pg_trgm need three).
func (w *where) substring(d db.Dialect, s string) string {
	if utf8.RuneCountInString(s) < 3 {
		return w.prefix(d, "name", s)
	}
	if d == db.Postgres {
		return "name LIKE " + w.arg("%"+escapeLike(s)+"%") + ` ESCAPE '\'`
	}
	return "id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH " + w.arg(`"`+strings.ReplaceAll(s, `"`, `""`)+`"`) + ")"
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
	var w where
	w.add("merged_into IS NULL")
	if f.Cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		id, perr := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || perr != nil || id <= 0 {
			return Page{}, domain.Invalid("cursor", "validation.cursor", nil)
		}
		w.add("id < " + w.arg(id))
	}
	q := ClassifyQuery(f.Q)
	d := s.db.Dialect
	switch q.Kind {
	case QueryEmpty:
	case QueryPhoneSuffix:
		w.add("id IN (SELECT customer_id FROM customer_phones WHERE last4 = " + w.arg(q.Text) + ")")
	case QueryPhone:
		w.add("id IN (SELECT customer_id FROM customer_phones WHERE phone = " + w.arg(q.Text) + ")")
	case QueryCustomerNumber:
		n := w.arg(q.Text)
		w.add("(number = " + n + " OR id IN (SELECT customer_id FROM customer_number_redirects WHERE number = " + n + "))")
	case QueryEmail:
		w.add(w.prefix(d, "email", q.Text))
	case QueryPinyin:
		w.add("(" + w.prefix(d, "name_pinyin", q.Text) + " OR " + w.prefix(d, "name_initials", q.Text) +
			" OR " + w.prefix(d, "name_pinyin_alt", q.Text) + " OR " + w.prefix(d, "name_initials_alt", q.Text) + ")")
	case QueryName:
		w.add(w.substring(d, q.Text))
	default:
		// Serial numbers keep the case they were typed in (the query text is
		// lower-cased), so match the raw text and its upper case.
		raw := strings.TrimSpace(f.Q)
		w.add("(" + w.substring(d, q.Text) + " OR id IN (SELECT customer_id FROM customer_products WHERE serial IN (" +
			w.arg(raw) + ", " + w.arg(strings.ToUpper(raw)) + ")))")
	}
	if f.Type != "" {
		w.add("type = " + w.arg(f.Type))
	}
	if f.Tier != "" {
		w.add("tier = " + w.arg(f.Tier))
	}
	if f.Lifecycle != "" {
		l := w.arg(f.Lifecycle)
		w.add("(lifecycle_override = " + l + " OR (lifecycle_override = '' AND lifecycle = " + l + "))")
	}
	if f.OwnerID != 0 {
		w.add("owner_id = " + w.arg(f.OwnerID))
	}
	if f.Tag != "" {
		w.add("tags LIKE " + w.arg("%"+escapeLike(jsonText(f.Tag))+"%") + ` ESCAPE '\'`)
	}
	sqlText := `SELECT ` + customerColumns + ` FROM customers WHERE ` + strings.Join(w.conds, " AND ") +
		` ORDER BY id DESC LIMIT ` + strconv.Itoa(f.Limit+1)
	rows, err := s.db.RQ(ctx).QueryContext(ctx, sqlText, w.args...)
	if err != nil {
		return Page{}, fmt.Errorf("search customers: %w", err)
	}
	defer rows.Close()
	page := Page{Items: []Customer{}, Kind: q.Kind.String()}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return Page{}, fmt.Errorf("search customers: %w", err)
		}
		page.Items = append(page.Items, c)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("search customers: %w", err)
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(page.Items[f.Limit-1].ID, 10)))
	}
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
