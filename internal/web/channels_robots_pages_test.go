package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/testkit"
)

// The DingTalk and WeCom pages save through the robots store the API uses:
// a refusal is a 400 naming the field next to it with nothing saved, the
// webhook's token and the secrets never shown (only 已设置), a blank one
// kept, a robot removed, each save audited; the test button queues one
// outbox row; other roles are refused.
func TestRobotChannelPagesSaveThroughTheAPIsStore(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		agentU, _ := k.User("agent@example.com", "agent")
		c := k.Login("admin@example.com", testkit.Password)
		ctx := context.Background()
		const token, secret = "a7c1f0a9d2e4c6b8a0f1e2d3c4b5a6978877665544332211ffeeddccbbaa0099", "SEC9a2b3c4d5e6f708192a3b4c5d6e7f8"

		ding := url.Values{"robot_id_0": {""}, "robot_name_0": {"售后主管群"}, "robot_webhook_0": {"https://oapi.dingtalk.com.evil.cn/robot/send?access_token=" + token},
			"robot_secret_0": {secret}, "robot_events_0": {"major_complaint", "sla_breach"}, "robot_team_0": {""}, "robot_backlog_0": {"很多"},
			"robot_language_0": {"zh-CN"}, "robot_endpoint_0": {""}, "robot_active_0": {"on"}}
		r := post(t, k, c, "/admin/channels/dingtalk", ding)
		body := string(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(body, `data-field="backlog_threshold">请填写整数`) {
			t.Fatalf("bad number: %d %s", r.Status, body)
		}
		ding.Set("robot_backlog_0", "10")
		r = post(t, k, c, "/admin/channels/dingtalk", ding)
		body = string(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(body, `data-field="webhook">Webhook 地址须为 oapi.dingtalk.com`) {
			t.Fatalf("bad webhook: %d %s", r.Status, body)
		}
		if !strings.Contains(body, `value="售后主管群"`) || strings.Contains(body, token) || strings.Contains(body, secret) {
			t.Fatal("the form did not come back as typed, or it shows the token or secret")
		}
		if l, _ := k.App.Robots.List(ctx, robots.DingTalk); len(l.Robots) != 0 {
			t.Fatalf("a refused form saved something: %+v", l)
		}
		ding.Set("robot_webhook_0", "https://oapi.dingtalk.com/robot/send?access_token="+token)
		if r := post(t, k, c, "/admin/channels/dingtalk", ding); r.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
		l, _ := k.App.Robots.List(ctx, robots.DingTalk)
		if len(l.Robots) != 1 || !l.Robots[0].TokenSet || !l.Robots[0].SecretSet || strings.Join(l.Robots[0].Events, ",") != "major_complaint,sla_breach" || !l.Robots[0].Active {
			t.Fatalf("saved: %+v", l)
		}
		id := strconv.FormatInt(l.Robots[0].ID, 10)
		page := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/channels/dingtalk?done=saved"}).Body)
		if strings.Count(page, "已设置") < 2 || strings.Contains(page, token) || strings.Contains(page, secret) ||
			!strings.Contains(page, `action="/admin/channels/dingtalk/`+id+`/test"`) || !strings.Contains(page, `name="robot_name_1"`) {
			t.Fatalf("the saved page: %s", page)
		}
		// Blank webhook and secret keep them; switched off; a new one added with the change.
		keep := url.Values{"robot_id_0": {id}, "robot_name_0": {"售后主管"}, "robot_events_0": {"sla_warning"}, "robot_backlog_0": {"5"},
			"robot_language_0": {"en"}, "robot_team_0": {""},
			"robot_id_1": {""}, "robot_name_1": {""}, "robot_backlog_1": {"10"}, "robot_language_1": {"zh-CN"}, "robot_active_1": {"on"}}
		if r := post(t, k, c, "/admin/channels/dingtalk", keep); r.Status != http.StatusSeeOther {
			t.Fatalf("keep: %d %s", r.Status, r.Body)
		}
		l, _ = k.App.Robots.List(ctx, robots.DingTalk)
		if len(l.Robots) != 1 || !l.Robots[0].TokenSet || !l.Robots[0].SecretSet || l.Robots[0].Active || l.Robots[0].Name != "售后主管" ||
			l.Robots[0].BacklogThreshold != 5 || l.Robots[0].Language != "en" {
			t.Fatalf("kept: %+v", l)
		}
		// Switched on again, then the test button: one row in the outbox, twice clicked.
		keep.Set("robot_active_0", "on")
		post(t, k, c, "/admin/channels/dingtalk", keep)
		for range 2 {
			r := post(t, k, c, "/admin/channels/dingtalk/"+id+"/test", url.Values{})
			if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/admin/outbox/") {
				t.Fatalf("test: %d %s", r.Status, r.Header.Get("Location"))
			}
		}
		var rows int
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE channel = 'robot' AND kind = 'robot.test' AND recipient = $1`, id).Scan(&rows); err != nil || rows != 1 {
			t.Fatalf("test rows %d %v", rows, err)
		}
		if r := post(t, k, c, "/admin/channels/wecom/"+id+"/test", url.Values{}); r.Status != http.StatusNotFound {
			t.Fatalf("a DingTalk robot tested as WeCom's: %d", r.Status)
		}

		// WeCom: the application, a staff member's UserID and a robot in one form.
		wc := url.Values{"corp_id": {"ww8f1e2d3c4b5a6978"}, "agent_id": {"1000002"}, "app_secret": {"app-s3cret"}, "app_active": {"on"}, "app_endpoint": {""},
			"wecom_user_" + strconv.FormatInt(agentU.ID, 10): {"li na"},
			"robot_id_0": {""}, "robot_name_0": {"值班群"}, "robot_webhook_0": {"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-s3cret"},
			"robot_events_0": {"unassigned_backlog"}, "robot_backlog_0": {"3"}, "robot_language_0": {"zh-CN"}, "robot_team_0": {""}, "robot_active_0": {"on"}}
		r = post(t, k, c, "/admin/channels/wecom", wc)
		body = string(r.Body)
		if r.Status != http.StatusBadRequest || !strings.Contains(body, `data-field="wecom_userid">企业微信账号`) || strings.Contains(body, "app-s3cret") || strings.Contains(body, "wk-s3cret") {
			t.Fatalf("bad userid: %d %s", r.Status, body)
		}
		if w, _ := k.App.Robots.WeCom(ctx); w.App != nil || len(w.Robots) != 0 || len(w.Staff) != 0 {
			t.Fatalf("a refused form saved something: %+v", w)
		}
		wc.Set("wecom_user_"+strconv.FormatInt(agentU.ID, 10), "li.na")
		if r := post(t, k, c, "/admin/channels/wecom", wc); r.Status != http.StatusSeeOther {
			t.Fatalf("save wecom: %d %s", r.Status, r.Body)
		}
		w, _ := k.App.Robots.WeCom(ctx)
		if w.App == nil || !w.App.SecretSet || w.App.AgentID != 1000002 || len(w.Staff) != 1 || w.Staff[0].WeComUserID != "li.na" || len(w.Robots) != 1 || !w.Robots[0].TokenSet {
			t.Fatalf("saved wecom: %+v", w)
		}
		page = string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/channels/wecom"}).Body)
		if !strings.Contains(page, `id="wecom-secret-set"`) || strings.Contains(page, "app-s3cret") || strings.Contains(page, "wk-s3cret") || !strings.Contains(page, `value="li.na"`) {
			t.Fatalf("the saved wecom page: %s", page)
		}
		// The secret left blank is kept; the robot removed.
		wc.Del("app_secret")
		wc.Set("robot_id_0", strconv.FormatInt(w.Robots[0].ID, 10))
		wc.Del("robot_webhook_0")
		wc.Set("robot_remove_0", "on")
		if r := post(t, k, c, "/admin/channels/wecom", wc); r.Status != http.StatusSeeOther {
			t.Fatalf("remove: %d %s", r.Status, r.Body)
		}
		if w, _ := k.App.Robots.WeCom(ctx); w.App == nil || !w.App.SecretSet || len(w.Robots) != 0 {
			t.Fatalf("after removing: %+v", w)
		}
		if snap := k.Snapshot(); strings.Contains(snap, token) || strings.Contains(snap, secret) || strings.Contains(snap, "app-s3cret") || strings.Contains(snap, "wk-s3cret") {
			t.Fatal("a secret is in the database in plain text")
		}
		for _, a := range []string{"robots.update", "wecom_app.update"} {
			var n int
			if err := k.App.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1`, a).Scan(&n); err != nil || n < 2 {
				t.Fatalf("%s audited %d times %v", a, n, err)
			}
		}
		agent := k.Login("agent@example.com", testkit.Password)
		for _, p := range []string{"/admin/channels/dingtalk", "/admin/channels/wecom"} {
			if r := k.DoWith(agent, testkit.Request{Method: "GET", Path: p}); r.Status != http.StatusForbidden {
				t.Fatalf("agent on %s: %d", p, r.Status)
			}
			if r := post(t, k, agent, p, url.Values{}); r.Status != http.StatusForbidden {
				t.Fatalf("agent posts %s: %d", p, r.Status)
			}
		}
		if r := post(t, k, agent, "/admin/channels/dingtalk/"+id+"/test", url.Values{}); r.Status != http.StatusForbidden {
			t.Fatalf("agent tests a robot: %d", r.Status)
		}
	})
}
