package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// An administrator finds a failed message on Settings → Outbox and sends it
// again, in both languages, on a desktop and a phone.
func TestOutboxPageInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	ctx := context.Background()
	k.App.Outbox.Register(failing{})
	var dead []int64
	for i, subject := range []string{"[#T202603020001] 回复：打印机黑屏，工程师明天上午上门", "关于您的换货申请", "工单 T202603020002 已分配给您"} {
		id, err := k.App.Outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "ticket.reply", Recipient: fmt.Sprintf("customer%d@example.cn", i), Subject: subject})
		if err != nil {
			t.Fatal(err)
		}
		dead = append(dead, id)
	}
	if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	b := browser.Shared(t)
	for _, lang := range []string{"zh-CN", "en"} {
		signInAs(t, b, k.URL, "admin@example.com", lang)
		b.Visit(k.URL + "/admin")
		b.Click(`a[href="/admin/outbox"]`)
		b.WaitVisible("#outbox-rows")
		b.Click(`#outbox-states a[data-state="dead"]`)
		b.WaitVisible(`#outbox-rows tr[data-state="dead"]`)
		if got := b.Text(`#outbox-rows tr[data-state="dead"] .last-error`); !strings.Contains(got, "550 5.1.1") {
			t.Fatalf("%s: the failure is not shown: %q", lang, got)
		}
		atDesktopAndPhone(t, b, lang, "outbox-"+lang, nil)
		id := dead[0]
		if lang == "en" {
			id = dead[1]
		}
		b.Submit(fmt.Sprintf(`#outbox-rows tr[data-id="%d"] form`, id))
		b.WaitVisible("#flash")
		if got := b.Text("#flash"); !strings.Contains(got, fmt.Sprint(id)) {
			t.Fatalf("%s: flash %q", lang, got)
		}
		if m, _ := k.App.Outbox.Get(ctx, id); m.State != notify.StateQueued {
			t.Fatalf("%s: the row was not queued again: %s", lang, m.State)
		}
	}
}

// atDesktopAndPhone shows the page at 1366 px and as a 375 px phone: it
// fails when the page scrolls sideways, runs check (nil: none) with where
// naming the language and width, takes a screenshot named name-WIDTH, and
// leaves the browser at 1366 px.
func atDesktopAndPhone(t *testing.T, b *browser.Browser, lang, name string, check func(where string)) {
	t.Helper()
	for _, w := range []int{1366, 375} {
		if w == 375 {
			b.SetPhone(375, 812)
		} else {
			b.SetViewport(1366, 900)
		}
		where := fmt.Sprintf("%s %s at %d px", lang, name, w)
		var overflow bool
		b.Eval(`document.documentElement.scrollWidth > window.innerWidth + 1`, &overflow)
		if overflow {
			t.Errorf("%s: the page scrolls sideways", where)
		}
		if check != nil {
			check(where)
		}
		b.Screenshot(fmt.Sprintf("%s-%d", name, w))
	}
	b.SetViewport(1366, 900)
}
