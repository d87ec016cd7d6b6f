package api

import (
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/web/httpx"
)

// outboxPage is a page of outbox rows, newest first, with the counts per
// state (the dead letters an administrator should look at).
type outboxPage struct {
	Items  []notify.Message `json:"items"`
	Counts map[string]int   `json:"counts"`
	// Next is the before= of the following page (0: none).
	Next int64 `json:"next,omitempty"`
}

func (a *API) outboxRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/outbox", Perm: identity.SettingsManage, Handler: a.listOutbox,
			Summary:  "Outbound messages, newest first, by state (queued, sending, sent, dead, suppressed) and channel",
			Response: outboxPage{}, Query: []string{"state", "channel", "before", "limit"}},
		{Method: "POST", Path: "/api/v1/outbox/{id}/retry", Perm: identity.SettingsManage, Handler: a.retryOutbox,
			Summary: "Queue a dead or suppressed message again, due now, with its attempts counted afresh", Response: notify.Message{}},
	}
}

func (a *API) listOutbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := notify.ListFilter{State: q.Get("state"), Channel: q.Get("channel")}
	var v domain.ValidationError
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			v.Add("before", "validation.integer", nil)
		}
		f.Before = n
	}
	limit, err := httpx.Limit(r, 50)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	f.Limit = limit
	if err := v.Err(); err != nil {
		a.Error(w, r, err)
		return
	}
	items, err := a.Outbox.List(r.Context(), f)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	counts, err := a.Outbox.Counts(r.Context())
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page := outboxPage{Items: items, Counts: counts}
	if len(items) == f.Limit {
		page.Next = items[len(items)-1].ID
	}
	a.JSON(w, http.StatusOK, page)
}

func (a *API) retryOutbox(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		a.Error(w, r, err)
		return
	}
	m, err := a.Outbox.Retry(r.Context(), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, m)
}
