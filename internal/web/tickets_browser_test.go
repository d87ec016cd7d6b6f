package web_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// signInAs signs the browser in as email, in lang ("zh-CN" or "en").
func signInAs(t *testing.T, b *browser.Browser, base, email, lang string) {
	t.Helper()
	b.SetViewport(1366, 900)
	b.Visit(base + "/login")
	if !b.Exists("#email") {
		b.Click(`form.logout button`)
		b.Visit(base + "/login")
	}
	b.Fill("#email", email)
	b.Fill("#password", testkit.Password)
	b.Submit("form.form")
	if got, _ := b.Attr("html", "lang"); !strings.HasPrefix(got, lang[:2]) {
		b.Click("form.lang button")
	}
	if got, _ := b.Attr("html", "lang"); !strings.HasPrefix(got, lang[:2]) {
		t.Fatalf("could not switch to %s (html lang %q)", lang, got)
	}
}

// keys presses keys in the focused element (kb.Tab, kb.Enter, text…).
func keys(t *testing.T, b *browser.Browser, k string, opts ...chromedp.KeyOption) {
	t.Helper()
	if err := chromedp.Do(b.Context(), chromedp.KeyEvent(k, opts...)); err != nil {
		t.Fatalf("keys %q: %v", k, err)
	}
}

func focused(b *browser.Browser) string {
	var id string
	b.Eval(`document.activeElement ? (document.activeElement.id || document.activeElement.name || "") : ""`, &id)
	return id
}

// tabTo presses Tab until the element with id has the focus.
func tabTo(t *testing.T, b *browser.Browser, id string, max int) {
	t.Helper()
	var path []string
	for range max {
		if focused(b) == id {
			return
		}
		keys(t, b, kb.Tab)
		path = append(path, focused(b))
	}
	if focused(b) != id {
		t.Fatalf("Tab never reached #%s: %v", id, path)
	}
}

