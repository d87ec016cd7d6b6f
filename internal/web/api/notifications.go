package api

import (
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/web/httpx"
)

// NotificationList is a page of the caller's notifications, newest first.
type NotificationList struct {
	Items []notify.Notification `json:"items"`
	// NextBefore is the ?before= of the next (older) page; absent at the end.
	NextBefore int64 `json:"next_before,omitempty"`
	Unread     int   `json:"unread"`
}

// NotificationsRead is the body of POST /api/v1/notifications/read: ids,
// or all.
type NotificationsRead struct {
	IDs []int64 `json:"ids"`
	All bool    `json:"all"`
}

// NotificationsMarked answers it.
type NotificationsMarked struct {
	Marked int64 `json:"marked"`
	Unread int   `json:"unread"`
}

// UnreadCount is the bell's number.
type UnreadCount struct {
	Unread int `json:"unread"`
}

// NotificationSettings are the caller's channels per event; a PUT may name
// only the events and channels it changes.
type NotificationSettings struct {
	Events   []string     `json:"events,omitempty"`
	Channels []string     `json:"channels,omitempty"`
	Settings notify.Prefs `json:"settings"`
}

func (a *API) notificationRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/notifications", Perm: identity.Authenticated, Handler: a.listNotifications,
			Summary: "The caller's notifications, newest first", Response: NotificationList{}, Query: []string{"unread", "before", "limit"}},
		{Method: "GET", Path: "/api/v1/notifications/unread", Perm: identity.Authenticated, Handler: a.unreadNotifications,
			Summary: "How many of the caller's notifications are unread (the bell)", Response: UnreadCount{}},
		{Method: "POST", Path: "/api/v1/notifications/read", Perm: identity.Authenticated, Handler: a.markNotificationsRead,
			Summary: "Mark some (ids) or all of the caller's notifications read", Request: NotificationsRead{}, Response: NotificationsMarked{}},
		{Method: "GET", Path: "/api/v1/me/notification-settings", Perm: identity.Authenticated, Handler: a.notificationSettings,
			Summary: "The caller's notification channels per event", Response: NotificationSettings{}},
		{Method: "PUT", Path: "/api/v1/me/notification-settings", Perm: identity.Authenticated, Handler: a.putNotificationSettings,
			Summary: "Change the caller's notification channels per event", Request: NotificationSettings{}, Response: NotificationSettings{}},
	}
}

func (a *API) inbox() *notify.Inbox { return notify.NewInbox(a.DB, a.Clock, a.Audit) }

// NotificationTitles puts each title in lang (from its key when the
// catalog has it).
func NotificationTitles(k httpx.Kit, lang string, list []notify.Notification) {
	for i := range list {
		if n := &list[i]; n.TitleKey != "" && k.Cat.Has(n.TitleKey) {
			n.Title = k.Cat.T(lang, n.TitleKey, n.Params)
		}
	}
}

func (a *API) listNotifications(w http.ResponseWriter, r *http.Request) {
	p := httpx.Principal(r)
	q := r.URL.Query()
	var o notify.ListOptions
	switch q.Get("unread") {
	case "", "0", "false":
	case "1", "true":
		o.Unread = true
	default:
		a.Error(w, r, domain.Invalid("unread", "validation.boolean", nil))
		return
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			a.Error(w, r, domain.Invalid("before", "validation.integer", nil))
			return
		}
		o.Before = n
	}
	limit, err := httpx.Limit(r, 30)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	o.Limit = min(limit, 100)
	list, err := a.inbox().List(r.Context(), p.UserID, o)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	NotificationTitles(a.Kit, httpx.Lang(r), list)
	out := NotificationList{Items: list}
	if len(list) == o.Limit {
		out.NextBefore = list[len(list)-1].ID
	}
	if out.Unread, err = a.inbox().UnreadCount(r.Context(), p.UserID); err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, out)
}

func (a *API) unreadNotifications(w http.ResponseWriter, r *http.Request) {
	n, err := a.inbox().UnreadCount(r.Context(), httpx.Principal(r).UserID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.JSON(w, http.StatusOK, UnreadCount{Unread: n})
}

func (a *API) markNotificationsRead(w http.ResponseWriter, r *http.Request) {
	var in NotificationsRead
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	p := httpx.Principal(r)
	if in.All && len(in.IDs) > 0 {
		a.Error(w, r, domain.Invalid("all", "validation.notify_ids_or_all", nil))
		return
	}
	n, err := a.inbox().MarkRead(r.Context(), p.UserID, in.IDs, in.All)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	c, err := a.inbox().UnreadCount(r.Context(), p.UserID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, NotificationsMarked{Marked: n, Unread: c})
}

func (a *API) notificationSettings(w http.ResponseWriter, r *http.Request) {
	prefs, err := a.inbox().Prefs(r.Context(), httpx.Principal(r).UserID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, NotificationSettings{Events: notify.NoticeEvents, Channels: notify.NoticeChannels, Settings: prefs})
}

func (a *API) putNotificationSettings(w http.ResponseWriter, r *http.Request) {
	var in NotificationSettings
	if a.DecodeFailed(w, r, httpx.Decode(r, &in)) {
		return
	}
	if in.Settings == nil {
		a.Error(w, r, domain.Invalid("settings", "validation.required", nil))
		return
	}
	prefs, err := a.inbox().SetPrefs(r.Context(), httpx.Principal(r).UserID, in.Settings)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, NotificationSettings{Events: notify.NoticeEvents, Channels: notify.NoticeChannels, Settings: prefs})
}
