package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// An administrator adds a mailbox on Settings → Mailboxes and opens its
// page, in both languages, on a desktop and a phone.
func TestMailboxesPageInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	if _, err := k.App.Identity.CreateTeam(context.Background(), "华东售后组"); err != nil {
		t.Fatal(err)
	}
	b := browser.Shared(t)
	for _, c := range []struct{ lang, name, address, flash string }{
		{"zh-CN", "售后服务", "service@example.cn", "邮箱已添加"},
		{"en", "After-sales", "aftersales@example.cn", "Mailbox added"},
	} {
		signInAs(t, b, k.URL, "admin@example.com", c.lang)
		b.SetViewport(1366, 900)
		b.Visit(k.URL + "/admin")
		b.Click(`a[href="/admin/mailboxes"]`)
		b.WaitVisible("#mailboxes")
		if !b.Exists("#new-mailbox[open]") && c.lang == "zh-CN" {
			t.Fatalf("%s: with no mailbox the form should be open", c.lang)
		}
		if !b.Exists("#new-mailbox[open]") {
			b.Click("#new-mailbox > summary")
		}
		b.Fill("#name", c.name)
		b.Fill("#address", c.address)
		b.Fill("#smtp-host", "smtp.exmail.qq.com")
		b.Fill("#smtp-username", c.address)
		b.Fill("#smtp-password", "app-password-1")
		b.Fill("#imap-host", "imap.exmail.qq.com")
		b.Fill("#imap-password", "app-password-2")
		b.Eval(`(() => { const s = document.querySelector('#team_id'); s.value = s.options[1].value; return true; })()`, new(bool))
		b.Submit(".mailbox-form")
		b.WaitVisible("#flash")
		if got := b.Text("#flash"); !strings.Contains(got, c.flash) {
			t.Fatalf("%s: flash %q", c.lang, got)
		}
		if got := b.Text("#mailboxes"); !strings.Contains(got, c.name) || !strings.Contains(got, "华东售后组") || strings.Contains(b.HTML(), "app-password") {
			t.Fatalf("%s: the list: %q", c.lang, got)
		}
		atDesktopAndPhone(t, b, c.lang, "mailboxes-"+c.lang, func(where string) {
			oneLine(t, b, where, ".mailbox .name, .mailbox .badge, .mailbox dt")
		})
		b.Click(`.mailbox:last-child a.button`)
		b.WaitVisible("#poll-status")
		atDesktopAndPhone(t, b, c.lang, "mailbox-"+c.lang, func(where string) {
			oneLine(t, b, where, ".mailbox-form label:not(.check), .mailbox-form legend, #poll-status dt")
		})
	}
}
