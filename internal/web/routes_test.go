package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/web/httpx"
)

// roles is every built-in role, for tests that act as each.
var roles = []string{"agent", "after_sales", "tech_support", "technician", "supervisor", "quality", "manager", "admin"}

func TestEveryRouteDeclaresAKnownPermission(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	seen := map[string]bool{}
	for _, rt := range k.App.Server.Routes() {
		if seen[rt.Pattern()] {
			t.Errorf("route %s declared twice", rt.Pattern())
		}
		seen[rt.Pattern()] = true
		switch {
		case rt.Perm == "":
			t.Errorf("route %s declares no permission", rt.Pattern())
		case rt.Perm != identity.Public && rt.Perm != identity.Authenticated && rt.Perm != identity.Portal && !identity.Known(rt.Perm):
			t.Errorf("route %s needs unknown permission %q", rt.Pattern(), rt.Perm)
		}
		if rt.Handler == nil {
			t.Errorf("route %s has no handler", rt.Pattern())
		}
	}
	if len(seen) < 30 {
		t.Fatalf("only %d routes: the table did not load", len(seen))
	}
}

// fill puts real values into a route's path parameters.
func fill(path string, ids map[string]string) string {
	for p, v := range ids {
		path = strings.ReplaceAll(path, "{"+p+"}", v)
	}
	return strings.ReplaceAll(path, "{$}", "")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// signInPage is where a page sends those not signed in: the portal's own
// sign-in for portal pages, the staff one for every other.
func signInPage(rt httpx.Route) string {
	if rt.Portal {
		return "/portal/signin"
	}
	return "/login"
}

func TestRoutesRefuseCallersWithoutPermission(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		tech, techToken := k.User("tech@example.com", "technician")
		techP, err := k.App.Identity.PrincipalFor(t.Context(), tech.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, rt := range k.App.Server.Routes() {
			if rt.Perm == identity.Public {
				continue
			}
			path := fill(rt.Path, map[string]string{"id": itoa(tech.ID), "key": "agent"})
			// Nobody signed in.
			r := k.DoWith(k.Browserless(), testkit.Request{Method: rt.Method, Path: path, Body: "{}"})
			if rt.Kind == httpx.API {
				if r.Status != http.StatusUnauthorized {
					t.Errorf("%s without credentials: %d, want 401", rt.Pattern(), r.Status)
				} else {
					r.Problem(t)
				}
			} else if login := signInPage(rt); r.Status != http.StatusSeeOther || (rt.Method == "GET" && !strings.HasPrefix(r.Header.Get("Location"), login+"?next=")) ||
				(rt.Method != "GET" && r.Header.Get("Location") != login) {
				t.Errorf("%s without a session: %d %s, want 303 to %s (with next only for pages)", rt.Pattern(), r.Status, r.Header.Get("Location"), login)
			}
			// A technician lacks every admin permission.
			if rt.Perm != identity.Authenticated && rt.Kind == httpx.API && !techP.Can(rt.Perm) {
				r := k.Do(testkit.Request{Method: rt.Method, Path: path, Token: techToken, Body: "{}"})
				if r.Status != http.StatusForbidden {
					t.Errorf("%s as technician: %d, want 403", rt.Pattern(), r.Status)
				}
			}
		}
		// A forged token is a 401 even on a public route.
		r := k.Do(testkit.Request{Method: "GET", Path: "/healthz", Token: "clt_forged"})
		if r.Status != http.StatusUnauthorized {
			t.Errorf("forged token on /healthz: %d, want 401", r.Status)
		}
	})
}

func TestGETRoutesChangeNothingForAnyRole(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		admin, _ := k.User("admin@example.com", "admin")
		if _, err := k.App.Identity.CreateTeam(t.Context(), "售后组"); err != nil {
			t.Fatal(err)
		}
		clients := map[string]*http.Client{}
		for _, role := range roles {
			k.User(role+"@crawl.example.com", role)
			clients[role] = k.Login(role+"@crawl.example.com", testkit.Password)
		}
		ids := map[string]string{"id": itoa(admin.ID), "key": "agent", "file...": "app.css"}
		before := k.Snapshot()
		for _, role := range roles {
			for _, rt := range k.App.Server.Routes() {
				if rt.Method != "GET" {
					continue
				}
				path := fill(rt.Path, ids)
				r := k.DoWith(clients[role], testkit.Request{Method: "GET", Path: path})
				if r.Status >= 500 {
					t.Errorf("GET %s as %s: %d %s", path, role, r.Status, r.Body)
				}
				if rt.Perm != identity.Public && rt.Perm != identity.Authenticated && r.Status == http.StatusOK {
					p, _ := k.App.Identity.GetRole(t.Context(), role)
					has := false
					for _, x := range p.Permissions {
						has = has || x == rt.Perm
					}
					if !has {
						t.Errorf("GET %s as %s answered 200 without %s", path, role, rt.Perm)
					}
				}
			}
		}
		if after := k.Snapshot(); after != before {
			t.Fatalf("GET requests changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestCrossOriginWritesWithSessionCookieAreRefused(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		admin, _ := k.User("admin@example.com", "admin")
		c := k.Login("admin@example.com", testkit.Password)
		before := k.Snapshot()
		n := 0
		for _, rt := range k.App.Server.Routes() {
			if rt.Method == "GET" {
				continue
			}
			n++
			path := fill(rt.Path, map[string]string{"id": itoa(admin.ID), "key": "agent"})
			for _, hdr := range []map[string]string{
				{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
				{"Origin": "https://evil.example"},
			} {
				hdr["Content-Type"] = "application/x-www-form-urlencoded"
				r := k.DoWith(c, testkit.Request{Method: rt.Method, Path: path, Body: "name=x&email=x%40evil.example&lang=en", Header: hdr})
				if r.Status != http.StatusForbidden {
					t.Errorf("%s from a foreign origin (%v): %d, want 403", rt.Pattern(), hdr, r.Status)
				}
			}
		}
		if n < 15 {
			t.Fatalf("only %d write routes checked", n)
		}
		if after := k.Snapshot(); after != before {
			t.Fatalf("cross-origin writes changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}
