package ui

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/web/httpx"
)

// A stale edit: someone saved the record after this form was opened. The
// form comes back with everything as typed, what the other person changed
// (who, when, which fields, their values now) and, per field, a button to
// take theirs; saving then overwrites deliberately (the form's version is
// the current one, its base the one it was opened at).

type staleConflict struct {
	Base    int // the version the form was opened at
	Changes []staleChange
	Fields  []staleField
}

// staleChange is one save by someone else.
type staleChange struct {
	Who, When string
	Fields    []string // catalog keys of the fields changed
}

// staleField is a field someone else changed: their value now and whether
// the form already holds it.
type staleField struct {
	Key, Label, Theirs, Yours string
	Same                      bool
}

// versionActions are the audit actions of the changes that give a customer
// a new version, one entry per version.
var versionActions = []string{"customer.update", "customer.lifecycle_override", "customer.merge", "customer.erase"}

func isStale(err error) bool { return errors.Is(err, domain.ErrStale) }

// staleForm renders the form of a stale edit; take, when set, replaces that
// field of the form by the stored value.
func (u *UI) staleForm(w http.ResponseWriter, r *http.Request, f *customerForm, base int, take string) {
	pr := httpx.Principal(r)
	cur, err := u.Customers.Get(r.Context(), pr, f.ID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.page(r, "customers.edit", f)
	entries, err := u.Audit.List(r.Context(), audit.Filter{Entity: "customer", EntityID: strconv.FormatInt(f.ID, 10), Action: "customer.", Limit: 100})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	theirs := formOf(cur)
	theirs.Staff = f.Staff
	c := &staleConflict{Base: base}
	changed := map[string]bool{}
	for _, e := range entries.Entries {
		if len(c.Changes) >= cur.Version-base {
			break
		}
		if !slices.Contains(versionActions, e.Action) {
			continue
		}
		ch := staleChange{Who: u.staffLabel(r, e), When: p.Time(e.At)}
		keys := make([]string, 0, len(e.Changes))
		for k := range e.Changes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			ch.Fields = append(ch.Fields, fieldLabelKey(k))
			changed[k] = true
		}
		c.Changes = append(c.Changes, ch)
	}
	if take != "" && changed[take] {
		f.takeTheirs(take, theirs)
	}
	keys := make([]string, 0, len(changed))
	for k := range changed {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t, mine, ok := formValue(k, &theirs), formValue(k, f), formHas(k)
		if !ok {
			continue
		}
		c.Fields = append(c.Fields, staleField{Key: k, Label: fieldLabelKey(k), Theirs: u.displayValue(p, k, t, &theirs),
			Yours: u.displayValue(p, k, mine, f), Same: t == mine})
	}
	f.Conflict = c
	f.Version = cur.Version // saving now overwrites, deliberately
	p.Error = "customers.stale_warning"
	status := http.StatusConflict
	if take != "" {
		status = http.StatusOK
	}
	u.render(w, r, status, "customer_form", p)
}

// staffLabel names who made an audited change: the user's name, else the
// label the entry kept.
func (u *UI) staffLabel(r *http.Request, e audit.Entry) string {
	if e.ActorID != 0 {
		if names, err := u.Customers.StaffNames(r.Context(), []int64{e.ActorID}); err == nil && names[e.ActorID] != "" {
			return names[e.ActorID]
		}
	}
	return e.ActorLabel
}

// fieldLabelKey is the catalog key of a customer field's label; a
// customer's name is 名称 (customers.name_col), not a person's 姓名.
func fieldLabelKey(k string) string {
	if k == "name" {
		return "customers.name_col"
	}
	return "field." + k
}

// formHas tells whether the form edits field k (and can take theirs).
func formHas(k string) bool {
	_, ok := formFields[k]
	return ok
}

// formFields reach a form's value of each audited customer field.
var formFields = map[string]func(f *customerForm) *string{
	"type": func(f *customerForm) *string { return &f.Type }, "name": func(f *customerForm) *string { return &f.Name },
	"phones": func(f *customerForm) *string { return &f.Phones }, "email": func(f *customerForm) *string { return &f.Email },
	"wechat": func(f *customerForm) *string { return &f.WeChat }, "address": func(f *customerForm) *string { return &f.Address },
	"industry": func(f *customerForm) *string { return &f.Industry }, "birthday": func(f *customerForm) *string { return &f.Birthday },
	"cooperation_start": func(f *customerForm) *string { return &f.CooperationStart },
	"preferred_channel": func(f *customerForm) *string { return &f.PreferredChannel },
	"preferred_time":    func(f *customerForm) *string { return &f.PreferredTime }, "tier": func(f *customerForm) *string { return &f.Tier },
	"tags": func(f *customerForm) *string { return &f.Tags }, "remarks": func(f *customerForm) *string { return &f.Remarks },
	"lifecycle_override": func(f *customerForm) *string { return &f.LifecycleOverride },
	"owner_id":           nil, "contacts": nil, "custom": nil,
}

// formValue is field k of f as comparable text.
func formValue(k string, f *customerForm) string {
	switch k {
	case "owner_id":
		return strconv.FormatInt(f.OwnerID, 10)
	case "contacts":
		var parts []string
		for _, c := range f.Contacts {
			parts = append(parts, strings.Join([]string{c.Name, c.Title, c.Phone, c.Email, strconv.FormatBool(c.Primary)}, "|"))
		}
		return strings.Join(parts, "\n")
	case "custom":
		keys := make([]string, 0, len(f.Custom))
		for key := range f.Custom {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		var parts []string
		for _, key := range keys {
			parts = append(parts, key+"="+f.Custom[key])
		}
		return strings.Join(parts, "\n")
	}
	if get := formFields[k]; get != nil {
		return strings.TrimSpace(*get(f))
	}
	return ""
}

// takeTheirs replaces field k of the form by its value in theirs.
func (f *customerForm) takeTheirs(k string, theirs customerForm) {
	switch k {
	case "owner_id":
		f.OwnerID = theirs.OwnerID
	case "contacts":
		f.Contacts = theirs.Contacts
	case "custom":
		f.Custom = theirs.Custom
	default:
		if get := formFields[k]; get != nil {
			*get(f) = *get(&theirs)
		}
	}
}

// displayValue shows a stored value as a reader reads it: labels for codes,
// the owner's name, contacts by name.
func (u *UI) displayValue(p *Page, k, v string, theirs *customerForm) string {
	if v == "" || v == "0" {
		return "—"
	}
	switch k {
	case "type":
		return p.T("customers.type_" + v)
	case "tier":
		return p.T("customers.tier_" + v)
	case "preferred_channel":
		return p.T("customers.channel_" + v)
	case "lifecycle_override":
		return p.T("customers.stage_" + v)
	case "owner_id":
		for _, s := range theirs.Staff {
			if s.ID == theirs.OwnerID {
				return s.Name
			}
		}
		return fmt.Sprint(theirs.OwnerID)
	case "contacts":
		var names []string
		for _, c := range theirs.Contacts {
			names = append(names, c.Name)
		}
		return strings.Join(names, p.T("list.sep"))
	}
	return v
}
