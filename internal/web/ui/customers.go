package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/textindex"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The customer pages: the list here; the form in customers_form.go, the
// record in customers_detail.go, what is done on the record (products,
// consents, contacts, erasure) in customers_actions.go.

func (u *UI) customerRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/customers", Perm: identity.CustomersView, Handler: u.customers},
		{Method: "GET", Path: "/customers/new", Perm: identity.CustomersEdit, Handler: u.newCustomer},
		{Method: "POST", Path: "/customers", Perm: identity.CustomersEdit, Handler: u.createCustomer},
		{Method: "GET", Path: "/customers/{id}", Perm: identity.CustomersView, Handler: u.customer},
		{Method: "GET", Path: "/customers/{id}/edit", Perm: identity.CustomersEdit, Handler: u.editCustomer},
		{Method: "POST", Path: "/customers/{id}", Perm: identity.CustomersEdit, Handler: u.updateCustomer},
		{Method: "POST", Path: "/customers/{id}/reveal", Perm: identity.CustomersContactReveal, Handler: u.revealCustomer},
		{Method: "POST", Path: "/customers/{id}/merge", Perm: identity.CustomersMerge, Handler: u.mergeCustomer},
		{Method: "POST", Path: "/customers/{id}/products", Perm: identity.CustomersEdit, Handler: u.addCustomerProduct},
		{Method: "POST", Path: "/customers/{id}/consents", Perm: identity.CustomersEdit, Handler: u.setCustomerConsent},
		{Method: "POST", Path: "/customers/{id}/interactions", Perm: identity.CustomersEdit, Handler: u.logCustomerInteraction},
		{Method: "GET", Path: "/customers/{id}/erase", Perm: identity.CustomersErase, Handler: u.confirmEraseCustomer},
		{Method: "POST", Path: "/customers/{id}/erase", Perm: identity.CustomersErase, Handler: u.eraseCustomer},
	}
}

// listSorts are the list orders offered on the page (customers.Sorts).
var listSorts = customers.Sorts

// maxPrevCursors bounds the stack of earlier pages kept in the list's URL.
const maxPrevCursors = 40

type customerList struct {
	Page   customers.Page
	Query  url.Values
	Tiers  []string
	Stages []string
	Staff  []customers.Staff
	Owners map[int64]string // names of the owners on this page
	Sorts  []string
	// Sort is the order asked for; Searching says a search text orders the
	// page by newest instead.
	Sort      string
	Searching bool
	q         string // the search text
	Prev      string // URL of the previous page, "" on the first
	Next      string
	Export    string // the filters as export query
}

// SortLink is the URL of the list in order sort (a header's link): the same
// filters, from the first page; the same sort again flips it.
// Hit cuts a name into the parts that match the search text and the rest,
// for the list to mark what was found (张伟 in 张伟强, 华强 in 深圳华强…).
func (l *customerList) Hit(name string) []textindex.Segment {
	if !l.Searching {
		return []textindex.Segment{{Text: name}}
	}
	return textindex.Highlight(name, l.q)
}

func (l *customerList) SortLink(sort string) string {
	q := url.Values{}
	for k, v := range l.Query {
		q[k] = v
	}
	q.Del("cursor")
	q.Del("prev")
	if l.Sort == sort && !strings.HasPrefix(sort, "-") {
		sort = "-" + sort
	}
	q.Set("sort", sort)
	return "/customers?" + q.Encode()
}

// AriaSort is the aria-sort of a header sorting by key.
func (l *customerList) AriaSort(key string) string {
	switch l.Sort {
	case key:
		return "ascending"
	case "-" + key:
		return "descending"
	}
	return ""
}

// SortMark shows on a sortable header whether and how it sorts the list.
func (l *customerList) SortMark(key string) string {
	switch l.AriaSort(key) {
	case "ascending":
		return "▲"
	case "descending":
		return "▼"
	}
	return "⇅"
}

// OwnerName is the name of a customer's account manager, or "".
func (l *customerList) OwnerName(id *int64) string {
	if id == nil {
		return ""
	}
	return l.Owners[*id]
}

