package web_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// customerPagesKit is a Careloop with the demo customers, staff with
// Chinese names, a few owners and contacts, and an organisation with a
// contact person.
type customerPagesKit struct {
	*testkit.Kit
	agent, manager, admin identity.User
	adminToken            string
	org                   customers.Customer // an organisation with products
}

func startCustomerPages(t *testing.T) *customerPagesKit {
	t.Helper()
	k := testkit.Start(t, dbtest.Targets(t)[0])
	ctx := context.Background()
	ck := &customerPagesKit{Kit: k}
	for _, u := range []struct {
		dst         *identity.User
		email, name string
		role        string
	}{{&ck.agent, "agent@example.com", "李晓红", "agent"}, {&ck.manager, "manager@example.com", "王建国", "manager"},
		{&ck.admin, "admin@example.com", "陈刚", "admin"}} {
		created, err := k.App.Identity.CreateUser(ctx, identity.NewUser{Email: u.email, Name: u.name, Password: testkit.Password, Roles: []string{u.role}})
		if err != nil {
			t.Fatal(err)
		}
		*u.dst = created
	}
	_, ck.adminToken, _ = k.App.Identity.CreateToken(ctx, ck.admin.ID, "test")
	if err := demo.SeedCustomers(ctx, k.App.DB, k.App.Customers, k.App.Products, k.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	manager, _ := k.App.Identity.PrincipalFor(ctx, ck.manager.ID)
	page, err := k.App.Customers.Search(ctx, manager, customers.Filter{Limit: 60})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range page.Items {
		owner := []int64{ck.agent.ID, ck.manager.ID, 0}[i%3]
		in := customers.Input{OwnerID: &owner, AllowDuplicate: true}
		if c.Type == customers.TypeOrganization && ck.org.ID == 0 {
			owner = ck.manager.ID
			contacts := []customers.Contact{{Name: "周建华", Title: "采购经理", Phone: "13912340001", Primary: true}, {Name: "孙丽", Title: "前台", Phone: "021-62345678"}}
			in.Contacts = &contacts
		}
		updated, err := k.App.Customers.Update(ctx, c.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if c.Type == customers.TypeOrganization && ck.org.ID == 0 {
			ck.org = updated
		}
		if i%2 == 0 {
			if err := k.App.Customers.LogInteraction(ctx, c.ID, customers.Interaction{Channel: "phone", Note: "回访"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ck.org.ID == 0 {
		t.Fatal("no organisation among the newest demo customers")
	}
	if _, err := k.App.Customers.AddOwned(ctx, ck.org.ID, customers.OwnedInput{ProductID: 1, Serial: "SN2401-00042", PurchaseDate: "2024-01-15"}); err != nil {
		t.Fatal(err)
	}
	return ck
}

// signIn signs the browser in as email, in lang ("zh-CN" or "en").
func (ck *customerPagesKit) signIn(t *testing.T, b *browser.Browser, email, lang string) {
	t.Helper()
	b.Visit(ck.URL + "/login")
	if !b.Exists("#email") { // signed in already: sign out first
		b.SetViewport(1366, 900) // on a phone the button is inside the menu
		b.Click(`form.logout button`)
		b.Visit(ck.URL + "/login")
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

// choiceBox is the geometry of a radio or checkbox and its label text.
type choiceBox struct {
	Text                                  string
	TextHeight, LineHeight                float64
	TextLeft, TextTop, TextBottom         float64
	ControlRight, ControlMiddle, ControlW float64
}

// choiceGeometry measures every label.check with text under selector.
func choiceGeometry(b *browser.Browser, selector string) []choiceBox {
	var out []choiceBox
	b.Eval(`(() => { const out = [];
	  document.querySelectorAll(`+jsQuote(selector+" label.check")+`).forEach(l => {
	    const input = l.querySelector("input"); if (!input || !l.offsetParent) return;
	    const texts = [...l.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
	    if (!texts.length) return;
	    const r = document.createRange(); r.setStart(texts[0], 0); const last = texts[texts.length-1]; r.setEnd(last, last.length);
	    const t = r.getBoundingClientRect(), i = input.getBoundingClientRect(), cs = getComputedStyle(l);
	    const lh = cs.lineHeight === "normal" ? parseFloat(cs.fontSize) * 1.2 : parseFloat(cs.lineHeight);
	    out.push({Text: l.textContent.trim(), TextHeight: t.height, LineHeight: lh, TextLeft: t.left, TextTop: t.top, TextBottom: t.bottom,
	      ControlRight: i.right, ControlMiddle: i.top + i.height / 2, ControlW: i.width});
	  }); return out; })()`, &out)
	return out
}

func jsQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// checkChoices fails when a label wraps or leaves its control's row.
func checkChoices(t *testing.T, b *browser.Browser, where, selector string, want int) {
	t.Helper()
	boxes := choiceGeometry(b, selector)
	if len(boxes) < want {
		t.Fatalf("%s: %d labelled choices under %s, want %d", where, len(boxes), selector, want)
	}
	for _, c := range boxes {
		if c.TextHeight > 1.6*c.LineHeight {
			t.Errorf("%s: label %q wraps: text %.0f px high, line %.0f px", where, c.Text, c.TextHeight, c.LineHeight)
		}
		if c.ControlRight > c.TextLeft+0.5 || c.ControlMiddle < c.TextTop || c.ControlMiddle > c.TextBottom {
			t.Errorf("%s: the control of %q is not left of its text on the same row: %+v", where, c.Text, c)
		}
		if c.ControlW > 24 {
			t.Errorf("%s: the control of %q is %.0f px wide", where, c.Text, c.ControlW)
		}
	}
}

// narrowCells lists list cells whose text is squeezed below two of its
// characters' width (or below its whole text, when shorter).
func narrowCells(b *browser.Browser, selector string) []string {
	var out []string
	b.Eval(`(() => { const out = [];
	  document.querySelectorAll(`+jsQuote(selector+" tbody td")+`).forEach(td => {
	    if (!td.offsetParent) return;
	    const text = td.innerText.trim(); if (!text) return;
	    const r = document.createRange(); r.selectNodeContents(td);
	    const w = r.getBoundingClientRect().width, fs = parseFloat(getComputedStyle(td).fontSize);
	    const need = Math.min(2, [...text].length) * fs * 0.9;
	    if (w < need) out.push(text + " (" + Math.round(w) + " px)");
	  }); return out; })()`, &out)
	return out
}

func pageHeight(b *browser.Browser) float64 {
	var h float64
	b.Eval(`document.documentElement.scrollHeight`, &h)
	return h
}

// TestCustomerPagesLayout looks at every customer page in both languages at
// 1366 and 375 px: choices sit on one line beside their control, list cells
// keep their words, the Chinese list is not much taller than the English
// one, and nothing overflows the phone. The screenshots are for people.
func TestCustomerPagesLayout(t *testing.T) {
	ck := startCustomerPages(t)
	heights := map[string]float64{}
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			b := browser.Shared(t)
			ck.signIn(t, b, "agent@example.com", lang)
			for _, w := range []int{1366, 375} {
				b.SetViewport(w, 900)
				tag := fmt.Sprintf("%s-%d", lang, w)
				b.Visit(ck.URL + "/customers")
				if !b.Exists("table.list.customers td.primary") || !b.Exists(`#owner-filter`) {
					t.Fatalf("%s: the list has no table.list rows or owner filter", tag)
				}
				if !strings.Contains(b.Text("#customers-count"), "+") {
					t.Errorf("%s: 2,000 customers counted as %q", tag, b.Text("#customers-count"))
				}
				if h := b.Text("table.list.customers thead"); lang == "zh-CN" && (!strings.Contains(h, "名称") || strings.Contains(h, "姓名")) {
					t.Errorf("%s: the name column header is not 名称: %q", tag, h)
				}
				var missing int
				b.Eval(`[...document.querySelectorAll("table.list.customers tbody td:not(.primary)")].filter(td => !td.dataset.label).length`, &missing)
				if missing > 0 {
					t.Errorf("%s: %d list cells without data-label", tag, missing)
				}
				checkPlaceholderFits(t, b, tag)
				b.Visit(ck.URL + "/customers?sort=-name&owner=none")
				checkSelectsFit(t, b, tag+" list", "form.filters select")
				b.Visit(ck.URL + "/customers")
				b.Screenshot("list-" + tag)
				if w == 375 {
					if cells := narrowCells(b, "table.list.customers"); len(cells) > 0 {
						t.Errorf("%s: list cells narrower than two characters: %v", tag, cells)
					}
					heights[lang] = pageHeight(b)
					noOverflow(t, b, tag+" list")
				}
				b.Visit(ck.URL + "/customers?owner_id=me&sort=name")
				b.Screenshot("list-mine-by-name-" + tag)
				b.Visit(ck.URL + "/customers/new")
				checkChoices(t, b, tag+" new", "#type-choices", 2)
				b.Screenshot("new-" + tag)
				// A possible duplicate brings the "create anyway" checkbox.
				b.Fill("#name", "重复的客户")
				b.Fill("#phones", ck.org.Phones[0])
				b.Submit("form.customer-form")
				b.ClearJSErrors() // the 409 was expected
				if !b.Exists(`input[name="allow_duplicate"]`) {
					t.Fatalf("%s: no duplicate warning: %q", tag, b.Text("main"))
				}
				checkChoices(t, b, tag+" duplicate", "form.customer-form", 3)
				b.Screenshot("duplicate-" + tag)
				b.Visit(fmt.Sprintf("%s/customers/%d", ck.URL, ck.org.ID))
				checkChoices(t, b, tag+" reveal", "#reveal-form", 3)
				checkChoices(t, b, tag+" consent", "#consent-form", 2)
				if b.Text("#owner-name") != "王建国" {
					t.Errorf("%s: the record does not name its owner", tag)
				}
				b.Screenshot("detail-" + tag)
				b.Visit(fmt.Sprintf("%s/customers/%d?tk=customer.product", ck.URL, ck.org.ID))
				if got := b.Text("ol.timeline"); !strings.Contains(got, "SN2401-00042") || strings.Count(got, "\n") > 1 {
					t.Errorf("%s: the purchases-only timeline shows %q", tag, got)
				}
				if w == 375 {
					noOverflow(t, b, tag+" detail")
				}
				b.Visit(fmt.Sprintf("%s/customers/%d/edit", ck.URL, ck.org.ID))
				checkChoices(t, b, tag+" edit", "#type-choices", 2)
				checkSelectsFit(t, b, tag+" edit", "form.customer-form select")
				var got string
				b.Eval(`document.getElementById("owner_id").selectedOptions[0].text`, &got)
				if got != "王建国" || strings.Contains(got, "(") || strings.Contains(got, "（") {
					t.Errorf("%s: the owner picker shows %q", tag, got)
				}
				b.Screenshot("edit-" + tag)
				if w == 375 {
					noOverflow(t, b, tag+" edit")
				}
			}
			b.NoJSErrors()
		})
	}
	if heights["zh-CN"] > 2*heights["en"] {
		t.Errorf("the Chinese list is %.0f px high at 375 px, the English %.0f px", heights["zh-CN"], heights["en"])
	}
	t.Run("erase", func(t *testing.T) {
		b := browser.Shared(t)
		for _, lang := range []string{"zh-CN", "en"} {
			ck.signIn(t, b, "admin@example.com", lang)
			for _, w := range []int{1366, 375} {
				b.SetViewport(w, 900)
				b.Visit(fmt.Sprintf("%s/customers/%d/erase", ck.URL, ck.org.ID))
				if !b.Exists("#erase-gone li") || !b.Exists("#erase-kept li") {
					t.Fatal("the erase page does not say what goes and what stays")
				}
				b.Screenshot(fmt.Sprintf("erase-%s-%d", lang, w))
			}
		}
		b.Fill("#confirm", "123")
		b.Submit("#erase-form")
		if !b.Exists(".field-err") {
			t.Fatal("a wrong number erased the customer")
		}
		b.ClearJSErrors()
		b.Fill("#confirm", ck.org.Number)
		b.Submit("#erase-form")
		if !strings.Contains(b.Text("main"), "erased") || strings.Contains(b.Text("main"), ck.org.Name) {
			t.Fatalf("after erasure: %q", b.Text("main"))
		}
		b.NoJSErrors()
	})
}

// checkPlaceholderFits fails when the search placeholder is cut off.
func checkPlaceholderFits(t *testing.T, b *browser.Browser, tag string) {
	t.Helper()
	var fits bool
	b.Eval(`(() => { const i = document.querySelector('input[name="q"]'); const c = document.createElement("canvas").getContext("2d");
	  const cs = getComputedStyle(i); c.font = cs.fontSize + " " + cs.fontFamily;
	  const room = i.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
	  return c.measureText(i.placeholder).width <= room; })()`, &fits)
	if !fits {
		t.Errorf("%s: the search placeholder does not fit its box", tag)
	}
}

// checkSelectsFit fails when a select cuts off the option it shows.
func checkSelectsFit(t *testing.T, b *browser.Browser, where, selector string) {
	t.Helper()
	var cut []string
	b.Eval(`(() => { const out = []; const c = document.createElement("canvas").getContext("2d");
	  document.querySelectorAll(`+jsQuote(selector)+`).forEach(s => {
	    if (!s.offsetParent || !s.selectedOptions.length) return;
	    const cs = getComputedStyle(s); c.font = cs.fontSize + " " + cs.fontFamily;
	    const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16; // the arrow
	    const text = s.selectedOptions[0].text;
	    if (c.measureText(text).width > room) out.push(text);
	  }); return out; })()`, &cut)
	if len(cut) > 0 {
		t.Errorf("%s: selects cut off %q", where, cut)
	}
}

func noOverflow(t *testing.T, b *browser.Browser, where string) {
	t.Helper()
	var wide int
	b.Eval(`document.documentElement.scrollWidth`, &wide)
	if wide > 375 {
		t.Errorf("%s: the page is %d px wide at 375 px", where, wide)
	}
}

// TestCustomerRevealRedirectsInBrowser: a reveal asks why, posts, and lands
// on the record's GET URL with the numbers shown once; a reload shows them
// masked and does not post (one audit entry).
func TestCustomerRevealRedirectsInBrowser(t *testing.T) {
	ck := startCustomerPages(t)
	for _, c := range []struct {
		lang  string
		width int
	}{{"zh-CN", 375}, {"en", 1366}} {
		t.Run(c.lang, func(t *testing.T) {
			b := browser.Shared(t)
			ck.signIn(t, b, "agent@example.com", c.lang)
			b.SetViewport(c.width, 900)
			record := fmt.Sprintf("%s/customers/%d", ck.URL, ck.org.ID)
			b.Visit(record)
			if !strings.Contains(b.Text("#contact dl.facts"), "****") {
				t.Fatalf("not masked: %q", b.Text("#contact dl.facts"))
			}
			before := ck.revealCount(t)
			// "Other" without a reason is refused; nothing is revealed.
			b.Click(`#reveal-form input[value="other"]`)
			b.Submit("#reveal-form")
			if !b.Exists("#reveal-form .field-err") || !strings.Contains(b.Text("#contact dl.facts"), "****") {
				t.Fatalf("other without text: %q", b.Text("#contact"))
			}
			b.ClearJSErrors()
			b.Fill("#reason_other", "客户来电要求核对地址")
			b.Submit("#reveal-form")
			u, err := url.Parse(b.Location())
			if err != nil || u.Path != fmt.Sprintf("/customers/%d", ck.org.ID) {
				t.Fatalf("after reveal the browser is at %s", b.Location())
			}
			if strings.Contains(b.Text("#contact dl.facts"), "****") || !b.Exists("#revealed-note") {
				t.Fatalf("not revealed after the redirect: %q", b.Text("#contact"))
			}
			b.Screenshot("revealed")
			b.Eval(`location.reload(), true`, nil) // after the 303 a reload is a GET
			b.WaitVisible("#reveal-spent")
			if !strings.Contains(b.Text("#contact dl.facts"), "****") || !b.Exists("#reveal-spent") {
				t.Fatalf("a reload still shows the numbers: %q", b.Text("#contact"))
			}
			if got := ck.revealCount(t); got != before+1 {
				t.Fatalf("%d reveals audited, want %d (a reload must not post again)", got, before+1)
			}
			b.Screenshot("reloaded")
			b.NoJSErrors()
		})
	}
}

func (ck *customerPagesKit) revealCount(t *testing.T) int {
	t.Helper()
	var page struct {
		Items []struct {
			Changes map[string]struct{ After string } `json:"changes"`
		} `json:"items"`
	}
	ck.Do(testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/audit?action=customer.reveal&entity_id=%d", ck.org.ID), Token: ck.adminToken}).JSON(t, &page)
	for _, e := range page.Items {
		if e.Changes["reason"].After == "" {
			t.Fatalf("a reveal without a reason in the audit: %+v", e)
		}
	}
	return len(page.Items)
}

// TestCustomerStaleEditInBrowser: saving over someone else's change shows
// the form again with what was typed, names who changed what, lets the
// user take their value for a field, and overwrites only when asked.
func TestCustomerStaleEditInBrowser(t *testing.T) {
	ck := startCustomerPages(t)
	for i, c := range []struct {
		lang  string
		width int
	}{{"zh-CN", 1366}, {"en", 375}} {
		t.Run(c.lang, func(t *testing.T) {
			b := browser.Shared(t)
			ck.signIn(t, b, "agent@example.com", c.lang)
			b.SetViewport(c.width, 900)
			b.Visit(fmt.Sprintf("%s/customers/%d/edit", ck.URL, ck.org.ID))
			myName := fmt.Sprintf("新名称科技有限公司%d", i)
			b.Fill("#name", myName)
			b.Fill("#remarks", "我的备注")
			// Meanwhile the administrator changes the tier and the remarks.
			r := ck.Do(testkit.Request{Method: "PATCH", Path: fmt.Sprintf("/api/v1/customers/%d", ck.org.ID), Token: ck.adminToken,
				Body: map[string]any{"tier": []string{"vip", "potential"}[i], "remarks": fmt.Sprintf("经理的备注%d", i)}})
			if r.Status != 200 {
				t.Fatalf("admin patch: %d %s", r.Status, r.Body)
			}
			b.Submit("form.customer-form")
			b.ClearJSErrors() // the 409 of the stale save was expected
			conflict := b.Text("#conflict")
			if !strings.Contains(conflict, "陈刚") || !strings.Contains(conflict, "2026-03-02") {
				t.Fatalf("the conflict does not say who and when: %q", conflict)
			}
			wantTier := []string{"VIP", "Potential"}[i]
			if !strings.Contains(conflict, wantTier) || !strings.Contains(conflict, fmt.Sprintf("经理的备注%d", i)) || !strings.Contains(conflict, "我的备注") {
				t.Fatalf("the conflict does not show their values and mine: %q", conflict)
			}
			if b.Value("#name") != myName || b.Value("#remarks") != "我的备注" {
				t.Fatalf("the typed input is lost: name %q, remarks %q", b.Value("#name"), b.Value("#remarks"))
			}
			b.Screenshot("stale")
			b.Click(`#conflict button[name="take"][value="remarks"]`)
			if b.Value("#remarks") != fmt.Sprintf("经理的备注%d", i) || b.Value("#name") != myName {
				t.Fatalf("take theirs: name %q, remarks %q", b.Value("#name"), b.Value("#remarks"))
			}
			// Saving now overwrites deliberately: their remarks (taken), the
			// typed name, and the tier as this form had it.
			b.Submit("form.customer-form")
			if got := b.Text("h1"); !strings.Contains(got, myName) {
				t.Fatalf("after the deliberate save: %q", got)
			}
			if tl := b.Text("ol.timeline"); c.lang == "zh-CN" && (!strings.Contains(tl, "名称") || strings.Contains(tl, "姓名")) {
				t.Errorf("the timeline calls the customer's name: %q", tl)
			}
			c2, err := ck.App.Customers.Get(context.Background(), mustPrincipal(t, ck, ck.manager.ID), ck.org.ID)
			if err != nil || c2.Name != myName || c2.Remarks != fmt.Sprintf("经理的备注%d", i) || c2.Tier != "normal" || len(c2.Contacts) != 2 || c2.Contacts[0].Phone != "13912340001" {
				t.Fatalf("saved: %+v (%v)", c2, err)
			}
			b.NoJSErrors()
		})
	}
}

func mustPrincipal(t *testing.T, ck *customerPagesKit, id int64) *identity.Principal {
	t.Helper()
	p, err := ck.App.Identity.PrincipalFor(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
