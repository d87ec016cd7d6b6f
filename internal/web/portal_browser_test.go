package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// portalWords are what the browser test reads on the pages, per language.
var portalWords = map[string]struct {
	sent, resolved, closed, reply, confirmed string
}{
	"zh-CN": {"请查收邮件", "已解决，待您确认", "已完成", "已回复客户", "感谢确认"},
	"en":    {"Check your mail", "Solved, please confirm", "Done", "Reply sent", "Thank you for confirming"},
}

// fitsWidth fails when the page is wider than the viewport of w px.
func fitsWidth(t *testing.T, b *browser.Browser, where string, w int) {
	t.Helper()
	var wide int
	b.Eval(`document.documentElement.scrollWidth`, &wide)
	if wide > w {
		t.Errorf("%s: the page is %d px wide at %d px", where, wide, w)
	}
}

// oneLine fails when an element's text wraps onto more lines than one.
func oneLine(t *testing.T, b *browser.Browser, where, selector string) {
	t.Helper()
	var wrapped []string
	b.Eval(`(() => { const out = []; document.querySelectorAll(`+jsQuote(selector)+`).forEach(e => {
	  const r = document.createRange(); r.selectNodeContents(e);
	  const lh = parseFloat(getComputedStyle(e).lineHeight) || parseFloat(getComputedStyle(e).fontSize) * 1.5;
	  if (e.offsetParent && r.getBoundingClientRect().height > lh * 1.6) out.push(e.innerText.trim()); }); return out; })()`, &wrapped)
	for _, w := range wrapped {
		t.Errorf("%s: %q wraps", where, w)
	}
}

// portalKit is a Careloop with a customer (email, a product in warranty)
// and a staff member who answers on the staff ticket page.
type portalKit struct {
	*testkit.Kit
	customer customers.Customer
	staff    identity.User
}

func startPortal(t *testing.T, tg dbtest.Target) *portalKit {
	t.Helper()
	k := testkit.Start(t, tg)
	ctx := context.Background()
	pk := &portalKit{Kit: k}
	var err error
	if pk.staff, err = k.App.Identity.CreateUser(ctx, identity.NewUser{Email: "lina@example.com", Name: "李娜", Password: testkit.Password,
		Roles: []string{"supervisor"}}); err != nil {
		t.Fatal(err)
	}
	k.User("admin@example.com", "admin") // routing's last resort
	name, email, phone := "陈美玲", "meiling@example.com", "13912345678"
	if pk.customer, err = k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &email, Phones: &[]string{phone}}); err != nil {
		t.Fatal(err)
	}
	pn, pm, months := "变频空调", "KFR-35GW", 36
	prod, err := k.App.Products.Create(ctx, customers.ProductInput{Name: &pn, Model: &pm, WarrantyMonths: &months})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.App.Customers.AddOwned(ctx, pk.customer.ID, customers.OwnedInput{ProductID: prod.ID, Serial: "SN2501AC0042", PurchaseDate: "2025-01-15"}); err != nil {
		t.Fatal(err)
	}
	return pk
}

// mailedLink is the path of the newest sign-in link mailed to an address.
func (pk *portalKit) mailedLink(t *testing.T, to string) string {
	t.Helper()
	list, err := pk.App.Outbox.List(context.Background(), notify.ListFilter{Channel: notify.ChannelEmail})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Recipient == to {
			if i := strings.Index(m.Body, "/portal/auth?token="); i >= 0 {
				return strings.Fields(m.Body[i:])[0]
			}
		}
	}
	t.Fatalf("no sign-in mail to %s", to)
	return ""
}

// portalLang switches the portal page shown to lang.
func portalLang(t *testing.T, b *browser.Browser, lang string) {
	t.Helper()
	if got, _ := b.Attr("html", "lang"); got != lang {
		b.Click("#lang-switch")
	}
	if got, _ := b.Attr("html", "lang"); got != lang {
		t.Fatalf("the portal did not switch to %s (%q)", lang, got)
	}
}

