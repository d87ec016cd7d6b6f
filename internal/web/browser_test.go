package web_test

import (
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// TestShellInBrowser signs in as an administrator and as an agent in
// headless Chromium, in both languages and at phone width, and checks what
// each sees. Screenshots land in the folder the test logs.
func TestShellInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	k.User("agent@example.com", "agent")

	t.Run("admin", func(t *testing.T) { adminInBrowser(t, k) })
	t.Run("agent", func(t *testing.T) { agentInBrowser(t, k) })
}

func adminInBrowser(t *testing.T, k *testkit.Kit) {
	b := browser.Shared(t)
	b.Visit(k.URL + "/admin/users")
	if !strings.HasPrefix(b.Location(), k.URL+"/login?next=") {
		t.Fatalf("anonymous visit landed on %s", b.Location())
	}
	b.Screenshot("login-zh")
	b.Fill("#email", "admin@example.com")
	b.Fill("#password", testkit.Password)
	b.Submit("form.form")
	if got := b.Text("h1"); got != "员工" {
		t.Fatalf("after sign-in h1 = %q, want the staff page", got)
	}
	// Create a user through the form; the name is escaped, the password shown once.
	b.Fill("#name", "<b>周杰</b>")
	b.Fill("#email", "zhou@example.com")
	b.Click(`input[name="roles"][value="technician"]`)
	b.Submit(`form[action="/admin/users"]`)
	if !b.Exists("code.secret") || !strings.Contains(b.Text("table"), "<b>周杰</b>") {
		t.Fatalf("created user not listed as text: %q", b.Text("table"))
	}
	b.Screenshot("users-zh")

	// English, one click away, remembered.
	b.Click(`form.lang button`)
	if got := b.Text("h1"); got != "Staff" {
		t.Fatalf("after switching, h1 = %q", got)
	}
	b.Visit(k.URL + "/admin/audit")
	if !strings.Contains(b.Text("table"), "admin created the staff account of <b>周杰</b>") {
		t.Fatalf("audit log lacks the creation: %q", b.Text("table"))
	}
	b.Screenshot("audit-en")

	// Phone width: the menu folds behind a button.
	b.SetViewport(375, 740)
	b.Visit(k.URL + "/admin/users")
	if b.Exists("#nav.open") {
		t.Fatal("menu open before the toggle")
	}
	b.Screenshot("users-phone-en")
	b.Click(".nav-toggle")
	if !b.Exists("#nav.open") {
		t.Fatal("menu toggle did not open the navigation")
	}
	b.Screenshot("users-phone-menu-en")
	b.NoJSErrors()
}

// agentInBrowser checks that an agent sees no administration.
func agentInBrowser(t *testing.T, k *testkit.Kit) {
	a := browser.Shared(t)
	a.Visit(k.URL + "/login")
	a.Fill("#email", "agent@example.com")
	a.Fill("#password", testkit.Password)
	a.Submit("form.form")
	nav := a.Text("#nav")
	if strings.Contains(nav, "员工") || strings.Contains(nav, "审计") || strings.Contains(nav, "设置") || !a.Exists(`header.top a[href="/account"]`) {
		t.Fatalf("agent navigation: %q", nav)
	}
	a.Visit(k.URL + "/account")
	a.Fill("#token-name", "ERP 对接")
	a.Submit(`form[action="/account/tokens"]`)
	if !strings.HasPrefix(a.Text("#new-token"), "clt_") {
		t.Fatalf("token not shown: %q", a.Text("#new-token"))
	}
	a.Screenshot("account-zh")
	a.NoJSErrors()
	if a.VisitStatus(k.URL+"/admin/users") != 403 {
		t.Fatal("agent reached the staff page")
	}
	a.Screenshot("forbidden-zh")
}