// waitFor polls a JavaScript condition for up to 5 s.
func waitFor(t *testing.T, b *browser.Browser, what, js string) {
	t.Helper()
	// Up to 15 s: the page's own requests (a customer's products) run
	// behind whatever else a loaded CI machine is doing.
	for range 150 {
		var ok bool
		b.Eval(js, &ok)
		if ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waited in vain for %s", what)
}

func background(b *browser.Browser, selector string) string {
	var bg string
	b.Eval(`getComputedStyle(document.querySelector(`+jsQuote(selector)+`)).backgroundColor`, &bg)
	return bg
}

var ticketNumberRE = regexp.MustCompile(`^T\d{12}$`)

// TestTicketBrowserAgentFlow: on each database an agent logs a phone
// request with the keyboard only, replies, adds an internal note (shown
// apart, in yellow, labelled), makes a "2h" promise and keeps it, resolves,
// closes with the customer's confirmation and reopens; in zh-CN at 1366 px
// and the key pages at 375 px.
func TestTicketBrowserAgentFlow(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			tk := startTicketPages(t, tg)
			b := browser.Shared(t)
			signInAs(t, b, tk.URL, "agent@example.com", "zh-CN")
			b.Visit(tk.URL + "/tickets/new")
			b.Screenshot("intake-empty-zh-1366")
			if focused(b) != "customer_q" {
				t.Fatalf("the intake form does not start in the customer search (focus on %q)", focused(b))
			}
			// Pinyin initials find 陈美玲; arrow and Enter choose her.
			keys(t, b, "cml")
			waitFor(t, b, "the customer options", `!!document.querySelector('#customer-options li[role="option"]')`)
			b.Screenshot("intake-search-zh-1366")
			keys(t, b, kb.ArrowDown)
			keys(t, b, kb.Enter)
			if b.Value("#customer_id") != fmt.Sprint(tk.customer.ID) || !strings.Contains(b.Text("#chosen-customer"), "陈美玲") {
				t.Fatalf("Enter did not choose the customer: %q", b.Text("#chosen-customer"))
			}
			waitFor(t, b, "the customer's products", `document.querySelectorAll('#product-choices input').length === 2`)
			if got := b.Text("#product-choices"); !strings.Contains(got, "变频空调") || !strings.Contains(got, "在保") {
				t.Errorf("the product choices lack the air conditioner in warranty: %q", got)
			}
			waitFor(t, b, "the focus on the type", `document.activeElement && document.activeElement.name === "type"`)
			keys(t, b, kb.ArrowRight) // 咨询 → 故障报修
			if !b.Exists(`#type-choices input[value="fault"]:checked`) {
				t.Errorf("the arrow key did not pick 故障报修")
			}
			tabTo(t, b, "subject", 5)
			keys(t, b, "空调不制冷")
			keys(t, b, kb.Tab)
			if focused(b) != "description" {
				t.Fatalf("Tab after the subject lands on %q", focused(b))
			}
			keys(t, b, "开机半小时仍吹热风，遥控器显示正常")
			keys(t, b, kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
			b.Screenshot("intake-filled-zh-1366")
			keys(t, b, kb.Enter)
			b.WaitVisible("#ticket-number")
			number := b.Text("#ticket-number")
			if !ticketNumberRE.MatchString(number) || !strings.Contains(b.Text("#flash"), "已创建工单 "+number) {
				t.Fatalf("landed on %s with number %q, flash %q", b.Location(), number, b.Text("#flash"))
			}
			if b.Text("#ticket-subject") != "空调不制冷" || !strings.Contains(b.Text("#customer-panel"), "变频空调") {
				t.Errorf("the ticket page lacks the subject or product")
			}
			b.Screenshot("ticket-new-zh-1366")
			// The first response.
			b.Fill("#body", "陈女士您好，已收到您的报修，我们会在两小时内安排工程师联系您。")
			b.Fill("#time_spent", "5")
			b.Submit("#composer-form")
			if !strings.Contains(b.Text("#flash"), "已回复客户") || !strings.Contains(b.Text("#conversation article.post.reply"), "两小时内") {
				t.Fatalf("reply not shown: %q", b.Text("#conversation"))
			}
			if b.Text("#ticket-state") != "处理中" {
				t.Errorf("after the first response the state is %q", b.Text("#ticket-state"))
			}
			// An internal note: the composer turns yellow, the note shows apart.
			b.Click(`#composer-kind input[value="note"]`)
			b.Fill("#body", "客户情绪急，工程师到场前先电话确认地址。")
			if bg := background(b, "#body"); bg == "rgb(255, 255, 255)" {
				t.Errorf("the composer looks the same for a note: %s", bg)
			}
			b.Screenshot("composer-note-zh-1366")
			b.Submit("#composer-form")
			note := "#conversation article.post.note"
			if !strings.Contains(b.Text(note), "工程师到场前") || !strings.Contains(b.Text(note+" .note-label"), "内部备注") {
				t.Fatalf("the note is not shown as a note: %q", b.Text("#conversation"))
			}
			if strings.Contains(b.Text("#conversation article.post.reply"), "工程师到场前") {
				t.Error("the note shows as a reply")
			}
			if nb, rb := background(b, note), background(b, "#conversation article.post.reply"); nb == rb {
				t.Errorf("note and reply share the background %s", nb)
			}
			if b.Value("#body") != "" || b.Exists(`#composer-kind input[value="note"]:checked`) {
				t.Error("after the note the composer is not back to an empty reply")
			}
			// A promise within 2 hours, then kept.
			b.Fill("#commit-text", "两小时内回电告知工程师上门时间")
			b.Fill("#due_in", "2h")
			b.Submit("#commitment-form")
			if got := b.Text("#commitments li.commitment"); !strings.Contains(got, "待兑现") || !strings.Contains(got, "11:") {
				t.Errorf("the promise shows %q", got)
			}
			b.Screenshot("commitment-zh-1366")
			b.Click("#commitments .keep-commitment")
			if got := b.Text("#commitments li.commitment"); !strings.Contains(got, "已兑现") {
				t.Errorf("the kept promise shows %q", got)
			}
			// Resolve, close with the customer's confirmation, reopen.
			b.Click("#move-resolved")
			if b.Text("#ticket-state") != "已解决" || !b.Exists("#close-form") {
				t.Fatalf("after resolving: %q", b.Text("#ticket-state"))
			}
			b.Screenshot("resolved-zh-1366")
			b.Fill("#confirmation", "客户确认空调已正常制冷")
			b.Click("#move-closed")
			if b.Text("#ticket-state") != "已关闭" {
				t.Fatalf("after closing: %q %q", b.Text("#ticket-state"), b.Text("main"))
			}
			if !strings.Contains(b.Text("#composer .reply-hint"), "重新打开") {
				t.Error("a closed ticket's composer does not say to reopen first")
			}
			b.Screenshot("closed-zh-1366")
			b.Click("#move-in_progress")
			if b.Text("#ticket-state") != "处理中" || !strings.Contains(b.Text("#ticket-head, .ticket-head"), "重开 1 次") {
				t.Errorf("after reopening: %q", b.Text("#ticket-state"))
			}
			b.Click("#events summary")
			b.Screenshot("reopened-zh-1366")
			// The same ticket and the workspace at 375 px.
			b.SetViewport(375, 800)
			b.Visit(b.Location())
			noOverflow(t, b, "ticket 375")
			b.Screenshot("ticket-zh-375")
			b.Visit(tk.URL + "/tickets?queue=all")
			if !strings.Contains(b.Text("table.list.tickets"), number) {
				t.Errorf("the workspace lacks %s", number)
			}
			noOverflow(t, b, "workspace 375")
			if cells := narrowCells(b, "table.list.tickets"); len(cells) > 0 {
				t.Errorf("workspace cells narrower than two characters: %v", cells)
			}
			b.Screenshot("workspace-zh-375")
			b.NoJSErrors()
		})
	}
}

