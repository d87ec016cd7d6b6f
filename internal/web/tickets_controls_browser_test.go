package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
	"github.com/careloop/careloop/internal/tickets"
)

// noWrap fails when an element under selector that shows text takes more
// than one line (short labels: buttons, headings, legends).
func noWrap(t *testing.T, b *browser.Browser, where, selector string) {
	t.Helper()
	var wrapped []string
	b.Eval(`(() => { const out = [];
	  document.querySelectorAll(`+jsQuote(selector)+`).forEach(el => {
	    if (!el.offsetParent || !el.innerText.trim()) return;
	    // The text's line boxes only (a checkbox beside it is not a line).
	    const tops = []; const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
	    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
	      if (!n.textContent.trim()) continue;
	      const r = document.createRange(); r.selectNodeContents(n);
	      for (const x of r.getClientRects()) if (x.width > 0) tops.push(x.top);
	    }
	    const lh = parseFloat(getComputedStyle(el).lineHeight) || parseFloat(getComputedStyle(el).fontSize) * 1.2;
	    if (tops.length && Math.max(...tops) - Math.min(...tops) > lh / 2) out.push(el.innerText.trim());
	  }); return out; })()`, &wrapped)
	if len(wrapped) > 0 {
		t.Errorf("%s: labels wrap: %q", where, wrapped)
	}
}

