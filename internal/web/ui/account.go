package ui

import (
	"errors"
	"net/http"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (u *UI) accountRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/account", Perm: identity.Authenticated, Handler: u.account},
		{Method: "POST", Path: "/account/password", Perm: identity.Authenticated, Handler: u.changePassword},
		{Method: "POST", Path: "/account/tokens", Perm: identity.Authenticated, Handler: u.createToken},
		{Method: "POST", Path: "/account/signature", Perm: identity.TicketsEdit, Handler: u.saveSignature},
		{Method: "POST", Path: "/account/tokens/{id}/revoke", Perm: identity.Authenticated, Handler: u.revokeToken},
	}
}

type accountData struct {
	Tokens []identity.Token
	// NewToken is a token secret, shown once right after creation.
	NewToken string
	// Signature is the email signature under the user's replies; shown
	// to those who reply (tickets.edit).
	Signature    string
	HasSignature bool
}

func (u *UI) accountPage(w http.ResponseWriter, r *http.Request, status int, d accountData, flash string, formErr error) {
	tokens, err := u.Identity.ListTokens(r.Context(), httpx.Principal(r).UserID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Tokens = tokens
	if httpx.Principal(r).Can(identity.TicketsEdit) && u.Mailboxes != nil {
		d.HasSignature = true
		if !formHasSignature(r) {
			if d.Signature, err = u.Mailboxes.Signature(r.Context(), httpx.Principal(r).UserID); err != nil {
				u.fail(w, r, err)
				return
			}
		}
	}
	p := u.page(r, "account.title", d)
	if flash != "" {
		p.Flash = flash
	}
	if formErr != nil && !u.fieldErrors(p, formErr) {
		u.fail(w, r, formErr)
		return
	}
	u.render(w, r, status, "account", p)
}

func (u *UI) account(w http.ResponseWriter, r *http.Request) {
	u.accountPage(w, r, http.StatusOK, accountData{}, "", nil)
}

func (u *UI) changePassword(w http.ResponseWriter, r *http.Request) {
	p := httpx.Principal(r)
	current, next, again := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("password2")
	if _, err := u.Identity.Authenticate(r.Context(), p.Email, current, httpx.ClientIP(r.Context())); err != nil {
		var th *identity.ThrottledError
		if errors.As(err, &th) || errors.Is(err, identity.ErrBadCredentials) {
			u.accountPage(w, r, http.StatusBadRequest, accountData{}, "", domain.Invalid("current", "validation.current_password", nil))
			return
		}
		u.fail(w, r, err)
		return
	}
	if next != again {
		u.accountPage(w, r, http.StatusBadRequest, accountData{}, "", domain.Invalid("password2", "validation.password_mismatch", nil))
		return
	}
	if err := u.Identity.SetPassword(r.Context(), p.UserID, next); err != nil {
		u.accountPage(w, r, http.StatusBadRequest, accountData{}, "", err)
		return
	}
	// Changing the password ended every session, this one included: start a
	// fresh one so the user stays signed in here and only here.
	if err := u.startSession(w, r, p.UserID); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/account?done=password_changed")
}

func (u *UI) createToken(w http.ResponseWriter, r *http.Request) {
	_, secret, err := u.Identity.CreateToken(r.Context(), httpx.Principal(r).UserID, r.PostFormValue("name"))
	if err != nil {
		u.accountPage(w, r, http.StatusBadRequest, accountData{}, "", err)
		return
	}
	u.accountPage(w, r, http.StatusOK, accountData{NewToken: secret}, "flash.token_created", nil)
}

func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.Identity.RevokeToken(r.Context(), httpx.Principal(r).UserID, id); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/account?done=token_revoked")
}

// formHasSignature tells whether the page shows a signature just typed
// (refused), which must not be replaced by the stored one.
func formHasSignature(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/account/signature"
}

func (u *UI) saveSignature(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	sig := r.PostForm.Get("signature")
	if err := u.Mailboxes.SetSignature(r.Context(), httpx.Principal(r).UserID, sig); err != nil {
		u.accountPage(w, r, http.StatusBadRequest, accountData{Signature: sig}, "", err)
		return
	}
	http.Redirect(w, r, "/account?done=signature_saved", http.StatusSeeOther)
}