// TestTicketBrowserEnglishPhone: the key pages in English at 375 px, and a
// refused intake (no subject) that keeps the typed description.
func TestTicketBrowserEnglishPhone(t *testing.T) {
	tk := startTicketPages(t, dbtest.Targets(t)[0])
	b := browser.Shared(t)
	signInAs(t, b, tk.URL, "agent@example.com", "en")
	b.SetViewport(375, 800)
	b.Visit(tk.URL + "/tickets")
	if !strings.Contains(b.Text(".queues"), "My tickets") {
		t.Errorf("queues: %q", b.Text(".queues"))
	}
	noOverflow(t, b, "en workspace")
	b.Screenshot("workspace-en-375")
	b.Visit(fmt.Sprintf("%s/tickets/new?customer_id=%d", tk.URL, tk.customer.ID))
	if !strings.Contains(b.Text("#chosen-customer"), "陈美玲") {
		t.Fatalf("the customer of ?customer_id= is not chosen: %q", b.Text("#customer-pick"))
	}
	checkChoices(t, b, "en intake", "#severity-choices", 3)
	checkChoices(t, b, "en intake", "#product-choices", 2)
	b.Fill("#description", "The fridge has been warm since Monday.")
	b.Submit("#create-ticket")
	b.ClearJSErrors() // the 400 was expected
	if b.Value("#description") != "The fridge has been warm since Monday." || !strings.Contains(b.Text("#subject-err"), "required") &&
		b.Text("#subject-err") == "" {
		t.Fatalf("the refused intake lost the text or the message: %q %q", b.Value("#description"), b.Text("main"))
	}
	noOverflow(t, b, "en refused intake")
	b.Screenshot("intake-refused-en-375")
	b.Fill("#subject", "Fridge not cooling")
	b.Submit("#create-ticket")
	b.WaitVisible("#ticket-number")
	if !strings.Contains(b.Text("#flash"), "Ticket T") {
		t.Errorf("flash %q", b.Text("#flash"))
	}
	checkChoices(t, b, "en ticket", "#composer-kind", 2)
	noOverflow(t, b, "en ticket")
	b.Screenshot("ticket-en-375")
	b.Visit(fmt.Sprintf("%s/tickets/%d", tk.URL, tk.serviceTicket.ID))
	noOverflow(t, b, "en service ticket")
	b.Screenshot("ticket-service-en-375")
	b.Visit(tk.URL + "/")
	noOverflow(t, b, "en home")
	b.Screenshot("home-en-375")
	b.NoJSErrors()
}

// TestTicketBrowserOverview: what a supervisor sees (home blocks, the
// workspace with the major complaints, assignment) and the ticket settings,
// in both languages at both widths.
func TestTicketBrowserOverview(t *testing.T) {
	tk := startTicketPages(t, dbtest.Targets(t)[0])
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			b := browser.Shared(t)
			signInAs(t, b, tk.URL, "boss@example.com", lang)
			for _, w := range []int{1366, 375} {
				b.SetViewport(w, 900)
				tag := fmt.Sprintf("%s-%d", lang, w)
				b.Visit(tk.URL + "/")
				if !b.Exists("#block-tickets-unclaimed") || !b.Exists("#block-major-complaints") {
					t.Errorf("%s: the supervisor's home lacks the ticket blocks", tag)
				}
				b.Screenshot("home-boss-" + tag)
				b.Visit(tk.URL + "/tickets?queue=all")
				if !b.Exists("#queue-major") {
					t.Errorf("%s: no major complaints queue", tag)
				}
				checkSelectsFit(t, b, tag+" workspace", "form.filters select")
				b.Screenshot("workspace-boss-" + tag)
				b.Visit(fmt.Sprintf("%s/tickets/%d", tk.URL, tk.techTicket.ID))
				if !b.Exists("#take-ticket") || !b.Exists("#assign-form") {
					t.Errorf("%s: an unclaimed ticket offers no take or assign", tag)
				}
				b.Screenshot("ticket-boss-" + tag)
				if w == 375 {
					noOverflow(t, b, tag+" ticket")
				}
			}
		})
	}
	t.Run("settings", func(t *testing.T) {
		b := browser.Shared(t)
		tk.User("admin@example.com", "admin")
		signInAs(t, b, tk.URL, "admin@example.com", "zh-CN")
		b.Visit(tk.URL + "/admin/tickets")
		b.Fill("#new-cat-name", "空调")
		b.Fill(`#new-category select[name="parent_id"]`, b.Value(`#new-category select[name="parent_id"] option:nth-child(7)`))
		b.Submit("#new-category")
		if !strings.Contains(b.Text("table.categories"), "空调") {
			t.Fatalf("the new category is not listed")
		}
		b.Screenshot("settings-zh-1366")
		b.Click("#new-rule")
		b.Fill("#rule-name", "投诉交售后组")
		b.Click(`#rule-types input[value="complaint"]`)
		b.Fill("#rule-team", fmt.Sprint(tk.service.ID))
		checkChoices(t, b, "rule form", "#rule-types", 8)
		b.Screenshot("rule-zh-1366")
		b.Submit("#rule-form")
		if !strings.Contains(b.Text("table.rules"), "投诉交售后组") {
			t.Fatalf("the rule is not listed: %q", b.Text("main"))
		}
		b.SetViewport(375, 800)
		b.Visit(tk.URL + "/admin/tickets")
		noOverflow(t, b, "settings 375")
		b.Screenshot("settings-zh-375")
		b.NoJSErrors()
	})
}
