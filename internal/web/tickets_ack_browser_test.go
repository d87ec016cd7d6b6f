package web_test

import (
	"context"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// An administrator turns the first automatic acknowledgement off and on
// again on the ticket settings page, in both languages, on a desktop and a
// phone (the switch's sentence wraps, the page never scrolls sideways).
func TestAckSettingInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	ctx := context.Background()
	b := browser.Shared(t)
	for _, lang := range []string{"zh-CN", "en"} {
		signInAs(t, b, k.URL, "admin@example.com", lang)
		b.Visit(k.URL + "/admin/tickets")
		b.WaitVisible("#acknowledgement")
		atDesktopAndPhone(t, b, lang, "ack-setting-"+lang, nil)
		b.Click("#ack-enabled")
		b.Submit("#ack-form")
		b.WaitVisible("#flash")
		if st, _, err := email.AckSettingsOf(ctx, k.App.Settings); err != nil || st.Enabled {
			t.Fatalf("%s: still on (%v)", lang, err)
		}
		b.Click("#ack-enabled")
		b.Submit("#ack-form")
		b.WaitVisible("#flash")
		if st, _, _ := email.AckSettingsOf(ctx, k.App.Settings); !st.Enabled {
			t.Fatalf("%s: not on again", lang)
		}
	}
}
