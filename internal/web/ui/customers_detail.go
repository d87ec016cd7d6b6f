package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/timeline"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/wechat"
)

type customerPage struct {
	C         customers.Customer
	WeChat    []wechat.Binding // its linked WeChat followers (wechat_bind.go)
	OwnerName string
	Products  []customers.Owned
	Contracts []customers.Contract
	Coverage  customers.Coverage
	Segments  []string
	Rules     customers.Rules // the segment rules, for the badges' thresholds
	Consents  []customers.Consent
	Timeline  []timelineRow
	// TimelineMore is the URL of older events, "" when there are none.
	TimelineMore string
	// TimelineKind filters the timeline by kind prefix (timelineKinds).
	TimelineKind string
	CustomLabels map[string]string
	Catalog      []customers.Product // active products, for the purchase form
	Channels     []string
	CanReveal    bool
	CanEdit      bool
	CanMerge     bool
	CanErase     bool
	// Revealed says the phones are shown in full on this one view.
	Revealed bool
	// RevealSpent says the link of a reveal was used already.
	RevealSpent bool
	MergeFrom   string
	// Forms as typed, when one of them came back with an error.
	Reveal   revealForm
	Product  customers.OwnedInput
	Consent  consentForm
	Contact  interactionForm
	FormName string // which form has the errors: reveal, product, consent, contact, merge
}

type revealForm struct{ Kind, Other string }

type consentForm struct{ Channel, Choice, Source string }

type interactionForm struct{ Channel, Note string }

// timelineRow is an event as the page shows it.
type timelineRow struct {
	When, Recorded, Summary, Actor string
	Href                           string // the record the event is about (a ticket), or ""
	At                             time.Time
}

// timelineKinds are the timeline filters of the page, kind prefixes ("":
// everything).
var timelineKinds = []string{"", "contact.", "customer.product", "customer.updated", "customer.consent"}

// TimelineKinds lists the timeline filters.
func (d *customerPage) TimelineKinds() []string { return timelineKinds }

// anonymized stands in for the parameters of an erased customer's events.
var anonymized = map[string]any{"Number": "—", "Fields": "—", "Product": "—", "Serial": "—", "Channel": "—", "Note": "—"}

// revealReasons are the reasons offered for revealing a phone.
var revealReasons = []string{"callback", "verify_identity", "other"}

// RevealReasons lists the reason choices.
func (d *customerPage) RevealReasons() []string { return revealReasons }

