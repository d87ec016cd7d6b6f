package web_test

import (
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// An administrator adds a DingTalk robot and sets up WeCom on Settings, in
// zh-CN and en, at 1366 and 375 px: a refused value is named next to its
// field, the save keeps the webhook and secrets hidden (已设置), the test
// button leads to the message's outbox row. Labels stay on one line.
func TestRobotChannelPagesInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	staff, _ := k.User("li.na@example.com", "agent")
	b := browser.Shared(t)
	labels := ".robots-form label, .robots-form legend, .robots-form .badge, .robots-form button, .robots-form th"
	for i, c := range []struct{ lang, flash, set, robot, userid string }{
		{"zh-CN", "已保存", "已设置", "售后主管群", "li.na"},
		{"en", "Saved", "Set", "Escalations", "lina"},
	} {
		signInAs(t, b, k.URL, "admin@example.com", c.lang)
		b.Visit(k.URL + "/admin")
		b.Click(`a[href="/admin/channels/dingtalk"]`)
		b.WaitVisible("#dingtalk-settings")
		n := "0"
		if i == 1 {
			n = "1" // the blank robot after the first one
		}
		b.Fill("#robot-name-"+n, c.robot)
		b.Fill("#robot-webhook-"+n, "https://oapi.dingtalk.com/robot/send?access_token=tok3n"+n)
		b.Fill("#robot-secret-"+n, "not-a-sec-secret")
		b.Click(`#robot-` + n + ` input[value="sla_breach"]`)
		b.Click(`#robot-` + n + ` input[value="major_complaint"]`)
		b.Submit("#save-dingtalk")
		b.WaitVisible(`#robot-` + n + ` .field-err[data-field="secret"]`)
		var beside bool
		b.Eval(`document.querySelector('#robot-secret-`+n+`').nextElementSibling.dataset.field === 'secret'`, &beside)
		if !beside {
			t.Fatalf("%s: the secret's error is not next to it", c.lang)
		}
		if v := b.Value("#robot-name-" + n); v != c.robot {
			t.Fatalf("%s: the typed name was lost: %q", c.lang, v)
		}
		atDesktopAndPhone(t, b, c.lang, "dingtalk-error-"+c.lang, func(where string) { oneLine(t, b, where, labels) })
		b.Fill("#robot-webhook-"+n, "https://oapi.dingtalk.com/robot/send?access_token=tok3n"+n)
		b.Fill("#robot-secret-"+n, "SECs3cret"+n)
		b.Submit("#save-dingtalk")
		b.WaitVisible("#flash")
		if got := b.Text("#flash"); !strings.Contains(got, c.flash) {
			t.Fatalf("%s: flash %q", c.lang, got)
		}
		if html := b.HTML(); strings.Contains(html, "tok3n") || strings.Contains(html, "SECs3cret") || strings.Count(b.Text("#robot-"+n), c.set) < 2 {
			t.Fatalf("%s: the robot after saving: %s", c.lang, b.Text("#robot-"+n))
		}
		atDesktopAndPhone(t, b, c.lang, "dingtalk-"+c.lang, func(where string) { oneLine(t, b, where, labels) })
		b.Click("#robot-test-button-" + n)
		b.WaitVisible("#flash")
		if !strings.Contains(b.Location(), "/admin/outbox/") {
			t.Fatalf("%s: the test button led to %s", c.lang, b.Location())
		}

		b.Visit(k.URL + "/admin")
		b.Click(`a[href="/admin/channels/wecom"]`)
		b.WaitVisible("#wecom-settings")
		b.Fill("#wecom-corp-id", "ww8f1e2d3c4b5a6978")
		b.Fill("#wecom-agent-id", "1000002")
		if i == 0 {
			b.Fill("#wecom-app-secret", "app-s3cret")
		}
		b.Fill("#wecom-user-"+itoa(staff.ID), "li na") // a space: not a WeCom UserID
		b.Fill("#robot-name-0", "值班群")
		b.Fill("#robot-webhook-0", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk"+n)
		if i == 0 {
			b.Click(`#robot-0 input[value="unassigned_backlog"]`)
		}
		b.Submit("#save-wecom")
		b.WaitVisible(`#wecom-staff .field-err[data-field="wecom_userid"]`)
		b.Eval(`document.querySelector('#wecom-user-`+itoa(staff.ID)+`').nextElementSibling.dataset.field === 'wecom_userid'`, &beside)
		if !beside {
			t.Fatalf("%s: the UserID's error is not next to it", c.lang)
		}
		atDesktopAndPhone(t, b, c.lang, "wecom-error-"+c.lang, func(where string) { oneLine(t, b, where, labels) })
		b.Fill("#wecom-user-"+itoa(staff.ID), c.userid)
		if i == 0 {
			b.Fill("#wecom-app-secret", "app-s3cret")
		}
		b.Fill("#robot-webhook-0", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk"+n)
		b.Submit("#save-wecom")
		b.WaitVisible("#flash")
		if html := b.HTML(); strings.Contains(html, "app-s3cret") || strings.Contains(html, "key=wk") || !b.Exists("#wecom-secret-set") {
			t.Fatalf("%s: the WeCom page after saving: %s", c.lang, b.Text("#wecom-settings"))
		}
		atDesktopAndPhone(t, b, c.lang, "wecom-"+c.lang, func(where string) { oneLine(t, b, where, labels) })
	}
	if l, _ := k.App.Robots.List(t.Context(), robots.DingTalk); len(l.Robots) != 2 || !l.Robots[1].SecretSet {
		t.Fatalf("dingtalk: %+v", l)
	}
	if w, _ := k.App.Robots.WeCom(t.Context()); w.App == nil || !w.App.SecretSet || len(w.Staff) != 1 || w.Staff[0].WeComUserID != "lina" || len(w.Robots) != 1 {
		t.Fatalf("wecom: %+v", w)
	}
}
