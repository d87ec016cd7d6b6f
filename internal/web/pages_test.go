package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

func post(t *testing.T, k *testkit.Kit, c *http.Client, path string, form url.Values) *testkit.Response {
	t.Helper()
	return k.DoWith(c, testkit.Request{Method: "POST", Path: path, Body: form.Encode(),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
}

func TestFirstRunSetupNeedsTheCodeFromTheLog(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		c := k.Browserless()
		r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/login"})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/setup" {
			t.Fatalf("empty install: /login answered %d %s", r.Status, r.Header.Get("Location"))
		}
		form := url.Values{"setup_code": {"WRONG-CODE-0000"}, "name": {"王磊"}, "email": {"wang@example.com"}, "password": {"a long password"}, "password2": {"a long password"}}
		if r := post(t, k, c, "/setup", form); r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "设置码不正确") {
			t.Fatalf("wrong code: %d", r.Status)
		}
		if n, _ := k.App.Identity.CountUsers(t.Context()); n != 0 {
			t.Fatal("a wrong code created a user")
		}
		form.Set("setup_code", strings.ToLower(k.App.Setup.Code()))
		r = post(t, k, c, "/setup", form)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("right code: %d %s", r.Status, r.Body)
		}
		home := k.DoWith(c, testkit.Request{Method: "GET", Path: "/?done=setup"})
		if home.Status != 200 || !strings.Contains(string(home.Body), "设置完成") || !strings.Contains(string(home.Body), "/admin/users") {
			t.Fatalf("home after setup: %d", home.Status)
		}
		// The code works once; afterwards setup is closed.
		other := k.Browserless()
		form.Set("email", "intruder@example.com")
		if r := post(t, k, other, "/setup", form); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
			t.Fatalf("second setup: %d %s", r.Status, r.Header.Get("Location"))
		}
		if n, _ := k.App.Identity.CountUsers(t.Context()); n != 1 {
			t.Fatalf("%d users after a second setup", n)
		}
	})
}

func TestSignInCookieThrottleAndSignOut(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("agent@example.com", "agent")
		c := k.Browserless()
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/users"}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=%2Fadmin%2Fusers" {
			t.Fatalf("anonymous page: %d %s", r.Status, r.Header.Get("Location"))
		}
		r := post(t, k, c, "/login", url.Values{"email": {"agent@example.com"}, "password": {testkit.Password}, "next": {"https://evil.example/"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("sign-in: %d %s (an outside next must not be followed)", r.Status, r.Header.Get("Location"))
		}
		cookie := r.Header.Get("Set-Cookie")
		for _, want := range []string{"careloop_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("session cookie %q lacks %s", cookie, want)
			}
		}
		// The navigation shows only what an agent may use.
		home := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/"}).Body)
		if strings.Contains(home, `href="/admin/users"`) || !strings.Contains(home, `href="/account"`) {
			t.Fatalf("agent navigation wrong")
		}
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/users"}); r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "没有执行此操作的权限") {
			t.Fatalf("agent on admin page: %d", r.Status)
		}
		// Sign-in rotates the session id.
		again := post(t, k, c, "/login", url.Values{"email": {"agent@example.com"}, "password": {testkit.Password}})
		if again.Header.Get("Set-Cookie") == cookie {
			t.Fatal("a second sign-in kept the same session id")
		}
		// Wrong passwords: a clear message, then throttled with 429.
		other := k.Browserless()
		for i := 0; i < 5; i++ {
			if r := post(t, k, other, "/login", url.Values{"email": {"agent@example.com"}, "password": {"wrong"}}); r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "邮箱或密码不正确") {
				t.Fatalf("wrong password %d: %d", i, r.Status)
			}
		}
		r = post(t, k, other, "/login", url.Values{"email": {"agent@example.com"}, "password": {testkit.Password}})
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !regexp.MustCompile(`请 \d+ 分钟后再试`).Match(r.Body) {
			t.Fatalf("throttled sign-in: %d %s", r.Status, r.Header.Get("Retry-After"))
		}
		// Sign out ends the session server-side.
		if r := post(t, k, c, "/logout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.Status)
		}
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/api/v1/me"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("after logout: %d", r.Status)
		}
	})
}

