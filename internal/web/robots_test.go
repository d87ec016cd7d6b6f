package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/testkit"
)

func TestRobotChannelsAPIKeepsSecretsAndNamesBadFields(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		agentU, agent := k.User("agent@example.com", "agent")
		const token, secret = "b3c1f0a9d2e4c6b8a0f1e2d3c4b5a6978877665544332211ffeeddccbbaa0099", "SEC1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
		ding := map[string]any{"robots": []map[string]any{{"name": "管理层群", "webhook": "https://oapi.dingtalk.com/robot/send?access_token=" + token,
			"secret": secret, "events": []string{"major_complaint", "sla_breach"}, "language": "en"}}}
		r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/dingtalk", Token: admin, Body: ding})
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), token) || strings.Contains(string(r.Body), secret) {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		var l robots.List
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/dingtalk", Token: admin}).JSON(t, &l)
		if l.Kind != "dingtalk" || len(l.Robots) != 1 || !l.Robots[0].TokenSet || !l.Robots[0].SecretSet || l.Robots[0].Language != "en" {
			t.Fatalf("get: %+v", l)
		}
		if snap := k.Snapshot(); strings.Contains(snap, token) || strings.Contains(snap, secret) {
			t.Fatal("a token or secret is in the database in plain text (the audit trail?)")
		}
		var audited int
		if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = 'robots.update'`).Scan(&audited); err != nil || audited != 1 {
			t.Fatalf("audited %d %v", audited, err)
		}
		// WeCom's list is its own.
		var w robots.List
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/wecom", Token: admin}).JSON(t, &w)
		if w.Kind != "wecom" || len(w.Robots) != 0 {
			t.Fatalf("wecom: %+v", w)
		}
		bad := map[string]any{"robots": []map[string]any{
			{"name": "a", "webhook": "https://qyapi.weixin.qq.com.attacker.cn/cgi-bin/webhook/send?key=x", "events": []string{"sla_breach"}},
			{"name": "b", "webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", "events": []string{"lunch"}},
			{"name": "c", "webhook": "http://169.254.169.254/cgi-bin/webhook/send?key=x", "endpoint": "http://169.254.169.254"},
		}}
		r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wecom", Token: admin, Body: bad})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("bad wecom: %d %s", r.Status, r.Body)
		}
		for _, f := range []string{"robots[0].webhook", "robots[1].events", "robots[2].endpoint"} {
			if !strings.Contains(string(r.Body), `"`+f+`"`) {
				t.Errorf("the problem does not name %s: %s", f, r.Body)
			}
		}
		noSecret := map[string]any{"robots": []map[string]any{{"name": "x", "webhook": "https://oapi.dingtalk.com/robot/send?access_token=abc"}}}
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/dingtalk", Token: admin, Body: noSecret}); r.Status != http.StatusBadRequest ||
			!strings.Contains(string(r.Body), `"robots[0].secret"`) {
			t.Fatalf("no secret: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/dingtalk", Token: admin, Body: map[string]any{"robots": "many"}}); r.Status != http.StatusBadRequest {
			t.Fatalf("not a list: %d %s", r.Status, r.Body)
		}
		// The change that failed left the stored robot as it was.
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/dingtalk", Token: admin}).JSON(t, &l)
		if len(l.Robots) != 1 || l.Robots[0].Name != "管理层群" {
			t.Fatalf("after refusals: %+v", l)
		}
		// Renamed without its webhook and secret: both kept.
		keep := map[string]any{"robots": []map[string]any{{"id": l.Robots[0].ID, "name": "管理层", "events": []string{"major_complaint"}}}}
		r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/dingtalk", Token: admin, Body: keep})
		r.JSON(t, &l)
		if r.Status != http.StatusOK || l.Robots[0].Name != "管理层" || !l.Robots[0].TokenSet || !l.Robots[0].SecretSet {
			t.Fatalf("rename: %d %s", r.Status, r.Body)
		}
		// A PUT without "robots" leaves them as they are.
		r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/dingtalk", Token: admin, Body: map[string]any{}})
		r.JSON(t, &l)
		if r.Status != http.StatusOK || len(l.Robots) != 1 {
			t.Fatalf("put without robots: %d %s", r.Status, r.Body)
		}
		// WeCom's application and the staff's ids ride along with its robots.
		const appSecret = "Xy9-app-secret-企业微信-77"
		wc := map[string]any{"robots": []any{}, "application": map[string]any{"corp_id": "ww8f1e2d3c4b5a6978", "agent_id": 1000002, "secret": appSecret},
			"staff": []map[string]any{{"user_id": agentU.ID, "wecom_userid": "li.na"}}}
		r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wecom", Token: admin, Body: wc})
		if r.Status != http.StatusOK || strings.Contains(string(r.Body), appSecret) || !strings.Contains(string(r.Body), `"secret_set":true`) ||
			!strings.Contains(string(r.Body), `"li.na"`) {
			t.Fatalf("wecom app: %d %s", r.Status, r.Body)
		}
		if snap := k.Snapshot(); strings.Contains(snap, appSecret) {
			t.Fatal("the application secret is in the database in plain text")
		}
		badApp := map[string]any{"robots": []any{}, "application": map[string]any{"corp_id": "", "agent_id": -1},
			"staff": []map[string]any{{"user_id": 424242, "wecom_userid": "x"}}}
		r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wecom", Token: admin, Body: badApp})
		for _, f := range []string{"application.corp_id", "application.agent_id", "staff[0].user_id"} {
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"`+f+`"`) {
				t.Errorf("bad application: %d, does not name %s: %s", r.Status, f, r.Body)
			}
		}
		for _, req := range []testkit.Request{{Method: "GET", Path: "/api/v1/channels/dingtalk", Token: agent},
			{Method: "PUT", Path: "/api/v1/channels/wecom", Token: agent, Body: map[string]any{"robots": []any{}}}} {
			if r := k.Do(req); r.Status != http.StatusForbidden {
				t.Fatalf("an agent on %s %s: %d", req.Method, req.Path, r.Status)
			}
		}
	})
}
