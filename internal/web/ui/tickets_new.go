package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/customfields"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/web/httpx"
)

// ticketForm is the intake form as typed.
type ticketForm struct {
	CustomerID                      int64
	Customer                        *customers.Customer // the chosen customer, as the viewer may see them
	CustomerQ                       string
	Found                           []customers.Customer // the server-side search step's matches
	Searched                        bool
	NewName, NewPhone               string
	NewOpen                         bool
	CanCreateCustomer               bool
	Products                        []customers.Owned
	OwnedProductID                  int64
	Type, Channel, Severity         string
	CategoryID                      int64
	Subject, Description, Expect    string
	Against, OccurredAt, Place, Ask string
	DuplicateID                     int64
	DuplicateNumber                 string

	Types, Channels, Severities []string
	Categories                  []tickets.Category
	// Fields are the admin's ticket fields, each with the types it applies
	// to (the page shows those of the chosen type) and what was typed.
	Fields []intakeField
	lang   string
}

// intakeField is one of the admin's ticket fields on the intake form.
type intakeField struct {
	customfields.Field
	Label, Value string
	ForTypes     string // the types it applies to, space separated; empty: all
}

// applies tells whether the field belongs to tickets of type typ.
func (f intakeField) applies(typ string) bool {
	return len(f.AppliesTo) == 0 || slices.Contains(f.AppliesTo, typ)
}

// CategoryLabel is a category as an indented option.
func (f *ticketForm) CategoryLabel(c tickets.Category) string { return categoryOption(c, f.lang) }

func (u *UI) blankTicketForm(r *http.Request) (*ticketForm, error) {
	f := &ticketForm{Types: tickets.Types, Channels: tickets.Channels, Severities: tickets.Severities, lang: httpx.Lang(r),
		Channel: "phone", Severity: "general", Type: "consultation",
		CanCreateCustomer: httpx.Principal(r).Can(identity.CustomersEdit)}
	cats, err := u.Tickets.Categories(r.Context())
	for _, c := range cats {
		if c.Active {
			f.Categories = append(f.Categories, c)
		}
	}
	if err != nil {
		return f, err
	}
	defs, err := u.Tickets.CustomFields(r.Context(), "")
	for _, d := range defs {
		label := d.LabelZH
		if f.lang == "en" && d.LabelEN != "" {
			label = d.LabelEN
		}
		f.Fields = append(f.Fields, intakeField{Field: d, Label: label, ForTypes: strings.Join(d.AppliesTo, " ")})
	}
	return f, err
}

// loadCustomer puts the chosen customer and their products on the form; a
// customer the viewer may not see is dropped.
func (u *UI) loadCustomer(ctx context.Context, pr *identity.Principal, f *ticketForm) error {
	if f.CustomerID == 0 {
		return nil
	}
	c, err := u.Customers.Get(ctx, pr, f.CustomerID)
	if errors.Is(err, domain.ErrNotFound) {
		f.CustomerID = 0
		return nil
	}
	if err != nil {
		return err
	}
	f.Customer = &c
	f.Products, err = u.Customers.ListOwned(ctx, c.ID)
	return err
}

