package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/web/httpx"
)

// outboxPage is a page of outbox rows, newest first, with the counts per
// state (the dead letters an administrator should look at).
type outboxPage struct {
	Items  []outboxItem   `json:"items"`
	Counts map[string]int `json:"counts"`
	// Next is the before= of the following page (0: none).
	Next int64 `json:"next,omitempty"`
}

// outboxItem is a row with, for an SMS, the delivery receipt the provider
// posted (what the phone did with it); absent until one came.
type outboxItem struct {
	notify.Message
	Receipt *smsReceipt `json:"receipt,omitempty"`
}

type smsReceipt struct {
	Delivered bool      `json:"delivered"`
	Code      string    `json:"code"`    // DELIVERED, DELIVRD, the carrier's error code
	Message   string    `json:"message"` // the provider's words
	At        time.Time `json:"at"`      // when the phone got it (or the report was made)
}

// outboxItems adds the SMS rows' receipts (one indexed read each, at most
// a page).
func (a *API) outboxItems(r *http.Request, ms []notify.Message) ([]outboxItem, error) {
	out := make([]outboxItem, 0, len(ms))
	for _, m := range ms {
		it := outboxItem{Message: m}
		if a.SMS != nil && m.Channel == notify.ChannelSMS && m.ProviderID != "" {
			rc, ok, err := a.SMS.ReceiptOf(r.Context(), m.ID)
			if err != nil {
				return nil, err
			}
			if ok {
				it.Receipt = &smsReceipt{Delivered: rc.Delivered, Code: rc.Code, Message: rc.Message, At: rc.At}
			}
		}
		out = append(out, it)
	}
	return out, nil
}

func (a *API) outboxRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/outbox", Perm: identity.SettingsManage, Handler: a.listOutbox,
			Summary:  "Outbound messages, newest first, by state (queued, sending, sent, dead, suppressed) and channel; an SMS carries its delivery receipt once the provider reported one",
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
	withReceipts, err := a.outboxItems(r, items)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	page := outboxPage{Items: withReceipts, Counts: counts}
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