// TestPortalBrowserClosedLoop: a customer signs in by magic link on a 360
// px phone, sends a request with a photo about her product, an agent
// answers on the staff ticket page (and leaves an internal note) and
// resolves, the customer sees the answer (not the note) and confirms; in
// zh-CN and en.
func TestPortalBrowserClosedLoop(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		for _, tg := range dbtest.Targets(t) {
			t.Run(lang+"/"+string(tg.Dialect), func(t *testing.T) {
				pk := startPortal(t, tg)
				w := portalWords[lang]
				b := browser.Shared(t)
				b.SetPhone(360, 740)
				b.Visit(pk.URL + "/portal")
				if !strings.HasSuffix(b.Location(), "/portal/signin?next=%2Fportal") {
					t.Fatalf("the portal without a session is at %s", b.Location())
				}
				portalLang(t, b, lang)
				if b.Exists("#phone-form") {
					t.Error("the phone sign-in shows without an SMS channel")
				}
				fitsWidth(t, b, "sign-in", 360)
				b.Screenshot("signin-" + lang + "-360")
				b.Fill("#email", "meiling@example.com")
				b.Submit("#email-form")
				if !strings.Contains(b.Text("#link-sent"), w.sent) {
					t.Fatalf("after asking for a link: %q", b.Text("main"))
				}
				b.Screenshot("link-sent-" + lang + "-360")
				b.Visit(pk.URL + pk.mailedLink(t, "meiling@example.com"))
				b.Screenshot("link-" + lang + "-360")
				b.Click("#auth-submit")
				if !strings.HasSuffix(b.Location(), "/portal") || !b.Exists("#no-tickets") {
					t.Fatalf("after the link: %s %q", b.Location(), b.Text("main"))
				}
				b.Screenshot("tickets-empty-" + lang + "-360")
				// A request with a photo about the air conditioner.
				b.Click("#new-request")
				if got := b.Text("#owned_product_id"); !strings.Contains(got, "变频空调") {
					t.Fatalf("the product choices: %q", got)
				}
				b.Fill("#type", "fault")
				b.Fill("#owned_product_id", b.Value("#owned_product_id option:nth-child(2)"))
				b.Fill("#subject", "空调不制冷")
				b.Fill("#description", "开机半小时仍吹热风，遥控器显示正常。")
				photo := filepath.Join(t.TempDir(), "外机.png")
				if err := os.WriteFile(photo, attachPNG(t), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := chromedp.Do(b.Context(), chromedp.SetUploadFiles(chromedp.CSS("#attachments"), []string{photo})); err != nil {
					t.Fatal(err)
				}
				fitsWidth(t, b, "new request", 360)
				b.Screenshot("new-" + lang + "-360")
				b.Submit("#new-form")
				b.WaitVisible("#ticket-number")
				number := b.Text("#ticket-number")
				if !ticketNumberRE.MatchString(number) || !b.Exists("#flash") || !strings.Contains(b.Text("#ticket-product"), "变频空调") ||
					!strings.Contains(b.Text("#thread"), "外机.png") {
					t.Fatalf("the new ticket's page: %q", b.Text("main"))
				}
				ticketURL := b.Location()
				if i := strings.Index(ticketURL, "?"); i > 0 {
					ticketURL = ticketURL[:i]
				}
				id := ticketURL[strings.LastIndex(ticketURL, "/")+1:]
				fitsWidth(t, b, "ticket", 360)
				oneLine(t, b, "ticket", "#ticket-state, .tabs a, #ticket-number")
				b.Screenshot("ticket-new-" + lang + "-360")
				// The agent answers on the staff page, notes, resolves.
				signInAs(t, b, pk.URL, "lina@example.com", lang)
				b.Visit(pk.URL + "/tickets/" + id)
				if !strings.Contains(b.Text("#ticket-subject"), "空调不制冷") {
					t.Fatalf("the staff page: %q", b.Text("main"))
				}
				b.Fill("#body", "陈女士您好，工程师明天上午十点上门检修。")
				b.Submit("#composer-form")
				if !strings.Contains(b.Text("#conversation article.post.reply"), "明天上午十点") {
					t.Fatalf("the reply is not on the staff page: %q", b.Text("#conversation"))
				}
				b.Click(`#composer-kind input[value="note"]`)
				b.Fill("#body", "内部：配件要从仓库调")
				b.Submit("#composer-form")
				b.Click("#move-resolved")
				b.Screenshot("staff-resolved-" + lang + "-1366")
				// The customer sees the answer, not the note, and confirms.
				b.SetPhone(360, 740)
				b.Visit(pk.URL + "/portal/tickets/" + id)
				portalLang(t, b, lang)
				thread := b.Text("#thread")
				if !strings.Contains(thread, "明天上午十点") || !strings.Contains(thread, "李娜") {
					t.Errorf("the customer does not see the answer: %q", thread)
				}
				if strings.Contains(b.HTML(), "配件要从仓库调") {
					t.Error("the internal note reached the customer's page")
				}
				if got := b.Text("#ticket-state"); got != w.resolved {
					t.Errorf("the state shows %q, want %q", got, w.resolved)
				}
				fitsWidth(t, b, "resolved ticket", 360)
				oneLine(t, b, "resolved ticket", "#ticket-state, #confirm-solved")
				b.Screenshot("ticket-resolved-" + lang + "-360")
				b.Click("#confirm-solved")
				if got := b.Text("#ticket-state"); got != w.closed || !strings.Contains(b.Text("#flash"), w.confirmed) {
					t.Fatalf("after confirming: %q %q", got, b.Text("main"))
				}
				if b.Exists("#confirm-solved") || !b.Exists("#not-fixed") {
					t.Error("a closed ticket still offers to confirm, or no longer to say it is not fixed")
				}
				b.Screenshot("ticket-closed-" + lang + "-360")
				b.Visit(pk.URL + "/portal")
				if !strings.Contains(b.Text("#tickets"), number) || !strings.Contains(b.Text("#tickets"), w.closed) {
					t.Errorf("the list: %q", b.Text("#tickets"))
				}
				fitsWidth(t, b, "list", 360)
				b.Screenshot("tickets-" + lang + "-360")
				b.Visit(pk.URL + "/portal/products")
				if !strings.Contains(b.Text("#products"), "SN2501AC0042") {
					t.Errorf("products: %q", b.Text("main"))
				}
				fitsWidth(t, b, "products", 360)
				oneLine(t, b, "products", ".products .state")
				b.Screenshot("products-" + lang + "-360")
				staffTicket := pk.staffTicket(t, id)
				if staffTicket.State != "closed" || staffTicket.Confirmation == "" {
					t.Errorf("the staff side sees %s, confirmation %q", staffTicket.State, staffTicket.Confirmation)
				}
				b.NoJSErrors()
			})
		}
	}
}

