package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/web/httpx"
)

// customerForm is what the create and edit forms hold, as typed.
type customerForm struct {
	ID                                                   int64
	Version                                              int
	Type, Name, Phones, Email, WeChat, Address, Industry string
	Birthday, CooperationStart, PreferredChannel, Tier   string
	PreferredTime, Tags, Remarks, LifecycleOverride      string
	OwnerID                                              int64
	Contacts                                             []contactRow
	DuplicateID                                          int64
	DuplicateNumber                                      string
	Tiers, Channels, Stages                              []string
	// Staff are the active staff for the owner picker; an owner who has
	// left stays selectable under their name (OwnerGone).
	Staff     []customers.Staff
	OwnerGone string
	// Fields are the admin-defined fields; Custom their values as typed.
	Fields []customers.CustomField
	Custom map[string]string
	// Conflict is set when someone else saved the record meanwhile.
	Conflict *staleConflict
}

// contactRow is one contact of an organisation on the form.
type contactRow struct {
	ID                        int64
	Name, Title, Phone, Email string
	Primary                   bool
}

// blankContactRows are the empty contact rows offered for new contacts.
const blankContactRows = 2

func newForm() customerForm {
	return customerForm{Tiers: customers.Tiers, Channels: customers.Channels, Stages: customers.Stages}
}

func formOf(c customers.Customer) customerForm {
	f := newForm()
	f.ID, f.Version, f.Type, f.Name, f.Phones, f.Email = c.ID, c.Version, c.Type, c.Name, strings.Join(c.Phones, "\n"), c.Email
	f.WeChat, f.Address, f.Industry, f.Birthday, f.CooperationStart = c.WeChat, c.Address, c.Industry, c.Birthday, c.CooperationStart
	f.PreferredChannel, f.Tier, f.PreferredTime, f.Tags = c.PreferredChannel, c.Tier, c.PreferredTime, strings.Join(c.Tags, ", ")
	f.Remarks, f.LifecycleOverride, f.Custom = c.Remarks, c.LifecycleOverride, customText(c.Custom)
	if c.OwnerID != nil {
		f.OwnerID = *c.OwnerID
	}
	for _, ct := range c.Contacts {
		f.Contacts = append(f.Contacts, contactRow{ID: ct.ID, Name: ct.Name, Title: ct.Title, Phone: ct.Phone, Email: ct.Email, Primary: ct.Primary})
	}
	return f
}

func customText(values map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range values {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// ContactRows are the contact rows to show: the contacts and blank ones.
func (f *customerForm) ContactRows() []contactRow {
	rows := append([]contactRow{}, f.Contacts...)
	for range blankContactRows {
		rows = append(rows, contactRow{})
	}
	return rows
}

func (f *customerForm) read(r *http.Request) customers.Input {
	v := r.PostFormValue
	f.Type, f.Name, f.Phones, f.Email, f.WeChat = v("type"), v("name"), v("phones"), v("email"), v("wechat")
	f.Address, f.Industry, f.Birthday, f.CooperationStart = v("address"), v("industry"), v("birthday"), v("cooperation_start")
	f.PreferredChannel, f.Tier, f.PreferredTime, f.Tags, f.Remarks = v("preferred_channel"), v("tier"), v("preferred_time"), v("tags"), v("remarks")
	f.LifecycleOverride = v("lifecycle_override")
	f.OwnerID, _ = strconv.ParseInt(v("owner_id"), 10, 64)
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
	contacts := f.readContacts(r)
	owner := f.OwnerID // 0 clears the owner
	return customers.Input{Custom: &custom, Type: &f.Type, Name: &f.Name, Phones: &phones, Email: &f.Email, WeChat: &f.WeChat, Address: &f.Address,
		Industry: &f.Industry, Birthday: &f.Birthday, CooperationStart: &f.CooperationStart, PreferredChannel: &f.PreferredChannel,
		Tier: &f.Tier, PreferredTime: &f.PreferredTime, Tags: &tags, Remarks: &f.Remarks, OwnerID: &owner,
		LifecycleOverride: &f.LifecycleOverride, Contacts: &contacts, AllowDuplicate: v("allow_duplicate") == "on"}
}

// readContacts reads the contact rows (parallel fields contact_*; the
// primary one by its row number); wholly empty rows are dropped.
func (f *customerForm) readContacts(r *http.Request) []customers.Contact {
	pf := r.PostForm
	names := pf["contact_name"]
	at := func(key string, i int) string {
		if vs := pf[key]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	primary := r.PostFormValue("contact_primary")
	out := []customers.Contact{}
	f.Contacts = nil
	for i := range names {
		row := contactRow{Name: at("contact_name", i), Title: at("contact_title", i), Phone: at("contact_phone", i), Email: at("contact_email", i),
			Primary: primary == strconv.Itoa(i)}
		row.ID, _ = strconv.ParseInt(at("contact_id", i), 10, 64)
		if row.Name == "" && row.Title == "" && row.Phone == "" && row.Email == "" {
			continue
		}
		f.Contacts = append(f.Contacts, row)
		out = append(out, customers.Contact{ID: row.ID, Name: row.Name, Title: row.Title, Phone: row.Phone, Email: row.Email, Primary: row.Primary})
	}
	return out
}

func (u *UI) newCustomer(w http.ResponseWriter, r *http.Request) {
	f := newForm()
	f.Type, f.Tier = customers.TypeIndividual, "normal"
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
	f := newForm()
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
	// Editors see what they may see: masked phones stay masked and are
	// then kept unchanged unless retyped in full.
	c, ok := u.pathCustomer(w, r)
	if !ok {
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
	f := newForm()
	f.ID = id
	if !u.loadFields(w, r, &f) {
		return
	}
	in := f.read(r)
	f.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	base, _ := strconv.Atoi(r.PostFormValue("base"))
	if take := r.PostFormValue("take"); take != "" && base > 0 {
		// "Take theirs" for one field of a stale edit: nothing is saved.
		u.staleForm(w, r, &f, base, take)
		return
	}
	in.Version = &f.Version
	if _, err := u.Customers.Update(r.Context(), id, in); err != nil {
		if isStale(err) {
			if base == 0 {
				base = f.Version
			}
			u.staleForm(w, r, &f, base, "")
			return
		}
		if !u.formFailed(w, r, "customers.edit", &f, err) {
			u.fail(w, r, err)
		}
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=saved", id))
}

// loadFields puts the custom field definitions and the staff on the form.
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
	if f.Staff, err = u.Customers.ActiveStaff(r.Context()); err != nil {
		u.fail(w, r, err)
		return false
	}
	if f.OwnerID != 0 && !hasStaff(f.Staff, f.OwnerID) {
		names, err := u.Customers.StaffNames(r.Context(), []int64{f.OwnerID})
		if err != nil {
			u.fail(w, r, err)
			return false
		}
		f.OwnerGone = names[f.OwnerID]
	}
	return true
}

func hasStaff(list []customers.Staff, id int64) bool {
	for _, s := range list {
		if s.ID == id {
			return true
		}
	}
	return false
}
