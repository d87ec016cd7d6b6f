package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/timeline"
	"github.com/careloop/careloop/internal/web/httpx"
)

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
	}
}

type customerList struct {
	Page   customers.Page
	Query  url.Values
	Next   string
	Tiers  []string
	Stages []string
}

func (u *UI) customers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := &customerList{Query: q, Tiers: customers.Tiers, Stages: customers.Stages}
	p := u.page(r, "customers.title", d)
	f, err := customers.FilterFromQuery(q)
	if err != nil {
		// The list says which filter is wrong (the layout shows one message).
		u.fieldErrors(p, err)
		p.Error = badFilterKey(err)
		u.render(w, r, http.StatusBadRequest, "customers", p)
		return
	}
	f.Limit, f.Cursor = 50, q.Get("cursor")
	page, err := u.Customers.Search(r.Context(), httpx.Principal(r), f)
	if err != nil {
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "customers", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	d.Page = page
	if page.NextCursor != "" {
		next := r.URL.Query()
		next.Set("cursor", page.NextCursor)
		d.Next = "/customers?" + next.Encode()
	}
	u.render(w, r, http.StatusOK, "customers", p)
}

// customerForm is what the create and edit forms hold, as typed.
type customerForm struct {
	ID                                                   int64
	Version                                              int
	Type, Name, Phones, Email, WeChat, Address, Industry string
	Birthday, CooperationStart, PreferredChannel, Tier   string
	PreferredTime, Tags, Remarks                         string
	DuplicateID                                          int64
	DuplicateNumber                                      string
	Tiers, Channels                                      []string
	// Fields are the admin-defined fields; Custom their values as typed.
	Fields []customers.CustomField
	Custom map[string]string
}

func formOf(c customers.Customer) customerForm {
	return customerForm{ID: c.ID, Version: c.Version, Type: c.Type, Name: c.Name, Phones: strings.Join(c.Phones, "\n"), Email: c.Email,
		WeChat: c.WeChat, Address: c.Address, Industry: c.Industry, Birthday: c.Birthday, CooperationStart: c.CooperationStart,
		PreferredChannel: c.PreferredChannel, Tier: c.Tier, PreferredTime: c.PreferredTime, Tags: strings.Join(c.Tags, ", "),
		Remarks: c.Remarks, Tiers: customers.Tiers, Channels: customers.Channels, Custom: customText(c.Custom)}
}