func (u *UI) customers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pr := httpx.Principal(r)
	d := &customerList{Query: q, Tiers: customers.Tiers, Stages: customers.Stages, Sorts: listSorts, Owners: map[int64]string{}}
	p := u.page(r, "customers.title", d)
	var err error
	if d.Staff, err = u.Customers.ActiveStaff(r.Context()); err != nil {
		u.fail(w, r, err)
		return
	}
	f, err := customers.FilterFromQuery(q, pr.UserID)
	if err != nil {
		// The list says which filter is wrong (the layout shows one message).
		u.fieldErrors(p, err)
		p.Error = badFilterKey(err)
		u.render(w, r, http.StatusBadRequest, "customers", p)
		return
	}
	f.Limit, f.Cursor = 50, q.Get("cursor")
	d.Sort = f.Sort
	if d.Sort == "" {
		d.Sort = customers.SortNewest
	}
	d.Searching = strings.TrimSpace(f.Q) != ""
	d.q = f.Q
	page, err := u.Customers.Search(r.Context(), pr, f)
	if err == nil {
		page.Total, page.TotalCapped, err = u.Customers.PageTotal(r.Context(), pr, f, page)
	}
	if err != nil {
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "customers", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	d.Page = page
	var owners []int64
	for _, c := range page.Items {
		if c.OwnerID != nil {
			owners = append(owners, *c.OwnerID)
		}
	}
	if d.Owners, err = u.Customers.StaffNames(r.Context(), owners); err != nil {
		u.fail(w, r, err)
		return
	}
	d.Prev, d.Next = pagerLinks(q, page.NextCursor)
	export := url.Values{}
	for _, k := range []string{"q", "type", "tier", "lifecycle"} {
		if v := q.Get(k); v != "" {
			export.Set(k, v)
		}
	}
	d.Export = export.Encode()
	u.render(w, r, http.StatusOK, "customers", p)
}

// pagerLinks builds the previous and next page URLs. Cursors only go
// forward, so the URL carries the cursors of the earlier pages ("prev",
// comma-separated, "0" for the first page): next pushes the current one,
// previous pops it.
func pagerLinks(q url.Values, nextCursor string) (prev, next string) {
	var stack []string
	if s := q.Get("prev"); s != "" {
		stack = strings.Split(s, ",")
	}
	cur := q.Get("cursor")
	if cur != "" || len(stack) > 0 {
		back := url.Values{}
		for k, v := range q {
			back[k] = v
		}
		back.Del("cursor")
		back.Del("prev")
		if n := len(stack); n > 0 {
			if c := stack[n-1]; c != "0" {
				back.Set("cursor", c)
			}
			if n > 1 {
				back.Set("prev", strings.Join(stack[:n-1], ","))
			}
		}
		prev = "/customers?" + back.Encode()
	}
	if nextCursor != "" {
		fwd := url.Values{}
		for k, v := range q {
			fwd[k] = v
		}
		if cur == "" {
			cur = "0"
		}
		pushed := append(stack, cur)
		if len(pushed) > maxPrevCursors {
			pushed = pushed[len(pushed)-maxPrevCursors:]
		}
		fwd.Set("prev", strings.Join(pushed, ","))
		fwd.Set("cursor", nextCursor)
		next = "/customers?" + fwd.Encode()
	}
	return prev, next
}

// dateOf renders a time's date in the business zone ("—" for none).
func dateOf(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return "—"
		}
		return v.In(shanghai).Format("2006-01-02")
	case *time.Time:
		if v == nil {
			return "—"
		}
		return dateOf(*v)
	}
	return ""
}

// Date renders a date of the list.
func (l *customerList) Date(t any) string { return dateOf(t) }

// Thousands writes n with thousands separators (1,000).
func (l *customerList) Thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// badFilterKey is the page message for the first wrong filter of err.
func badFilterKey(err error) string {
	var v *domain.ValidationError
	if errors.As(err, &v) && len(v.Fields) > 0 {
		switch v.Fields[0].Field {
		case "type":
			return "customers.bad_filter_type"
		case "tier":
			return "customers.bad_filter_tier"
		case "lifecycle":
			return "customers.bad_filter_lifecycle"
		case "owner_id":
			return "customers.bad_filter_owner_id"
		}
	}
	return "error.validation"
}
