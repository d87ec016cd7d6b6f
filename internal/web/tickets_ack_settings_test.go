package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/testkit"
)

// TestAckSettingOnTheTicketSettingsPage: the first automatic
// acknowledgement is on by default; an administrator turns it off on
// /admin/tickets (the version guards a stale edit); an agent may not.
func TestAckSettingOnTheTicketSettingsPage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		k.User("admin@example.com", "admin")
		k.User("agent@example.com", "agent")
		admin := k.Login("admin@example.com", testkit.Password)
		agent := k.Login("agent@example.com", testkit.Password)
		status, page := getPage(t, admin, k.URL+"/admin/tickets")
		if status != http.StatusOK {
			t.Fatalf("settings: %d", status)
		}
		mustContain(t, "the settings", page, `id="acknowledgement"`, "自动确认", `id="ack-enabled" checked`, `name="version" value="0"`)
		if status, _, _ := postPage(t, agent, k.URL+"/admin/tickets/acknowledgement", urlValues("version", "0")); status != http.StatusForbidden {
			t.Errorf("an agent turned it off: %d", status)
		}
		status, loc, _ := postPage(t, admin, k.URL+"/admin/tickets/acknowledgement", urlValues("version", "0"))
		if status != http.StatusSeeOther || !strings.Contains(loc, "done=ack_saved") {
			t.Fatalf("turn off: %d %q", status, loc)
		}
		st, version, err := email.AckSettingsOf(ctx, k.App.Settings)
		if err != nil || st.Enabled || version != 1 {
			t.Fatalf("after turning off: %+v v%d %v", st, version, err)
		}
		_, page = getPage(t, admin, k.URL+loc)
		mustContain(t, "the page after saving", page, "自动确认设置已保存", `id="ack-enabled">`)
		// A second tab still holding version 0 is refused, nothing changed.
		status, _, answer := postPage(t, admin, k.URL+"/admin/tickets/acknowledgement", urlValues("version", "0", "enabled", "on"))
		if status != http.StatusConflict || !strings.Contains(answer, "设置已被他人修改") {
			t.Fatalf("stale edit: %d", status)
		}
		if st, _, _ := email.AckSettingsOf(ctx, k.App.Settings); st.Enabled {
			t.Fatal("a stale edit turned it on")
		}
		if status, _, _ := postPage(t, admin, k.URL+"/admin/tickets/acknowledgement", urlValues("version", "1", "enabled", "on")); status != http.StatusSeeOther {
			t.Fatalf("turn on: %d", status)
		}
		if st, _, _ := email.AckSettingsOf(ctx, k.App.Settings); !st.Enabled {
			t.Fatal("not on again")
		}
	})
}