// customerDetailWith renders the detail page; formErr, when set, is the
// validation error of the form d.FormName.
func (u *UI) customerDetailWith(w http.ResponseWriter, r *http.Request, d *customerPage, formErr error) {
	pr := httpx.Principal(r)
	c := d.C
	ctx := r.Context()
	d.CanReveal = c.Masked && pr.Can(identity.CustomersContactReveal) && !c.Erased
	d.CanEdit = pr.Can(identity.CustomersEdit) && !c.Erased
	d.CanMerge = pr.Can(identity.CustomersMerge) && !c.Erased
	d.CanErase = pr.Can(identity.CustomersErase) && !c.Erased
	d.Channels = customers.Channels
	d.WeChat = u.wechatLinked(ctx, pr, c.ID)
	var err error
	fail := func(e error) bool {
		if e != nil {
			u.fail(w, r, e)
			return true
		}
		return false
	}
	if d.Products, err = u.Customers.ListOwned(ctx, c.ID); fail(err) {
		return
	}
	if d.Contracts, err = u.Customers.ListContracts(ctx, c.ID); fail(err) {
		return
	}
	d.Coverage = customers.CoverageOf(d.Products, d.Contracts)
	if d.Rules, err = u.Customers.Rules(ctx); fail(err) {
		return
	}
	d.Segments = d.Rules.Segments().ValueSegments(c, len(d.Products), u.Clock.Now())
	if d.Consents, err = u.Customers.Consents(ctx, c.ID); fail(err) {
		return
	}
	if c.OwnerID != nil {
		names, err := u.Customers.StaffNames(ctx, []int64{*c.OwnerID})
		if fail(err) {
			return
		}
		d.OwnerName = names[*c.OwnerID]
	}
	fields, err := u.Customers.Fields(ctx)
	if fail(err) {
		return
	}
	lang := httpx.Lang(r)
	d.CustomLabels = map[string]string{}
	for _, f := range fields {
		d.CustomLabels[f.Key] = f.LabelZH
		if lang == "en" && f.LabelEN != "" {
			d.CustomLabels[f.Key] = f.LabelEN
		}
	}
	if d.CanEdit {
		all, err := u.Products.List(ctx, "", 0, 200)
		if fail(err) {
			return
		}
		for _, p := range all {
			if p.Active {
				d.Catalog = append(d.Catalog, p)
			}
		}
	}
	p := u.page(r, "customers.detail", d)
	var kinds []string
	if k := r.URL.Query().Get("tk"); slices.Contains(timelineKinds, k) && k != "" {
		d.TimelineKind, kinds = k, []string{k}
	}
	tl, err := u.Timeline.List(ctx, c.ID, kinds, 30, r.URL.Query().Get("tl"))
	if err != nil {
		if u.fieldErrors(p, err) { // a bad timeline cursor: show the newest
			p.Fields, p.Error = map[string]string{}, ""
			tl, err = u.Timeline.List(ctx, c.ID, kinds, 30, "")
		}
		if fail(err) {
			return
		}
	}
	d.Timeline = u.timelineRows(p, tl.Items)
	if tl.NextCursor != "" {
		more := url.Values{"tl": {tl.NextCursor}}
		if d.TimelineKind != "" {
			more.Set("tk", d.TimelineKind)
		}
		d.TimelineMore = fmt.Sprintf("/customers/%d?%s#timeline", c.ID, more.Encode())
	}
	status := http.StatusOK
	if formErr != nil && u.fieldErrors(p, formErr) {
		status = http.StatusBadRequest
	}
	u.render(w, r, status, "customer", p)
}

// timelineRows words the events: summaries in the reader's language (a
// channel by its name), the business time (a date alone for an event of a
// day, such as a purchase) and, where it differs, when it was recorded.
func (u *UI) timelineRows(p *Page, events []timeline.Event) []timelineRow {
	rows := make([]timelineRow, 0, len(events))
	for _, e := range events {
		params := e.Params
		if len(params) == 0 {
			// Erasure drops the parameters (they may quote personal data):
			// the summary then says "—" where they were.
			params = anonymized
		}
		if names, ok := params["Fields"].(string); ok && slices.Contains(strings.Split(names, ", "), "name") {
			// A customer's name is 名称 (of a person or an organisation), not
			// 姓名, the catalog's word for a staff member's name.
			params = withParam(params, "Fields", strings.Join(replaceName(strings.Split(names, ", "), p.T("customers.name_col")), ", "))
		}
		for _, k := range []string{"From", "To"} {
			if st, ok := params[k].(string); ok && strings.HasPrefix(e.Kind, "ticket.") {
				params = withParam(params, k, p.T("tickets.state_"+st))
			}
		}
		for _, k := range []string{"Channel", "Via"} {
			if ch, ok := params[k].(string); ok && ch != "—" {
				params = withParam(params, k, p.T("customers.channel_"+ch))
			}
		}
		row := timelineRow{Summary: p.TP(e.Key, params), Actor: e.Actor, At: e.At, When: p.Time(e.At)}
		if e.Entity == "ticket" && e.EntityID != "" && len(e.Params) > 0 {
			row.Href = "/tickets/" + e.EntityID
		}
		if e.RecordedAt != nil {
			if local := e.At.In(shanghai); local.Hour() == 0 && local.Minute() == 0 && local.Second() == 0 {
				row.When = local.Format("2006-01-02")
			}
			row.Recorded = p.Time(*e.RecordedAt)
		}
		if e.ActorID == 0 && (row.Actor == "" || row.Actor == "system") {
			row.Actor = p.T("customers.actor_system")
		}
		rows = append(rows, row)
	}
	return rows
}

