package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (u *UI) notificationRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/notifications", Perm: identity.Authenticated, Handler: u.notifications},
		{Method: "POST", Path: "/notifications/read-all", Perm: identity.Authenticated, Handler: u.readAllNotifications},
		{Method: "POST", Path: "/notifications/{id}/open", Perm: identity.Authenticated, Handler: u.openNotification},
		{Method: "GET", Path: "/account/notifications", Perm: identity.Authenticated, Handler: u.notificationSettings},
		{Method: "POST", Path: "/account/notifications", Perm: identity.Authenticated, Handler: u.saveNotificationSettings},
	}
}

func (u *UI) inbox() *notify.Inbox { return notify.NewInbox(u.DB, u.Clock, u.Audit) }

// UnreadNotifications is the bell's number on every page (0 hides it).
func (p *Page) UnreadNotifications() int {
	if p.User == nil || p.u.DB == nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, _ := p.u.inbox().UnreadCount(ctx, p.User.UserID)
	return n
}

// BellText is the badge's text: the count, or 99+.
func (p *Page) BellText(n int) string {
	if n > 99 {
		return "99+"
	}
	return strconv.Itoa(n)
}

type notificationsData struct {
	Items      []notify.Notification
	Unread     bool // the unread filter is on
	NextBefore int64
}

const notificationsPage = 30

func (u *UI) notifications(w http.ResponseWriter, r *http.Request) {
	pr := httpx.Principal(r)
	o := notify.ListOptions{Unread: r.URL.Query().Get("unread") == "1", Limit: notificationsPage}
	if s := r.URL.Query().Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			u.fail(w, r, domain.Invalid("before", "validation.integer", nil))
			return
		}
		o.Before = n
	}
	list, err := u.inbox().List(r.Context(), pr.UserID, o)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	lang := httpx.Lang(r)
	for i := range list {
		if n := &list[i]; n.TitleKey != "" && u.Cat.Has(n.TitleKey) {
			n.Title = u.Cat.T(lang, n.TitleKey, n.Params)
		}
	}
	d := notificationsData{Items: list, Unread: o.Unread}
	if len(list) == o.Limit {
		d.NextBefore = list[len(list)-1].ID
	}
	u.render(w, r, http.StatusOK, "notifications", u.page(r, "notifications.title", d))
}

func (u *UI) readAllNotifications(w http.ResponseWriter, r *http.Request) {
	if _, err := u.inbox().MarkRead(r.Context(), httpx.Principal(r).UserID, nil, true); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/notifications?done=notifications_read")
}

// openNotification marks one read and follows its link (a path on this
// server; else back to the list).
func (u *UI) openNotification(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	pr := httpx.Principal(r)
	n, err := u.inbox().Get(r.Context(), pr.UserID, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if _, err := u.inbox().MarkRead(r.Context(), pr.UserID, []int64{id}, false); err != nil {
		u.fail(w, r, err)
		return
	}
	to := "/notifications"
	if l, err := url.Parse(n.Link); err == nil && strings.HasPrefix(n.Link, "/") && !strings.HasPrefix(n.Link, "//") && l.Host == "" {
		to = n.Link
	}
	redirect(w, r, to)
}

// prefRow is one event of the settings form.
type prefRow struct {
	Event    string
	Channels []prefCell
}

type prefCell struct {
	Channel, Name string
	On            bool
}

type notificationSettingsData struct {
	Rows     []prefRow
	Channels []string
	Manager  bool
}

// offeredChannels are the channels the person may choose: WeCom only
// while their WeCom user id is on file and a WeCom application is active
// (else nothing would reach them there, internal/robots).
func (u *UI) offeredChannels(r *http.Request) ([]string, error) {
	wecom := ""
	if u.Robots != nil {
		var err error
		if wecom, err = u.Robots.WeComUserID(r.Context(), httpx.Principal(r).UserID); err != nil {
			return nil, err
		}
	}
	out := []string{}
	for _, ch := range notify.NoticeChannels {
		if ch != notify.ChannelWeCom || wecom != "" {
			out = append(out, ch)
		}
	}
	return out, nil
}

func (u *UI) notificationSettingsPage(w http.ResponseWriter, r *http.Request, prefs notify.Prefs, flash string) {
	pr := httpx.Principal(r)
	channels, err := u.offeredChannels(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := notificationSettingsData{Channels: channels, Manager: slices.Contains(pr.Roles, notify.ManagerRole)}
	for _, e := range notify.NoticeEvents {
		row := prefRow{Event: e}
		for _, ch := range channels {
			row.Channels = append(row.Channels, prefCell{Channel: ch, Name: "pref." + e + "." + ch, On: prefs[e][ch]})
		}
		d.Rows = append(d.Rows, row)
	}
	p := u.page(r, "notify.settings.title", d)
	if flash != "" {
		p.Flash = flash
	}
	u.render(w, r, http.StatusOK, "notification_settings", p)
}

func (u *UI) notificationSettings(w http.ResponseWriter, r *http.Request) {
	prefs, err := u.inbox().Prefs(r.Context(), httpx.Principal(r).UserID)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.notificationSettingsPage(w, r, prefs, "")
}

// saveNotificationSettings reads the checkboxes: a box left out is off; a
// channel not offered (WeCom without a user id on file) keeps its stored
// choice.
func (u *UI) saveNotificationSettings(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, domain.Invalid("form", "validation.notify_form", nil))
		return
	}
	channels, err := u.offeredChannels(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	change := notify.Prefs{}
	for _, e := range notify.NoticeEvents {
		change[e] = map[string]bool{}
		for _, ch := range channels {
			change[e][ch] = r.PostForm.Get("pref."+e+"."+ch) != ""
		}
	}
	prefs, err := u.inbox().SetPrefs(r.Context(), httpx.Principal(r).UserID, change)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.notificationSettingsPage(w, r, prefs, "flash.notify_settings_saved")
}
