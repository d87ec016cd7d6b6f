package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

type policyDoc struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Priority int    `json:"priority"`
	Default  bool   `json:"default"`
	Calendar string `json:"calendar"`
	Version  int    `json:"version"`
	Targets  []struct {
		Kind     string `json:"kind"`
		Duration string `json:"duration"`
	} `json:"targets"`
}

type previewDoc struct {
	TimeZone string `json:"time_zone"`
	Applies  bool   `json:"applies"`
	Targets  []struct {
		Kind   string `json:"kind"`
		DueAt  string `json:"due_at"`
		WarnAt string `json:"warn_at"`
	} `json:"targets"`
	Winner *struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"winner"`
}

func (p previewDoc) due(kind string) string {
	for _, t := range p.Targets {
		if t.Kind == kind {
			return t.DueAt
		}
	}
	return ""
}

const vipPolicy = `{"name": "VIP 故障", "priority": 1, "active": true, "calendar": "default",
 "conditions": {"tiers": ["vip"], "types": ["fault"]},
 "targets": [{"kind": "first_response", "duration": "5m", "warning": {"percent": 80}},
  {"kind": "resolution", "duration": "8h", "pause_waiting_customer": true, "warning": {"lead": "1h"},
   "escalation": [{"after": "0", "action": "notify_owner"}, {"after": "1h", "action": "notify_management"}]}]}`

func TestSLAPolicyAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		// The default policy is seeded; staff read it.
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/sla-policies", Token: agent})
		var page struct{ Items []policyDoc }
		r.JSON(t, &page)
		if r.Status != 200 || len(page.Items) != 1 || !page.Items[0].Default || page.Items[0].Calendar != "default" {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		def := page.Items[0]
		// Agents may not change policies.
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/sla-policies", Token: agent, Body: vipPolicy}); r.Status != 403 {
			t.Fatalf("agent create: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "PATCH", Path: "/api/v1/sla-policies/" + strconv.FormatInt(def.ID, 10), Token: agent,
			Body: `{"active": false}`, Header: map[string]string{"If-Match": `"v1"`}}); r.Status != 403 {
			t.Fatalf("agent patch: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "DELETE", Path: "/api/v1/sla-policies/" + strconv.FormatInt(def.ID, 10), Token: agent}); r.Status != 403 {
			t.Fatalf("agent delete: %d", r.Status)
		}
		r = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/sla-policies", Token: admin, Body: vipPolicy})
		var vip policyDoc
		r.JSON(t, &vip)
		if r.Status != 201 || r.Header.Get("ETag") != `"v1"` || r.Header.Get("Location") != "/api/v1/sla-policies/"+strconv.FormatInt(vip.ID, 10) {
			t.Fatalf("create: %d %v %s", r.Status, r.Header, r.Body)
		}
		path := "/api/v1/sla-policies/" + strconv.FormatInt(vip.ID, 10)
		// PATCH: 428 without If-Match, 412 stale, 200 with the right one.
		if r := k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: `{"priority": 2}`}); r.Status != 428 {
			t.Fatalf("patch without If-Match: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: `{"priority": 2}`, Header: map[string]string{"If-Match": `"v9"`}}); r.Status != 412 {
			t.Fatalf("stale patch: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: `{"priority": 2}`, Header: map[string]string{"If-Match": `"v1"`}}); r.Status != 200 || r.Header.Get("ETag") != `"v2"` {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		// Preview: a VIP fault created at 17:58 on 30 September 2026, before the
		// National Day break (1–7 October), is due on 8 October.
		q := "?type=fault&tier=vip&severity=general&at=2026-09-30T17:58:00%2B08:00"
		r = k.Do(testkit.Request{Method: "GET", Path: path + "/preview" + q, Token: agent})
		var pv previewDoc
		r.JSON(t, &pv)
		if r.Status != 200 || pv.TimeZone != "Asia/Shanghai" || !pv.Applies || pv.Winner == nil || pv.Winner.ID != vip.ID ||
			pv.due("first_response") != "2026-10-08T09:03:00+08:00" || pv.due("resolution") != "2026-10-09T09:28:00+08:00" {
			t.Fatalf("preview: %d %s", r.Status, r.Body)
		}
		// The same sample on the default policy: it does not win.
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/sla-policies/" + strconv.FormatInt(def.ID, 10) + "/preview" + q, Token: agent})
		pv = previewDoc{}
		r.JSON(t, &pv)
		if r.Status != 200 || pv.Winner == nil || pv.Winner.ID != vip.ID || pv.due("first_response") != "2026-10-08T09:08:00+08:00" {
			t.Fatalf("default preview: %d %s", r.Status, r.Body)
		}
		// A normal customer's fault: the default wins.
		r = k.Do(testkit.Request{Method: "GET", Path: path + "/preview?type=fault&tier=normal", Token: agent})
		pv = previewDoc{}
		r.JSON(t, &pv)
		if r.Status != 200 || pv.Applies || pv.Winner == nil || pv.Winner.ID != def.ID {
			t.Fatalf("normal preview: %d %s", r.Status, r.Body)
		}
		// Bad input: 400 naming the field.
		for _, c := range []struct{ method, path, body, field string }{
			{"POST", "/api/v1/sla-policies", `{"name": "x", "priority": 3, "targets": []}`, "targets"},
			{"POST", "/api/v1/sla-policies", `{"name": "x", "priority": 3, "targets": [{"kind": "resolution", "duration": "0"}]}`, "targets[0].duration"},
			{"POST", "/api/v1/sla-policies", `{"name": "x", "priority": 3, "targets": [{"kind": "resolution", "duration": "-1h"}]}`, "targets[0].duration"},
			{"POST", "/api/v1/sla-policies", `{"name": "x", "priority": 3, "targets": [{"kind": "resolution", "duration": "500d"}]}`, "targets[0].duration"},
			{"POST", "/api/v1/sla-policies", `{"name": "x", "priority": 3, "calendar": "mars", "targets": [{"kind": "resolution", "duration": "1h"}]}`, "calendar"},
			{"POST", "/api/v1/sla-policies", `{"name": "x", "priority": 3, "conditions": {"severities": ["critical"]}, "targets": [{"kind": "resolution", "duration": "1h"}]}`, "conditions.severities"},
			{"POST", "/api/v1/sla-policies", `{"name": "x", "priority": 3, "conditions": {"channels": ["fax"]}, "targets": [{"kind": "resolution", "duration": "1h"}]}`, "conditions.channels"},
			{"POST", "/api/v1/sla-policies", `{"name": "x", "priority": 3, "targets": [{"kind": "resolution", "duration": "1h", "escalation": [{"after": "0", "action": "reassign"}]}]}`, "targets[0].escalation[0].team_id"},
			{"GET", path + "/preview?type=gripe", "", "type"},
			{"GET", path + "/preview?at=tomorrow", "", "at"},
			{"GET", path + "/preview?team_id=x", "", "team_id"},
		} {
			h := map[string]string{}
			r := k.Do(testkit.Request{Method: c.method, Path: c.path, Token: admin, Body: c.body, Header: h})
			if r.Status != 400 {
				t.Errorf("%s %s: %d %s", c.path, c.body, r.Status, r.Body)
				continue
			}
			p := r.Problem(t)
			var got []string
			for _, e := range p.Errors {
				if e.Message != "" {
					got = append(got, e.Field)
				}
			}
			if strings.Join(got, " ") != c.field {
				t.Errorf("%s %s: fields %v, want %s", c.path, c.body, got, c.field)
			}
		}
		r = k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: `{"calendar": "nope"}`, Header: map[string]string{"If-Match": `"v2"`}})
		if r.Status != 400 || !strings.Contains(string(r.Body), `"calendar"`) {
			t.Fatalf("patch bad calendar: %d %s", r.Status, r.Body)
		}
		// The default cannot be deleted; another can, once.
		if r := k.Do(testkit.Request{Method: "DELETE", Path: "/api/v1/sla-policies/" + strconv.FormatInt(def.ID, 10), Token: admin}); r.Status != 409 {
			t.Fatalf("delete default: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "DELETE", Path: path, Token: admin, Header: map[string]string{"If-Match": `"v2"`}}); r.Status != 204 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: path, Token: agent}); r.Status != 404 {
			t.Fatalf("after delete: %d", r.Status)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?limit=200", Token: admin})
		for _, action := range []string{"sla_policy.create", "sla_policy.update", "sla_policy.delete"} {
			if r.Status != 200 || !strings.Contains(string(r.Body), action) {
				t.Errorf("audit lacks %s: %d", action, r.Status)
			}
		}
	})
}