type staffTicketView struct {
	State        string `json:"state"`
	Confirmation string `json:"confirmation"`
}

func (pk *portalKit) staffTicket(t *testing.T, id string) staffTicketView {
	t.Helper()
	_, token, err := pk.App.Identity.CreateToken(context.Background(), pk.staff.ID, "check")
	if err != nil {
		t.Fatal(err)
	}
	var v staffTicketView
	pk.Do(testkit.Request{Method: "GET", Path: "/api/v1/tickets/" + id, Token: token}).JSON(t, &v)
	return v
}

// TestPortalBrowserSupportForm: the public form on a phone in both
// languages, a refusal that names the field and keeps the text, and the
// thank-you page with the number.
func TestPortalBrowserSupportForm(t *testing.T) {
	pk := startPortal(t, dbtest.Targets(t)[0])
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			b := browser.Shared(t)
			b.SetPhone(360, 740)
			b.Visit(pk.URL + "/support/new?lang=" + lang)
			if got, _ := b.Attr("html", "lang"); got != lang {
				t.Fatalf("?lang=%s shows %q", lang, got)
			}
			fitsWidth(t, b, "form", 360)
			b.Screenshot("support-" + lang + "-360")
			b.Fill("#name", "王先生")
			b.Fill("#subject", "咨询保修")
			b.Fill("#description", "买了三年的空调还在保修期吗？")
			b.Submit("#support-form")
			b.ClearJSErrors() // the 400 was expected
			if b.Text("#email-err") == "" || b.Value("#description") != "买了三年的空调还在保修期吗？" {
				t.Fatalf("the refusal: %q", b.Text("main"))
			}
			fitsWidth(t, b, "refused form", 360)
			b.Screenshot("support-refused-" + lang + "-360")
			b.Fill("#email", fmt.Sprintf("wang-%s@example.com", lang))
			b.Submit("#support-form")
			if !strings.Contains(b.Text("#support-done"), "T") {
				t.Fatalf("the thank-you page: %q", b.Text("main"))
			}
			b.Screenshot("support-done-" + lang + "-360")
			b.NoJSErrors()
		})
	}
}

