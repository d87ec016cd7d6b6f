package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// TestNotificationsBrowserBellAndList: bob's bell is hidden, shows 1 after
// a colleague assigns him a ticket (the page's poll picks it up without a
// reload), the list opens the ticket and marks it read, and at 375 px the
// bell stays in the top bar; in zh-CN and en.
func TestNotificationsBrowserBellAndList(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			k := testkit.Start(t, tg)
			f := newNotifFix(t, k)
			b := browser.Shared(t)
			for _, lang := range []string{"zh-CN", "en"} {
				f.do(f.bob, "POST", "/api/v1/notifications/read", map[string]any{"all": true})
				signInAs(t, b, k.URL, "bob@example.com", lang)
				b.Visit(k.URL + "/")
				if b.Exists("#bell-count:not([hidden])") {
					t.Fatalf("%s: the bell shows a count before any notification: %q", lang, b.Text("#bell-count"))
				}
				id := f.ticketFor(t, f.bobU.ID)
				// No reload: the tab coming back to the front asks at once
				// (as the 30 s poll does).
				var sent bool
				b.Eval(`document.dispatchEvent(new Event("visibilitychange")), true`, &sent)
				waitFor(t, b, "the bell's count", `(function(){var c=document.getElementById("bell-count");return !c.hidden && c.textContent==="1"})()`)
				label, _ := b.Attr("#bell", "aria-label")
				if !strings.Contains(label, "1") {
					t.Errorf("%s: bell label %q", lang, label)
				}
				b.Screenshot("notifications-bell-" + lang + "-1366")
				b.Click("#bell")
				b.WaitVisible("#notifications")
				if !strings.HasSuffix(b.Location(), "/notifications") {
					t.Fatalf("%s: the bell leads to %s", lang, b.Location())
				}
				title := b.Text("#notifications li.unread .notif-title")
				want := map[string]string{"zh-CN": "已分配给您", "en": "was assigned to you"}[lang]
				if !strings.Contains(title, want) {
					t.Errorf("%s: notification %q lacks %q", lang, title, want)
				}
				b.Screenshot("notifications-list-" + lang + "-1366")
				b.Click("#notifications li.unread .notif-title")
				b.WaitVisible("#ticket-number")
				if !strings.HasSuffix(b.Location(), fmt.Sprintf("/tickets/%d", id)) {
					t.Fatalf("%s: opening the notification led to %s", lang, b.Location())
				}
				if b.Exists("#bell-count:not([hidden])") {
					t.Errorf("%s: the bell still counts %q after opening", lang, b.Text("#bell-count"))
				}
				b.Visit(k.URL + "/notifications")
				if b.Exists("#notifications li.unread") {
					t.Errorf("%s: the opened notification is still unread", lang)
				}
				// Another one, then "mark all read" at 375 px.
				f.ticketFor(t, f.bobU.ID)
				b.SetPhone(375, 800)
				b.Visit(k.URL + "/notifications")
				var inBar bool
				b.Eval(`(function(){var r=document.getElementById("bell").getBoundingClientRect(),h=document.querySelector("header.top").getBoundingClientRect();
					return r.width>0 && r.top>=h.top && r.bottom<=h.bottom && r.right<=window.innerWidth})()`, &inBar)
				if !inBar {
					t.Errorf("%s: at 375 px the bell is not in the top bar", lang)
				}
				if b.Text("#bell-count") != "1" {
					t.Errorf("%s: bell at 375 px %q", lang, b.Text("#bell-count"))
				}
				b.Screenshot("notifications-list-" + lang + "-375")
				b.Click("#mark-all-read")
				b.WaitVisible("#flash")
				if b.Exists("#notifications li.unread") || b.Exists("#bell-count:not([hidden])") {
					t.Errorf("%s: mark all read left unread ones", lang)
				}
				b.Visit(k.URL + "/account/notifications")
				b.Screenshot("notifications-settings-" + lang + "-375")
				b.SetViewport(1366, 900)
				if errs := b.JSErrors(); len(errs) > 0 {
					t.Errorf("%s: JavaScript errors: %v", lang, errs)
				}
			}
		})
	}
}
