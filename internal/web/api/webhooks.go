package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/webhooks"
)

// deliveriesPage is a page of a webhook's deliveries, newest first.
type deliveriesPage struct {
	Items []webhooks.Delivery `json:"items"`
	// Next is the before= of the following page (0: none).
	Next int64 `json:"next,omitempty"`
}

// Webhooks are for administrators (settings.manage, as the outbox they
// go through): a subscription sends company data to another system.
func (a *API) webhookRoutes() []httpx.Route {
	m := identity.SettingsManage
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/webhooks", Perm: m, Handler: a.listWebhooks,
			Summary: "Webhook subscriptions (secrets are never returned)", Response: []webhooks.Subscription{}},
		{Method: "POST", Path: "/api/v1/webhooks", Perm: m, Handler: a.createWebhook,
			Summary: "Subscribe a URL to events; the answer carries the signing secret, shown this once. " +
				"The URL must reach a public address unless allow_private is set",
			Request: webhooks.Input{}, Response: webhooks.Subscription{}},
		{Method: "GET", Path: "/api/v1/webhooks/{id}", Perm: m, Handler: a.getWebhook,
			Summary: "A webhook subscription", Response: webhooks.Subscription{}},
		{Method: "DELETE", Path: "/api/v1/webhooks/{id}", Perm: m, Handler: a.deleteWebhook,
			Summary: "End a subscription: nothing more is sent to it; its delivery log stays"},
		{Method: "GET", Path: "/api/v1/webhooks/{id}/deliveries", Perm: m, Handler: a.listWebhookDeliveries,
			Summary:  "A subscription's deliveries, newest first, each with its state, payload and every attempt's answer",
			Response: deliveriesPage{}, Query: []string{"before", "limit"}},
		{Method: "POST", Path: "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", Perm: m, Handler: a.replayWebhookDelivery,
			Summary: "Send a delivery's event again, as a new delivery (new id, replay_of the first)", Response: webhooks.Delivery{}},
	}
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) {
	list, err := a.Webhooks.List(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, list)
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhooks.Input
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	sub, err := a.Webhooks.Create(r.Context(), in)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.created(w, fmt.Sprintf("/api/v1/webhooks/%d", sub.ID), sub)
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	sub, err := a.Webhooks.Get(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, sub)
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if err := a.Webhooks.Delete(r.Context(), id); err != nil {
		a.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	var before int64
	if s := r.URL.Query().Get("before"); s != "" {
		if before, err = strconv.ParseInt(s, 10, 64); err != nil || before <= 0 {
			a.Error(w, r, domain.Invalid("before", "validation.integer", nil))
			return
		}
	}
	limit, err := httpx.Limit(r, 50)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	items, err := a.Webhooks.Deliveries(r.Context(), id, before, limit)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page := deliveriesPage{Items: items}
	if len(items) == limit {
		page.Next = items[len(items)-1].ID
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) replayWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	did, err := httpx.PathID(r, "delivery_id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	d, err := a.Webhooks.Replay(r.Context(), id, did)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.created(w, fmt.Sprintf("/api/v1/webhooks/%d/deliveries", id), d)
}