// TestPortalBrowserDemo: on a --demo server a first visitor signs in as the
// demo customer with one click and sees her requests in every part of the
// loop, at 360 px.
func TestPortalBrowserDemo(t *testing.T) {
	k := testkit.StartWith(t, dbtest.Targets(t)[0], testkit.Options{Demo: true})
	ctx := context.Background()
	if err := demo.Seed(ctx, k.App.Identity); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"家用净水器", "智能门锁"} {
		name, model, months := name, "RO-500", 24
		if _, err := k.App.Products.Create(ctx, customers.ProductInput{Name: &name, Model: &model, WarrantyMonths: &months}); err != nil {
			t.Fatal(err)
		}
	}
	if err := demo.SeedPortal(ctx, k.App.DB, k.App.Identity, k.App.Products, k.App.Portal, k.Clock.Now(), k.App.Attachments); err != nil {
		t.Fatal(err)
	}
	b := browser.Shared(t)
	b.SetPhone(360, 740)
	b.Visit(k.URL + "/portal/signin")
	portalLang(t, b, "zh-CN")
	fitsWidth(t, b, "demo sign-in", 360)
	b.Screenshot("signin-demo-zh-360")
	b.Click("#demo-signin")
	if got := b.Text("#tickets"); !strings.Contains(got, "门锁指纹识别失灵") || !strings.Contains(got, "已解决，待您确认") {
		t.Fatalf("the demo customer's requests: %q", got)
	}
	oneLine(t, b, "demo list", "#tickets .state, #tickets .num")
	b.Screenshot("demo-tickets-zh-360")
	b.Eval(`document.querySelectorAll('#tickets a')[1].click()`, nil)
	b.WaitVisible("#ticket-number")
	if !b.Exists("#confirm-solved") {
		t.Errorf("the resolved demo request offers no confirmation: %q", b.Text("main"))
	}
	fitsWidth(t, b, "demo ticket", 360)
	b.Screenshot("demo-resolved-zh-360")
	b.Visit(k.URL + "/portal/products")
	b.Screenshot("demo-products-zh-360")
	b.NoJSErrors()
}

// TestPortalBrowserFormInAFrame: another site frames the web form and the
// browser shows it (frame-ancestors *); framing a portal page is refused.
func TestPortalBrowserFormInAFrame(t *testing.T) {
	pk := startPortal(t, dbtest.Targets(t)[0])
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><body><iframe id="f" onload="window.framed = true" src="%s%s" style="width:360px;height:900px;border:0"></iframe></body></html>`,
			pk.URL, r.URL.Query().Get("path"))
	}))
	defer site.Close()
	b := browser.Shared(t)
	b.SetViewport(400, 960)
	var loaded bool
	for _, c := range []struct {
		path   string
		framed bool
	}{{"/support/new?lang=zh-CN", true}, {"/portal/signin", false}} {
		b.ClearJSErrors()
		b.Visit(site.URL + "/?path=" + url.QueryEscape(c.path))
		waitFor(t, b, "the frame's load", `window.framed === true`)
		errs := strings.Join(b.JSErrors(), "\n")
		refused := strings.Contains(errs, "frame-ancestors") || strings.Contains(errs, "Refused to frame")
		if refused == c.framed {
			t.Errorf("%s in a frame: refused %v (%s)", c.path, refused, errs)
		}
		loaded = true
		b.Screenshot("framed-" + strings.Trim(strings.ReplaceAll(strings.Split(c.path, "?")[0], "/", "-"), "-"))
	}
	if !loaded {
		t.Fatal("nothing framed")
	}
	b.ClearJSErrors()
}
