package api

import (
	"fmt"
	"net/http"

	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (a *API) mailboxRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/mailboxes", Perm: identity.SettingsManage, Handler: a.listMailboxes,
			Summary: "The company's mailboxes (passwords are never returned)", Response: []email.Mailbox{}},
		{Method: "POST", Path: "/api/v1/mailboxes", Perm: identity.SettingsManage, Handler: a.createMailbox,
			Summary: "Add a mailbox: its SMTP server (sending) and IMAP server (taking mail in); passwords are sealed with the server's secret key",
			Request: email.MailboxInput{}, Response: email.Mailbox{}},
		{Method: "GET", Path: "/api/v1/mailboxes/{id}", Perm: identity.SettingsManage, Handler: a.getMailbox,
			Summary:  "A mailbox with its intake's state: last poll, last error, mails taken in and refused (with the latest refused and why)",
			Response: email.Mailbox{}},
		{Method: "PATCH", Path: "/api/v1/mailboxes/{id}", Perm: identity.SettingsManage, Handler: a.updateMailbox,
			Summary: "Change a mailbox: only the fields sent (rename, enable or disable, servers, folder, team, category, poll interval); passwords are write-only and sealed anew",
			Request: email.MailboxPatch{}, Response: email.Mailbox{}},
	}
}

func (a *API) getMailbox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	m, err := a.Mailboxes.WithStatus(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, m)
}

func (a *API) updateMailbox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var in email.MailboxPatch
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if _, err := a.Mailboxes.Update(r.Context(), id, in); err != nil {
		a.Error(w, r, err)
		return
	}
	a.getMailbox(w, r)
}

func (a *API) listMailboxes(w http.ResponseWriter, r *http.Request) {
	list, err := a.Mailboxes.List(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, list)
}

func (a *API) createMailbox(w http.ResponseWriter, r *http.Request) {
	var in email.MailboxInput
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	m, err := a.Mailboxes.Create(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.created(w, fmt.Sprintf("/api/v1/mailboxes/%d", m.ID), m)
}

// Signature is the caller's email signature, added under their replies.
type Signature struct {
	Signature string `json:"signature"`
}

func (a *API) signatureRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/me/signature", Perm: identity.TicketsEdit, Handler: a.getSignature,
			Summary: "Your email signature, added under your replies to customers", Response: Signature{}},
		{Method: "PUT", Path: "/api/v1/me/signature", Perm: identity.TicketsEdit, Handler: a.putSignature,
			Summary: "Set your email signature (at most 1,000 characters; empty removes it)", Request: Signature{}, Response: Signature{}},
	}
}

func (a *API) getSignature(w http.ResponseWriter, r *http.Request) {
	sig, err := a.Mailboxes.Signature(r.Context(), httpx.Principal(r).UserID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, Signature{Signature: sig})
}

func (a *API) putSignature(w http.ResponseWriter, r *http.Request) {
	var in Signature
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if err := a.Mailboxes.SetSignature(r.Context(), httpx.Principal(r).UserID, in.Signature); err != nil {
		a.Error(w, r, err)
		return
	}
	a.getSignature(w, r)
}