func TestLanguageSwitchIsRememberedPerUser(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("sup@example.com", "supervisor")
		c := k.Login("sup@example.com", testkit.Password)
		if r := post(t, k, c, "/lang", url.Values{"lang": {"en"}, "next": {"/account"}}); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
			t.Fatalf("switch: %d %s", r.Status, r.Header.Get("Location"))
		}
		page := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/account"}).Body)
		if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, "My account") {
			t.Fatal("account page not in English after the switch")
		}
		// A new browser (no language cookie) still gets English after sign-in.
		fresh := k.Login("sup@example.com", testkit.Password)
		if page := string(k.DoWith(fresh, testkit.Request{Method: "GET", Path: "/"}).Body); !strings.Contains(page, "Hello,") {
			t.Fatal("the user's language was not remembered")
		}
		if r := post(t, k, c, "/lang", url.Values{"lang": {"klingon"}}); r.Status != http.StatusBadRequest {
			t.Fatalf("unknown language: %d", r.Status)
		}
		// Anonymous visitors: Accept-Language, then the cookie.
		anon := k.Browserless()
		r := k.DoWith(anon, testkit.Request{Method: "GET", Path: "/no-such-page", Header: map[string]string{"Accept-Language": "en-US,en;q=0.9"}})
		if r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), "That page or record does not exist.") {
			t.Fatalf("English 404: %d", r.Status)
		}
		r = k.DoWith(anon, testkit.Request{Method: "GET", Path: "/no-such-page"})
		if !strings.Contains(string(r.Body), "找不到该页面或记录") {
			t.Fatal("Chinese 404 missing")
		}
	})
}

func TestAdminManagesUsersThroughPages(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		c := k.Login("admin@example.com", testkit.Password)
		xss := `<img src=x onerror=alert(1)>`
		r := post(t, k, c, "/admin/users", url.Values{"name": {xss}, "email": {"new@example.com"}, "roles": {"agent", "quality"}, "locale": {"zh-CN"}})
		body := string(r.Body)
		if r.Status != 200 || !strings.Contains(body, "新密码（只显示这一次）") {
			t.Fatalf("create: %d", r.Status)
		}
		if strings.Contains(body, xss) || !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Fatal("a typed name was not escaped")
		}
		pw := regexp.MustCompile(`<code class="secret">([^<]+)</code>`).FindStringSubmatch(body)
		if pw == nil {
			t.Fatal("no generated password shown")
		}
		u, err := k.App.Identity.GetUserByEmail(t.Context(), "new@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Identity.Authenticate(t.Context(), "new@example.com", pw[1], "x"); err != nil {
			t.Fatalf("the shown password does not work: %v", err)
		}
		// Invalid edits come back to the form with the field marked.
		r = post(t, k, c, "/admin/users/"+itoa(u.ID), url.Values{"name": {""}, "email": {"new@example.com"}, "roles": {"agent"}, "active": {"on"}})
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "必填") {
			t.Fatalf("invalid edit: %d", r.Status)
		}
		// Deactivate.
		r = post(t, k, c, "/admin/users/"+itoa(u.ID), url.Values{"name": {"新员工"}, "email": {"new@example.com"}, "roles": {"agent"}, "version": {itoa(int64(u.Version))}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("deactivate: %d %s", r.Status, r.Body)
		}
		u, _ = k.App.Identity.GetUser(t.Context(), u.ID)
		if u.Active || u.Name != "新员工" {
			t.Fatalf("user after edit: %+v", u)
		}
		audit := string(k.DoWith(c, testkit.Request{Method: "GET", Path: "/admin/audit?action=user.deactivate"}).Body)
		if !strings.Contains(audit, "user.deactivate") || !strings.Contains(audit, "admin@example.com") {
			t.Fatal("audit page does not show the deactivation")
		}
	})
}
