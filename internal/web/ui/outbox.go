package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/web/httpx"
)

// The outbox (/admin/outbox), for those with settings.manage: what went
// out, what waits, and the dead letters with a button to send them again.
// The API has the same at /api/v1/outbox.

func (u *UI) outboxRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/admin/outbox", Perm: identity.SettingsManage, Handler: u.outboxList},
		{Method: "GET", Path: "/admin/outbox/{id}", Perm: identity.SettingsManage, Handler: u.outboxShow},
		{Method: "POST", Path: "/admin/outbox/{id}/retry", Perm: identity.SettingsManage, Handler: u.outboxRetry},
	}
}

type outboxTab struct {
	State, Href string
	Count       int
	Active      bool
}

type outboxPage struct {
	Tabs     []outboxTab
	State    string
	Channel  string   // the filter, "" for every channel
	Channels []string // what the filter offers
	Rows     []notify.Message
	Receipts map[int64]receiptView // SMS rows' delivery receipts (channels_receipts.go)
	NextURL  string
}

func (u *UI) outboxList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	channel, err := outboxChannel(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	f := notify.ListFilter{State: state, Channel: channel, Limit: 50}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	rows, err := u.Outbox.List(r.Context(), f)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	receipts, err := u.receipts(r.Context(), rows)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	counts, err := u.Outbox.Counts(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := &outboxPage{State: state, Channel: channel, Channels: outboxChannels, Rows: rows, Receipts: receipts}
	// The state tabs keep the channel filter.
	withChannel := func(v url.Values) string {
		if channel != "" {
			v.Set("channel", channel)
		}
		if len(v) == 0 {
			return "/admin/outbox"
		}
		return "/admin/outbox?" + v.Encode()
	}
	total := 0
	for _, s := range notify.States {
		total += counts[s]
	}
	d.Tabs = append(d.Tabs, outboxTab{State: "all", Href: withChannel(url.Values{}), Count: total, Active: state == ""})
	for _, s := range notify.States {
		d.Tabs = append(d.Tabs, outboxTab{State: s, Href: withChannel(url.Values{"state": {s}}), Count: counts[s], Active: state == s})
	}
	if len(rows) == f.Limit {
		v := url.Values{"before": {fmt.Sprint(rows[len(rows)-1].ID)}}
		if state != "" {
			v.Set("state", state)
		}
		d.NextURL = withChannel(v)
	}
	p := u.page(r, "outbox.title", d)
	if id := q.Get("retried"); id != "" {
		p.Flash, p.FlashArgs = "outbox.retried", []any{"ID", id}
	}
	u.render(w, r, http.StatusOK, "outbox", p)
}

func (u *UI) outboxRetry(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if _, err := u.Outbox.Retry(r.Context(), id); err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/outbox?state=dead&retried=%d", id), http.StatusSeeOther)
}