func (u *UI) customer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	pr := httpx.Principal(r)
	c, err := u.Customers.Get(r.Context(), pr, id)
	var moved *customers.MovedError
	if errors.As(err, &moved) {
		http.Redirect(w, r, fmt.Sprintf("/customers/%d", moved.To), http.StatusMovedPermanently)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := &customerPage{C: c}
	if token := r.URL.Query().Get("revealed"); token != "" && c.Masked {
		full, ok, err := u.Customers.TakeReveal(r.Context(), pr, id, token)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		if ok {
			d.C, d.Revealed = full, true
		} else {
			d.RevealSpent = true
		}
	}
	u.customerDetailWith(w, r, d, nil)
}

// pathCustomer reads the customer of the path's {id} as the caller may see
// it (masked phones stay masked), or answers the error and reports false.
func (u *UI) pathCustomer(w http.ResponseWriter, r *http.Request) (customers.Customer, bool) {
	id, err := httpx.PathID(r, "id")
	if err == nil {
		var c customers.Customer
		if c, err = u.Customers.Get(r.Context(), httpx.Principal(r), id); err == nil {
			return c, true
		}
	}
	u.fail(w, r, err)
	return customers.Customer{}, false
}

// reloadDetail shows the record again with the error of one of its forms.
func (u *UI) reloadDetail(w http.ResponseWriter, r *http.Request, id int64, d *customerPage, formErr error) {
	c, err := u.Customers.Get(r.Context(), httpx.Principal(r), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.C = c
	var v *domain.ValidationError
	if !errors.As(formErr, &v) {
		u.fail(w, r, formErr)
		return
	}
	u.customerDetailWith(w, r, d, formErr)
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
		u.reloadDetail(w, r, id, &customerPage{MergeFrom: number, FormName: "merge"}, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=merged", id))
}

// revealCustomer records why the numbers are looked at (audited) and
// redirects to the record, which shows them on that one view (a
// single-use grant): a reload neither posts again nor shows them again.
func (u *UI) revealCustomer(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	form := revealForm{Kind: r.PostFormValue("reason"), Other: strings.TrimSpace(r.PostFormValue("reason_other"))}
	var reason string
	switch form.Kind {
	case "callback", "verify_identity":
		reason = form.Kind
	case "other":
		if form.Other == "" {
			u.reloadDetail(w, r, id, &customerPage{Reveal: form, FormName: "reveal"}, domain.Invalid("reason_other", "validation.reveal_other", nil))
			return
		}
		reason = "other: " + form.Other
	default:
		u.reloadDetail(w, r, id, &customerPage{Reveal: form, FormName: "reveal"}, domain.Invalid("reason", "validation.reveal_reason", nil))
		return
	}
	token, err := u.Customers.RevealOnce(r.Context(), httpx.Principal(r), id, reason)
	if err != nil {
		var v *domain.ValidationError
		if errors.As(err, &v) {
			u.reloadDetail(w, r, id, &customerPage{Reveal: form, FormName: "reveal"}, err)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?revealed=%s#contact", id, url.QueryEscape(token)))
}

func asDuplicate(err error) (*customers.DuplicateError, bool) {
	var dup *customers.DuplicateError
	ok := errors.As(err, &dup)
	return dup, ok
}

// withParam returns a copy of params with k set to v.
func withParam(params map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(params)+1)
	for key, val := range params {
		out[key] = val
	}
	out[k] = v
	return out
}

func replaceName(fields []string, label string) []string {
	out := slices.Clone(fields)
	for i, f := range out {
		if f == "name" {
			out[i] = label
		}
	}
	return out
}
