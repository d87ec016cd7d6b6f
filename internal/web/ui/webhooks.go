package ui

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/webhooks"
)

// Webhooks (/admin/webhooks), for those with settings.manage: the
// subscriptions, a form to add one (its secret shown once, in the answer
// to the creation), and each one's deliveries with every attempt and a
// replay button. The API has the same at /api/v1/webhooks.

func (u *UI) webhookRoutes() []httpx.Route {
	m := identity.SettingsManage
	return []httpx.Route{
		{Method: "GET", Path: "/admin/webhooks", Perm: m, Handler: u.webhooks},
		{Method: "POST", Path: "/admin/webhooks", Perm: m, Handler: u.createWebhook},
		{Method: "GET", Path: "/admin/webhooks/{id}", Perm: m, Handler: u.webhook},
		{Method: "POST", Path: "/admin/webhooks/{id}/delete", Perm: m, Handler: u.deleteWebhook},
		{Method: "POST", Path: "/admin/webhooks/{id}/deliveries/{delivery_id}/replay", Perm: m, Handler: u.replayWebhook},
	}
}

type webhooksPage struct {
	Subscriptions []webhooks.Subscription
	Events        []string
	Form          webhooks.Input
	// Created is the subscription just made, with its secret: shown once.
	Created *webhooks.Subscription
	Open    bool
	// One subscription's page.
	Sub        *webhooks.Subscription
	Deliveries []webhooks.Delivery
}

// Chosen tells whether the form has event e ticked.
func (d *webhooksPage) Chosen(e string) bool {
	for _, x := range d.Form.Events {
		if x == e {
			return true
		}
	}
	return false
}

func (u *UI) webhooksPage(w http.ResponseWriter, r *http.Request, status int, d *webhooksPage, formErr error) {
	list, err := u.Webhooks.List(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Subscriptions, d.Events = list, webhooks.Events
	d.Open = len(list) == 0 || formErr != nil
	p := u.page(r, "webhooks.title", d)
	if formErr != nil && !u.fieldErrors(p, formErr) {
		u.fail(w, r, formErr)
		return
	}
	u.render(w, r, status, "webhooks", p)
}

func (u *UI) webhooks(w http.ResponseWriter, r *http.Request) {
	u.webhooksPage(w, r, http.StatusOK, &webhooksPage{Form: webhooks.Input{Events: []string{"ticket.created"}}}, nil)
}

func (u *UI) createWebhook(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, err)
		return
	}
	in := webhooks.Input{URL: strings.TrimSpace(r.PostFormValue("url")), Events: r.PostForm["events"],
		Description: r.PostFormValue("description"), AllowPrivate: r.PostFormValue("allow_private") != ""}
	sub, err := u.Webhooks.Create(r.Context(), in)
	if err != nil {
		u.webhooksPage(w, r, http.StatusBadRequest, &webhooksPage{Form: in}, err)
		return
	}
	// The secret goes out in this answer only: no redirect could carry it
	// without putting it in a URL or storing it plain.
	w.Header().Set("Cache-Control", "no-store")
	u.webhooksPage(w, r, http.StatusCreated, &webhooksPage{Created: &sub, Form: webhooks.Input{Events: []string{"ticket.created"}}}, nil)
}

func (u *UI) webhook(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	sub, err := u.Webhooks.Get(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	ds, err := u.Webhooks.Deliveries(r.Context(), id, 0, 50)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.page(r, "webhooks.deliveries_title", &webhooksPage{Sub: &sub, Deliveries: ds})
	p.TitleArgs = []any{"URL", sub.URL}
	u.render(w, r, http.StatusOK, "webhooks", p)
}

func (u *UI) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.Webhooks.Delete(r.Context(), id); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/webhooks?done=webhook_deleted")
}

func (u *UI) replayWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	did, err := httpx.PathID(r, "delivery_id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if _, err := u.Webhooks.Replay(r.Context(), id, did); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/admin/webhooks/%d?done=webhook_replayed", id))
}