func (u *UI) newTicket(w http.ResponseWriter, r *http.Request) {
	f, err := u.blankTicketForm(r)
	if err == nil {
		f.CustomerID, _ = strconv.ParseInt(r.URL.Query().Get("customer_id"), 10, 64)
		err = u.loadCustomer(r.Context(), httpx.Principal(r), f)
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if len(f.Products) == 1 {
		f.OwnedProductID = f.Products[0].ID
	}
	u.render(w, r, http.StatusOK, "ticket_new", u.page(r, "tkt.new", f))
}

func (f *ticketForm) read(r *http.Request) {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f.CustomerID, _ = strconv.ParseInt(v("customer_id"), 10, 64)
	f.CustomerQ, f.NewName, f.NewPhone = v("customer_q"), v("new_name"), v("new_phone")
	f.OwnedProductID, _ = strconv.ParseInt(v("owned_product_id"), 10, 64)
	f.CategoryID, _ = strconv.ParseInt(v("category_id"), 10, 64)
	f.Type, f.Channel, f.Severity = v("type"), v("channel"), v("severity")
	f.Subject, f.Description, f.Expect = v("subject"), r.PostFormValue("description"), r.PostFormValue("expectation")
	f.Against, f.OccurredAt, f.Place, f.Ask = v("against"), v("occurred_at"), v("place"), v("wanted_remedy")
	f.NewOpen = f.NewName != "" || f.NewPhone != ""
	for i := range f.Fields {
		f.Fields[i].Value = v("custom_" + f.Fields[i].Key)
	}
}

// input is the store's intake input; a bad time is a field error.
func (f *ticketForm) input() (tickets.Input, error) {
	in := tickets.Input{CustomerID: f.CustomerID, Type: f.Type, Channel: f.Channel, Severity: f.Severity,
		Subject: f.Subject, Description: f.Description, Expectation: f.Expect}
	if f.OwnedProductID > 0 {
		in.OwnedProductID = &f.OwnedProductID
	}
	if f.CategoryID > 0 {
		in.CategoryID = &f.CategoryID
	}
	// Only the fields of the chosen type: those of another type stay on
	// the page, hidden, with what was typed in them.
	for _, fl := range f.Fields {
		if fl.Value != "" && fl.applies(f.Type) {
			if in.Custom == nil {
				in.Custom = map[string]any{}
			}
			in.Custom[fl.Key] = fl.Value
		}
	}
	if f.Type == "complaint" {
		in.Complaint = &tickets.Complaint{Against: f.Against, Place: f.Place, WantedRemedy: f.Ask}
		if f.OccurredAt != "" {
			at, err := time.ParseInLocation("2006-01-02T15:04", f.OccurredAt, shanghai)
			if err != nil {
				return in, domain.Invalid("complaint.occurred_at", "tkt.bad_time", nil)
			}
			in.Complaint.OccurredAt = &at
		}
	}
	return in, nil
}

func (u *UI) createTicket(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	pr := httpx.Principal(r)
	f, err := u.blankTicketForm(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	f.read(r)
	// No customer chosen but a search typed (or 查找 pressed): the search
	// step of the form without JavaScript.
	if r.PostFormValue("find") != "" || (f.CustomerID == 0 && f.CustomerQ != "" && !f.NewOpen) {
		u.ticketSearchStep(w, r, f)
		return
	}
	in, err := f.input()
	var id int64
	if err == nil {
		err = u.DB.WithTx(ctx, func(ctx context.Context) error {
			if f.CustomerID == 0 && f.NewOpen && f.CanCreateCustomer {
				phones := []string{}
				if f.NewPhone != "" {
					phones = append(phones, f.NewPhone)
				}
				c, err := u.Customers.Create(ctx, customers.Input{Name: &f.NewName, Phones: &phones})
				if err != nil {
					return newCustomerErr(err)
				}
				in.CustomerID = c.ID
			}
			var err error
			id, err = u.Tickets.CreateInTx(ctx, pr, in)
			return err
		})
	}
	if err != nil {
		p := u.page(r, "tkt.new", f)
		if lerr := u.loadCustomer(ctx, pr, f); lerr != nil {
			u.fail(w, r, lerr)
			return
		}
		if dup, ok := asDuplicate(err); ok {
			f.DuplicateID, f.DuplicateNumber = dup.ExistingID, dup.ExistingNumber
			p.Error = "tkt.duplicate_customer"
			u.render(w, r, http.StatusConflict, "ticket_new", p)
			return
		}
		if u.fieldErrors(p, err) {
			u.render(w, r, http.StatusBadRequest, "ticket_new", p)
			return
		}
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/tickets/%d?done=ticket_created", id))
}

// newCustomerErr names the inline customer's fields as the form does.
func newCustomerErr(err error) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	out := &domain.ValidationError{}
	for _, fe := range v.Fields {
		switch {
		case fe.Field == "name":
			fe.Field = "new_name"
		case strings.HasPrefix(fe.Field, "phones"):
			fe.Field = "new_phone"
		}
		out.Fields = append(out.Fields, fe)
	}
	return out
}

// ticketSearchStep shows the customers matching the typed search as
// choices, keeping everything else typed.
func (u *UI) ticketSearchStep(w http.ResponseWriter, r *http.Request, f *ticketForm) {
	pr := httpx.Principal(r)
	f.CustomerID, f.Customer, f.Searched = 0, nil, true
	if f.CustomerQ != "" && pr.Can(identity.CustomersView) {
		page, err := u.Customers.Search(r.Context(), pr, customers.Filter{Q: f.CustomerQ, Limit: 8})
		if err != nil {
			var v *domain.ValidationError
			if !errors.As(err, &v) {
				u.fail(w, r, err)
				return
			}
		}
		f.Found = page.Items
	}
	if len(f.Found) == 1 {
		f.CustomerID = f.Found[0].ID
		if err := u.loadCustomer(r.Context(), pr, f); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	u.render(w, r, http.StatusOK, "ticket_new", u.page(r, "tkt.new", f))
}
