package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// An administrator adds an SLA policy for VIP customers on Settings → SLA
// policies, ticks its condition, changes a target, sees the preview and
// which policy wins, and moves it in the order, in both languages, on a
// desktop and a phone.
func TestSLAPoliciesPageInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	if _, err := k.App.Identity.CreateTeam(context.Background(), "华东售后组"); err != nil {
		t.Fatal(err)
	}
	b := browser.Shared(t)
	for _, c := range []struct{ lang, name, created, saved, wins, due string }{
		{"zh-CN", "VIP 客户", "策略已创建", "策略已保存", "这样的工单适用本策略", "2026-03-02 09:05"},
		{"en", "VIP customers", "Policy created", "Policy saved", "This policy applies to such a ticket", "2026-03-02 09:05"},
	} {
		signInAs(t, b, k.URL, "admin@example.com", c.lang)
		b.SetViewport(1366, 900)
		b.Visit(k.URL + "/admin")
		b.Click(`a[href="/admin/sla"]`)
		b.WaitVisible("#sla-policies")
		if !b.Exists("#new-sla[open]") {
			b.Click("#new-sla > summary")
		}
		b.Fill("#name", c.name)
		b.Submit("#new-sla form")
		b.WaitVisible("#flash")
		if got := b.Text("#flash"); !strings.Contains(got, c.created) {
			t.Fatalf("%s: flash %q", c.lang, got)
		}
		// Only VIP customers; first response in 5 minutes.
		b.Click(`input[name="tiers"][value="vip"]`)
		b.Fill("#t0-duration", "5m")
		b.Submit("#sla-form")
		b.WaitVisible("#flash")
		if got := b.Text("#flash"); !strings.Contains(got, c.saved) {
			t.Fatalf("%s: flash after save %q; page %q", c.lang, got, b.Text("main"))
		}
		// A normal customer's ticket takes the default policy.
		if got := b.Text("#sla-winner"); strings.Contains(got, c.wins) {
			t.Fatalf("%s: a normal customer's ticket would take the VIP policy: %q", c.lang, got)
		}
		b.Eval(`(() => { document.querySelector('select[name="sample_tier"]').value = 'vip'; return true; })()`, new(bool))
		b.Submit("form.sample")
		b.WaitVisible("#sla-winner")
		if got := b.Text("#sla-winner"); !strings.Contains(got, c.wins) {
			t.Fatalf("%s: winner %q", c.lang, got)
		}
		if got := b.Text("#preview-rows"); !strings.Contains(got, c.due) || !strings.Contains(b.Text("#sla-preview"), "Asia/Shanghai") {
			t.Fatalf("%s: preview %q", c.lang, got)
		}
		for _, w := range []int{1366, 375} {
			if w == 375 {
				b.SetPhone(375, 812)
			} else {
				b.SetViewport(1366, 900)
			}
			var overflow bool
			b.Eval(fmt.Sprintf(`document.documentElement.scrollWidth > %d || window.innerWidth > %d`, w+1, w), &overflow)
			if overflow {
				var wide string
				b.Eval(`[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 376).slice(-5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent||'').slice(0,40)).join(' | ')`, &wide)
				t.Errorf("%s at %d px: the policy page scrolls sideways: %s", c.lang, w, wide)
			}
			oneLine(t, b, fmt.Sprintf("%s policy at %d px", c.lang, w), ".sla-form label.check, .sla-fields label, #sla-targets-table th .name, #sla-targets-table thead th, .sla-form legend, .sla-form .lbl, .sla-preview .lbl, #preview-rows th, #preview-rows .due")
			b.Screenshot(fmt.Sprintf("sla-policy-%s-%d", c.lang, w))
		}
		b.SetViewport(1366, 900)
		b.Visit(k.URL + "/admin/sla")
		b.WaitVisible("#sla-policies")
		first := b.Text("#sla-policies tbody tr:first-child .name")
		b.Submit("#sla-policies tbody tr:first-child form:last-of-type")
		b.WaitVisible("#flash")
		if got := b.Text("#sla-policies tbody tr:first-child .name"); got == first {
			t.Fatalf("%s: moving %q down left it first", c.lang, first)
		}
		for _, w := range []int{1366, 375} {
			if w == 375 {
				b.SetPhone(375, 812)
			} else {
				b.SetViewport(1366, 900)
			}
			var overflow bool
			b.Eval(fmt.Sprintf(`document.documentElement.scrollWidth > %d || window.innerWidth > %d`, w+1, w), &overflow)
			if overflow {
				t.Errorf("%s at %d px: the list scrolls sideways", c.lang, w)
			}
			oneLine(t, b, fmt.Sprintf("%s list at %d px", c.lang, w), "#sla-policies th, #sla-policies .name, #sla-policies .badge, #sla-policies button")
			b.Screenshot(fmt.Sprintf("sla-policies-%s-%d", c.lang, w))
		}
		b.SetViewport(1366, 900)
	}
}