// TestTicketControlsBrowser: in zh-CN and en at 375 px (and 1366 px for the
// record) an agent fills the reply box from a template and applies a macro,
// sees the colleague who starts writing a reply (their presence posted
// through the API meanwhile, shown without a reload, and after one); a
// supervisor ticks two tickets and assigns them in one go, and reads
// which changed.
func TestTicketControlsBrowser(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			c := startControls(t, dbtest.Targets(t)[0])
			ctx := context.Background()
			tmpls, _ := c.App.Tickets.Templates(ctx, true)
			macro, err := c.App.Tickets.SaveMacro(ctx, tickets.Macro{Name: "受理等客户", TemplateID: &tmpls[0].ID, SetState: "waiting_customer",
				AddTags: []string{"已受理"}, Active: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.App.Tickets.SaveMacro(ctx, tickets.Macro{Name: "转技术组", TeamID: &c.tech.ID, Active: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.App.Tickets.CreateView(ctx, c.agentP, "我的待处理", "queue=all&state=new,acknowledged"); err != nil {
				t.Fatal(err)
			}
			b := browser.Shared(t)
			signInAs(t, b, c.URL, "agent@example.com", lang)
			ticket := c.ticketURL(c.serviceTicket.ID)
			for _, w := range []int{1366, 375} {
				b.SetViewport(w, 900)
				tag := fmt.Sprintf("%s-%d", lang, w)
				b.Visit(ticket)
				noWrap(t, b, tag+" ticket", "#macros h2, #related h2, #followers h2, #merge h2, .side-control button, .reply-tools label, .reply-tools button")
				checkSelectsFit(t, b, tag+" ticket", "#macro-pick, #template-pick")
				if w == 375 {
					noOverflow(t, b, tag+" ticket")
				}
				b.Screenshot("ticket-controls-" + tag)
			}
			// The template picker fills the reply box.
			b.Click("#insert-template")
			waitFor(t, b, "the template in the reply box", `document.getElementById("body").value.includes("陈美玲")`)
			b.Fill("#body", "")
			// A colleague opens the ticket and starts writing a reply (their
			// page's presence, posted through the API); the agent's page shows
			// it as soon as it next says it is open: here, when the agent types.
			colleague := c.Login("colleague@example.com", testkit.Password)
			resp, err := colleague.Post(fmt.Sprintf("%s/api/v1/tickets/%d/presence", c.URL, c.serviceTicket.ID), "application/json", strings.NewReader(`{"replying":true}`))
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("colleague presence: %v %v", resp, err)
			}
			resp.Body.Close()
			b.Click("#body")
			keys(t, b, "您好")
			want := map[string]string{"zh-CN": "张伟 正在回复客户", "en": "张伟 is writing a reply"}[lang]
			waitFor(t, b, "the colleague's notice", `!document.getElementById("presence").hidden && document.getElementById("presence").innerText.includes(`+jsQuote(want)+`)`)
			b.Screenshot("ticket-presence-" + lang + "-375")
			// And the agent's own presence says they are replying.
			viewers, _ := c.App.Tickets.Presence(ctx, controlsPrincipal(t, c, c.colleague.ID), c.serviceTicket.ID)
			if len(viewers) != 1 || viewers[0].Name != "李晓红" || !viewers[0].Replying {
				t.Errorf("the agent's page did not say they are replying: %+v", viewers)
			}
			b.Fill("#body", "")
			b.Visit(ticket)
			if !strings.Contains(b.Text("#presence"), want) {
				t.Errorf("after a reload the notice is gone: %q", b.Text("#presence"))
			}
			// The macro: what it will do, then the result.
			b.Fill("#macro-pick", fmt.Sprint(macro.ID))
			if got := b.Text("#macro-summary"); !strings.Contains(got, "受理等客户") {
				t.Errorf("the macro summary: %q", got)
			}
			b.Submit("#apply-macro")
			b.WaitVisible("#flash")
			if got := b.Text("#flash"); !strings.Contains(got, "受理等客户") {
				t.Errorf("flash after the macro: %q", got)
			}
			if !strings.Contains(b.Text("#ticket-tags"), "已受理") {
				t.Errorf("the macro's tag is not shown: %q", b.Text(".ticket-head"))
			}
			noOverflow(t, b, lang+" macro applied")
			b.Screenshot("ticket-macro-applied-" + lang + "-375")
			// Merging asks first (not confirmed here).
			b.Visit(c.ticketURL(c.dup.ID))
			b.Fill("#merge-into", c.serviceTicket.Number)
			b.Submit("#merge-next")
			b.WaitVisible("#merge-confirm-button")
			noOverflow(t, b, lang+" merge confirmation")
			noWrap(t, b, lang+" merge confirmation", ".merge-side h2, #merge-confirm-form button, #merge-confirm-form a")
			b.Screenshot("merge-confirm-" + lang + "-375")
			// The workspace at 375 px: saved views and the bulk bar.
			b.Visit(c.URL + "/tickets?queue=all")
			noOverflow(t, b, lang+" workspace")
			noWrap(t, b, lang+" workspace", "#saved-views h2, #saved-views button, .bulk-label, .bulk-group button")
			b.Screenshot("workspace-controls-" + lang + "-375")
			b.NoJSErrors()

			// The supervisor ticks two tickets and assigns them to 张伟.
			signInAs(t, b, c.URL, "boss@example.com", lang)
			for _, w := range []int{1366, 375} {
				b.SetViewport(w, 900)
				b.Visit(c.URL + "/tickets?queue=all")
				b.Click(fmt.Sprintf(`input.pick-one[value="%d"]`, c.techTicket.ID))
				b.Click(fmt.Sprintf(`input.pick-one[value="%d"]`, c.dup.ID))
				wantCount := map[string]string{"zh-CN": "已选 2 张工单", "en": "2 selected"}[lang]
				if got := b.Text("#bulk-count"); got != wantCount {
					t.Errorf("the count: %q", got)
				}
				checkSelectsFit(t, b, lang+" bulk", "#bulk-assignee, #bulk-to")
				noWrap(t, b, lang+" bulk", ".bulk-label, .bulk-group button, .bulk-count")
				if w == 1366 {
					var wide bool
					b.Eval(`(() => { const t = document.querySelector(".table-wrap"); return t.scrollWidth > t.clientWidth + 1; })()`, &wide)
					if wide {
						t.Errorf("%s: the ticket list scrolls sideways at 1366 px", lang)
					}
				}
				if w == 375 {
					noOverflow(t, b, lang+" bulk")
				}
				b.Screenshot(fmt.Sprintf("workspace-bulk-picked-%s-%d", lang, w))
				if w == 1366 {
					// Select all, then none.
					b.Click("#pick-all")
					var n int
					b.Eval(`document.querySelectorAll("input.pick-one:checked").length`, &n)
					if n < 4 {
						t.Errorf("select all ticked %d", n)
					}
					b.Click("#pick-all")
					b.Eval(`document.querySelectorAll("input.pick-one:checked").length`, &n)
					if n != 0 {
						t.Errorf("unticking all left %d", n)
					}
				}
			}
			b.Fill("#bulk-assignee", fmt.Sprintf("u:%d", c.colleague.ID))
			b.Fill("#bulk-reason", "集中处理")
			b.Submit("#bulk-assign-button")
			wantDone := map[string]string{"zh-CN": "2 张已改，0 张未改", "en": "2 changed, 0 not changed"}[lang]
			if got := b.Text("#bulk-summary"); !strings.Contains(got, wantDone) || !strings.Contains(got, "张伟") {
				t.Errorf("bulk answer: %q", got)
			}
			for _, id := range []int64{c.techTicket.ID, c.dup.ID} {
				if got, _ := c.App.Tickets.Get(ctx, c.boss, id); got.OwnerID == nil || *got.OwnerID != c.colleague.ID {
					t.Errorf("ticket %d not assigned to 张伟", id)
				}
			}
			noOverflow(t, b, lang+" bulk answer")
			b.Screenshot("bulk-answer-" + lang + "-375")
			b.SetViewport(1366, 900)
			b.Screenshot("bulk-answer-" + lang + "-1366")
			b.NoJSErrors()

			// The settings: templates, macros, staff; the template and macro forms.
			c.User("admin@example.com", "admin")
			signInAs(t, b, c.URL, "admin@example.com", lang)
			for _, w := range []int{1366, 375} {
				b.SetViewport(w, 900)
				tag := fmt.Sprintf("%s-%d", lang, w)
				for _, pg := range []struct{ path, name string }{{"/admin/tickets", "settings"}, {"/admin/tickets/templates/new", "template-form"}, {"/admin/tickets/macros/new", "macro-form"}} {
					b.Visit(c.URL + pg.path)
					if w == 375 {
						noOverflow(t, b, tag+" "+pg.name)
					}
					noWrap(t, b, tag+" "+pg.name, "h2, .form label:not(.check), table.staff td label.check, button, table.list th")
					b.Screenshot(pg.name + "-" + tag)
				}
			}
			b.NoJSErrors()
		})
	}
}

func controlsPrincipal(t *testing.T, c *controlsKit, id int64) *identity.Principal {
	t.Helper()
	p, err := c.App.Identity.PrincipalFor(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