func customText(values map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range values {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func (f *customerForm) read(r *http.Request) customers.Input {
	v := r.PostFormValue
	f.Type, f.Name, f.Phones, f.Email, f.WeChat = v("type"), v("name"), v("phones"), v("email"), v("wechat")
	f.Address, f.Industry, f.Birthday, f.CooperationStart = v("address"), v("industry"), v("birthday"), v("cooperation_start")
	f.PreferredChannel, f.Tier, f.PreferredTime, f.Tags, f.Remarks = v("preferred_channel"), v("tier"), v("preferred_time"), v("tags"), v("remarks")
	phones := strings.FieldsFunc(f.Phones, func(r rune) bool { return r == '\n' || r == ',' || r == '，' || r == ';' })
	var tags []string
	for _, t := range strings.FieldsFunc(f.Tags, func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
		tags = append(tags, strings.TrimSpace(t))
	}
	if tags == nil {
		tags = []string{}
	}
	custom := map[string]any{}
	f.Custom = map[string]string{}
	for _, fd := range f.Fields {
		if val := strings.TrimSpace(v("custom." + fd.Key)); val != "" {
			custom[fd.Key], f.Custom[fd.Key] = val, val
		}
	}
	return customers.Input{Custom: &custom, Type: &f.Type, Name: &f.Name, Phones: &phones, Email: &f.Email, WeChat: &f.WeChat, Address: &f.Address,
		Industry: &f.Industry, Birthday: &f.Birthday, CooperationStart: &f.CooperationStart, PreferredChannel: &f.PreferredChannel,
		Tier: &f.Tier, PreferredTime: &f.PreferredTime, Tags: &tags, Remarks: &f.Remarks,
		AllowDuplicate: v("allow_duplicate") == "on"}
}

func (u *UI) newCustomer(w http.ResponseWriter, r *http.Request) {
	f := customerForm{Type: customers.TypeIndividual, Tier: "normal", Tiers: customers.Tiers, Channels: customers.Channels}
	if !u.loadFields(w, r, &f) {
		return
	}
	u.render(w, r, http.StatusOK, "customer_form", u.page(r, "customers.new", &f))
}

// formFailed re-renders the form with what went wrong, or reports false.
func (u *UI) formFailed(w http.ResponseWriter, r *http.Request, title string, f *customerForm, err error) bool {
	p := u.page(r, title, f)
	if dup, ok := asDuplicate(err); ok {
		f.DuplicateID, f.DuplicateNumber = dup.ExistingID, dup.ExistingNumber
		p.Error = "customers.duplicate_warning"
		u.render(w, r, http.StatusConflict, "customer_form", p)
		return true
	}
	if u.fieldErrors(p, err) {
		u.render(w, r, http.StatusBadRequest, "customer_form", p)
		return true
	}
	return false
}

func (u *UI) createCustomer(w http.ResponseWriter, r *http.Request) {
	f := customerForm{Tiers: customers.Tiers, Channels: customers.Channels}
	if !u.loadFields(w, r, &f) {
		return
	}
	c, err := u.Customers.Create(r.Context(), f.read(r))
	if err != nil {
		if !u.formFailed(w, r, "customers.new", &f, err) {
			u.fail(w, r, err)
		}
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=saved", c.ID))
}

func (u *UI) editCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	// Editors see what they may see: masked phones stay masked and are
	// then kept unchanged unless retyped in full.
	c, err := u.Customers.Get(r.Context(), httpx.Principal(r), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	f := formOf(c)
	if !u.loadFields(w, r, &f) {
		return
	}
	u.render(w, r, http.StatusOK, "customer_form", u.page(r, "customers.edit", &f))
}

func (u *UI) updateCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	f := customerForm{ID: id, Tiers: customers.Tiers, Channels: customers.Channels}
	if !u.loadFields(w, r, &f) {
		return
	}
	in := f.read(r)
	if strings.Contains(f.Phones, "*") {
		in.Phones = nil // masked numbers were not retyped: keep the stored ones
	}
	fmt.Sscan(r.PostFormValue("version"), &f.Version)
	in.Version = &f.Version
	if _, err := u.Customers.Update(r.Context(), id, in); err != nil {
		if !u.formFailed(w, r, "customers.edit", &f, err) {
			u.fail(w, r, err)
		}
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=saved", id))
}

type customerPage struct {
	C         customers.Customer
	Products  []customers.Owned
	Contracts []customers.Contract
	Coverage  customers.Coverage
	Segments  []string
	Rules     customers.Rules // the segment rules, for the badges' thresholds
	Consents  []customers.Consent
	Timeline  timeline.Page
	CanReveal bool
	CanEdit   bool
	CanMerge  bool
	MergeFrom string
}

func (u *UI) customerDetail(w http.ResponseWriter, r *http.Request, c customers.Customer) {
	u.customerDetailError(w, r, c, "", nil)
}

// customerDetailError renders the detail page; formErr, when set, is the
// merge form's validation error.
func (u *UI) customerDetailError(w http.ResponseWriter, r *http.Request, c customers.Customer, mergeFrom string, formErr error) {
	pr := httpx.Principal(r)
	d := &customerPage{C: c, CanReveal: c.Masked && pr.Can(identity.CustomersContactReveal), CanEdit: pr.Can(identity.CustomersEdit),
		CanMerge: pr.Can(identity.CustomersMerge) && !c.Erased}
	var err error
	if d.Products, err = u.Customers.ListOwned(r.Context(), c.ID); err != nil {
		u.fail(w, r, err)
		return
	}
	if d.Contracts, err = u.Customers.ListContracts(r.Context(), c.ID); err != nil {
		u.fail(w, r, err)
		return
	}
	d.Coverage = customers.CoverageOf(d.Products, d.Contracts)
	if d.Rules, err = u.Customers.Rules(r.Context()); err != nil {
		u.fail(w, r, err)
		return
	}
	d.Segments = d.Rules.Segments().ValueSegments(c, len(d.Products), u.Clock.Now())
	if d.Consents, err = u.Customers.Consents(r.Context(), c.ID); err != nil {
		u.fail(w, r, err)
		return
	}
	if d.Timeline, err = u.Timeline.List(r.Context(), c.ID, nil, 30, ""); err != nil {
		u.fail(w, r, err)
		return
	}
	d.MergeFrom = mergeFrom
	p := u.page(r, "customers.detail", d)
	status := http.StatusOK
	if formErr != nil && u.fieldErrors(p, formErr) {
		status = http.StatusBadRequest
	}
	u.render(w, r, status, "customer", p)
}

func (u *UI) customer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	c, err := u.Customers.Get(r.Context(), httpx.Principal(r), id)
	var moved *customers.MovedError
	if errors.As(err, &moved) {
		http.Redirect(w, r, fmt.Sprintf("/customers/%d", moved.To), http.StatusMovedPermanently)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.customerDetail(w, r, c)
}

// mergeCustomer merges the customer whose number was typed into this one.
func (u *UI) mergeCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	pr := httpx.Principal(r)
	number := strings.TrimSpace(r.PostFormValue("from"))
	page, err := u.Customers.Search(r.Context(), pr, customers.Filter{Q: number, Limit: 2})
	var from int64
	if err == nil && len(page.Items) == 1 && page.Items[0].Number == number {
		from = page.Items[0].ID
	}
	if from == 0 {
		err = domain.Invalid("from", "validation.merge_unknown", map[string]any{"Value": number})
	} else {
		_, err = u.Customers.Merge(r.Context(), id, from)
	}
	if err != nil {
		c, gerr := u.Customers.Get(r.Context(), pr, id)
		if gerr != nil {
			u.fail(w, r, gerr)
			return
		}
		var v *domain.ValidationError
		if errors.As(err, &v) {
			// Show the detail page again with the merge form's error.
			u.customerDetailError(w, r, c, number, err)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=merged", id))
}

// revealCustomer shows the full numbers on this answer only (audited); the
// next visit is masked again.
func (u *UI) revealCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	c, err := u.Customers.Reveal(r.Context(), httpx.Principal(r), id, r.PostFormValue("reason"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.customerDetail(w, r, c)
}

func asDuplicate(err error) (*customers.DuplicateError, bool) {
	var dup *customers.DuplicateError
	ok := errors.As(err, &dup)
	return dup, ok
}

// loadFields puts the custom field definitions on the form.
func (u *UI) loadFields(w http.ResponseWriter, r *http.Request, f *customerForm) bool {
	fields, err := u.Customers.Fields(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return false
	}
	f.Fields = fields
	if f.Custom == nil {
		f.Custom = map[string]string{}
	}
	return true
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
