package ui

import (
	"testing"
	"time"

	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/web/httpx"
)

// Countdowns in both languages: minutes left round up, minutes overdue
// round down, hours and days as people say them; red, amber within the
// hour, grey beyond.
func TestSLACountdownWords(t *testing.T) {
	u := &UI{Deps: Deps{Kit: httpx.Kit{Cat: i18n.MustLoad()}}}
	now := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		lang      string
		in        time.Duration
		text, cls string
	}{
		{"zh-CN", 18 * time.Minute, "18 分钟", "sla-soon"},
		{"zh-CN", 4*time.Minute + 59*time.Second, "5 分钟", "sla-soon"},
		{"zh-CN", time.Second, "1 分钟", "sla-soon"},
		{"zh-CN", 60 * time.Minute, "1 小时", "sla-soon"},
		{"zh-CN", 61 * time.Minute, "1 小时 1 分", "sla-ok"},
		{"zh-CN", 0, "刚超时", "sla-over"},
		{"zh-CN", -59 * time.Second, "刚超时", "sla-over"},
		{"zh-CN", -(65*time.Minute + 30*time.Second), "超时 1 小时 5 分", "sla-over"},
		{"zh-CN", 50 * time.Hour, "2 天 2 小时", "sla-ok"},
		{"zh-CN", -48 * time.Hour, "超时 2 天", "sla-over"},
		{"en", 18 * time.Minute, "in 18 min", "sla-soon"},
		{"en", -(65 * time.Minute), "overdue 1 h 5 min", "sla-over"},
		{"en", 3 * time.Hour, "in 3 h", "sla-ok"},
		{"en", 0, "just overdue", "sla-over"},
		{"en", 25 * time.Hour, "in 1 d 1 h", "sla-ok"},
	} {
		f := newSLAFmt(&Page{u: u, Lang: c.lang})
		if text, cls := f.countdown(now, now.Add(c.in)); text != c.text || cls != c.cls {
			t.Errorf("%s %v: %q %s, want %q %s", c.lang, c.in, text, cls, c.text, c.cls)
		}
	}
	f := newSLAFmt(&Page{u: u, Lang: "en"})
	if got := f.name("first_response"); got != "First response" {
		t.Errorf("first_response is %q", got)
	}
	if got := f.name("commitment"); got == "commitment" {
		t.Errorf("commitment has no name")
	}
}
