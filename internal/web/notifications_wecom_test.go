package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/testkit"
)

// /account/notifications offers WeCom per event only to someone whose
// WeCom user id is on file while the WeCom application is active: then a
// ticked box routes that event there; before, the column is absent and a
// posted box changes nothing.
func TestNotificationSettingsOfferWeComOnlyWithAUserIDAndTheApp(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		bob, _ := k.User("bob@example.com", "agent")
		c := k.Login("bob@example.com", testkit.Password)
		page := func() string {
			t.Helper()
			resp, err := c.Get(k.URL + "/account/notifications")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		save := func(form url.Values) {
			t.Helper()
			resp, err := c.PostForm(k.URL+"/account/notifications", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("save: %d", resp.StatusCode)
			}
		}
		wecomOn := func(event string) bool {
			t.Helper()
			p, err := k.App.Notices.Inbox.Prefs(ctx, bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			return p[event]["wecom"]
		}
		if strings.Contains(page(), `name="pref.sla_breach.wecom"`) {
			t.Fatal("WeCom offered with no application and no user id")
		}
		save(url.Values{"pref.sla_breach.inapp": {"on"}, "pref.sla_breach.wecom": {"on"}})
		if wecomOn("sla_breach") {
			t.Fatal("a WeCom box not offered was saved")
		}
		// The application without bob's id: still not offered.
		app := &robots.AppInput{CorpID: "ww8f1e2d3c4b5a6978", AgentID: 1000002, Secret: "app-s3cret"}
		if _, err := k.App.Robots.ReplaceWeCom(ctx, robots.WeComConfig{App: app}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(page(), `name="pref.sla_breach.wecom"`) {
			t.Fatal("WeCom offered without a user id on file")
		}
		staff := []robots.StaffID{{UserID: bob.ID, WeComUserID: "bob"}}
		if _, err := k.App.Robots.ReplaceWeCom(ctx, robots.WeComConfig{Staff: &staff}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page(), `name="pref.sla_breach.wecom" value="on">`) {
			t.Fatal("WeCom not offered (unticked) with the application and the user id")
		}
		save(url.Values{"pref.sla_breach.inapp": {"on"}, "pref.sla_breach.wecom": {"on"}})
		if !wecomOn("sla_breach") || wecomOn("assigned") {
			t.Fatal("the ticked WeCom box was not saved as it was")
		}
		// The application switched off: the column goes, the choice stays.
		off := false
		app.Secret, app.Active = "", &off
		if _, err := k.App.Robots.ReplaceWeCom(ctx, robots.WeComConfig{App: app}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(page(), `name="pref.sla_breach.wecom"`) {
			t.Fatal("WeCom offered while the application is off")
		}
		save(url.Values{"pref.sla_breach.inapp": {"on"}})
		if !wecomOn("sla_breach") {
			t.Fatal("saving without the WeCom column dropped the stored WeCom choice")
		}
	})
}
