package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/testkit"
)

// The SLA policy pages: agents are refused, bad durations come back on the
// form naming the target, a stale version is said so, and a save keeps what
// the page does not edit (overrides, which tickets a target applies to).
func TestSLAPolicyPagesForms(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		k.User("agent@example.com", "agent")
		agent := k.Login("agent@example.com", testkit.Password)
		for _, path := range []string{"/admin/sla", "/admin/sla/1"} {
			if status, _ := get(t, k, agent, path); status != 403 {
				t.Errorf("agent GET %s: %d", path, status)
			}
		}
		if r := post(t, k, agent, "/admin/sla", url.Values{"name": {"x"}, "calendar": {"default"}}); r.Status != 403 {
			t.Errorf("agent create: %d", r.Status)
		}
		admin := k.Login("admin@example.com", testkit.Password)
		def, ok, err := k.App.SLAPolicies.Match(t.Context(), sla.TicketFacts{})
		if err != nil || !ok {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/admin/sla/%d", def.ID)
		status, body := get(t, k, admin, path)
		if status != 200 || !strings.Contains(body, "首次响应") || !strings.Contains(body, "Asia/Shanghai") {
			t.Fatalf("policy page: %d", status)
		}
		form := func(version int) url.Values {
			v := url.Values{"version": {fmt.Sprint(version)}, "name": {def.Name}, "priority": {"1000"}, "calendar": {"default"}, "active": {"on"}}
			for i, tg := range def.Targets {
				v.Set(fmt.Sprintf("t%d.duration", i), string(tg.Duration))
			}
			return v
		}
		bad := form(def.Version)
		bad.Set("t0.duration", "soon")
		bad.Set("t2.warning", "abc%")
		r := post(t, k, admin, path, bad)
		if r.Status != 400 || !strings.Contains(string(r.Body), "“soon”不是有效时长") || !strings.Contains(string(r.Body), "比例为 1 到 99") {
			t.Fatalf("bad duration: %d", r.Status)
		}
		good := form(def.Version)
		good.Set("t0.duration", "15m")
		good.Set("t0.esc0.action", sla.ActionNotifyOwner)
		good.Set("t0.esc0.after", "0")
		if r := post(t, k, admin, path, good); r.Status != 303 {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
		saved, err := k.App.SLAPolicies.Get(t.Context(), def.ID)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Targets[0].Duration != "15m" || len(saved.Targets[0].Escalation) != 1 || len(saved.Targets[1].Overrides) != 1 ||
			len(saved.Targets[1].Severities) != 2 || saved.Version != def.Version+1 {
			t.Fatalf("saved %+v", saved.Targets[:2])
		}
		// The old version again: stale.
		if r := post(t, k, admin, path, good); r.Status != 409 || !strings.Contains(string(r.Body), "其他人刚修改了这条策略") {
			t.Fatalf("stale save: %d", r.Status)
		}
	})
}
