package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/web/httpx"
)

// What is done on a customer's record besides editing it: a purchase, a
// consent, a contact, erasure. Each form posts, then redirects to the record
// (303), or shows the record again with the form's errors and input.

func (u *UI) addCustomerProduct(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := r.PostFormValue
	in := customers.OwnedInput{Serial: v("serial"), PurchaseDate: strings.TrimSpace(v("purchase_date")),
		WarrantyEnd: strings.TrimSpace(v("warranty_end")), InstallAddress: v("install_address")}
	in.ProductID, _ = strconv.ParseInt(v("product_id"), 10, 64)
	if _, err := u.Customers.AddOwned(r.Context(), id, in); err != nil {
		u.reloadDetail(w, r, id, &customerPage{Product: in, FormName: "product"}, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=product_added#products", id))
}

func (u *UI) setCustomerConsent(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	form := consentForm{Channel: r.PostFormValue("channel"), Choice: r.PostFormValue("choice"), Source: r.PostFormValue("source")}
	if form.Choice != "allow" && form.Choice != "opt_out" {
		u.reloadDetail(w, r, id, &customerPage{Consent: form, FormName: "consent"}, domain.Invalid("choice", "validation.required", nil))
		return
	}
	if err := u.Customers.SetConsent(r.Context(), id, form.Channel, form.Choice == "opt_out", form.Source); err != nil {
		u.reloadDetail(w, r, id, &customerPage{Consent: form, FormName: "consent"}, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=consent_saved#consents", id))
}

func (u *UI) logCustomerInteraction(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	form := interactionForm{Channel: r.PostFormValue("channel"), Note: r.PostFormValue("note")}
	in := customers.Interaction{Channel: form.Channel, Note: form.Note}
	if s := strings.TrimSpace(r.PostFormValue("at")); s != "" {
		at, err := time.ParseInLocation("2006-01-02T15:04", s, shanghai)
		if err != nil {
			u.reloadDetail(w, r, id, &customerPage{Contact: form, FormName: "contact"}, domain.Invalid("at", "validation.date", nil))
			return
		}
		in.At = at
	}
	if err := u.Customers.LogInteraction(r.Context(), id, in); err != nil {
		u.reloadDetail(w, r, id, &customerPage{Contact: form, FormName: "contact"}, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=contact_logged#timeline", id))
}

// customerErase is the confirmation page of an erasure.
type customerErase struct {
	C customers.Customer
}

func (u *UI) confirmEraseCustomer(w http.ResponseWriter, r *http.Request) {
	c, ok := u.pathCustomer(w, r)
	if !ok {
		return
	}
	u.render(w, r, http.StatusOK, "customer_erase", u.page(r, "customers.erase_title", &customerErase{C: c}))
}

func (u *UI) eraseCustomer(w http.ResponseWriter, r *http.Request) {
	c, ok := u.pathCustomer(w, r)
	if !ok {
		return
	}
	// The number typed must be the record's: an erasure cannot be undone.
	if strings.TrimSpace(r.PostFormValue("confirm")) != c.Number {
		p := u.page(r, "customers.erase_title", &customerErase{C: c})
		p.Fields["confirm"] = u.Cat.T(p.Lang, "validation.erase_confirm", map[string]any{"Number": c.Number})
		p.Error = "error.validation"
		u.render(w, r, http.StatusBadRequest, "customer_erase", p)
		return
	}
	if err := u.Customers.Erase(r.Context(), c.ID); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/%d?done=erased", c.ID))
}
