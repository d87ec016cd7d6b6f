package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

func TestBadInputGets4xxAndChangesNothing(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		admin, token := k.User("admin@example.com", "admin")
		team, err := k.App.Identity.CreateTeam(t.Context(), "客服组")
		if err != nil {
			t.Fatal(err)
		}
		endpoints := []struct{ method, path string }{
			{"POST", "/api/v1/users"},
			{"PATCH", fmt.Sprintf("/api/v1/users/%d", admin.ID)},
			{"POST", fmt.Sprintf("/api/v1/users/%d/password", admin.ID)},
			{"PATCH", "/api/v1/roles/agent"},
			{"POST", "/api/v1/teams"},
			{"PATCH", fmt.Sprintf("/api/v1/teams/%d", team.ID)},
			{"POST", "/api/v1/tokens"},
		}
		huge := bytes.Repeat([]byte("a"), 10<<20)
		bodies := []struct {
			name   string
			body   any
			ctype  string
			status int
		}{
			{"malformed JSON", `{"name": "x",`, "application/json", 400},
			{"not an object", `["x"]`, "application/json", 400},
			{"wrong types", `{"name": 42, "email": true, "roles": "admin", "active": "yes", "permissions": 7, "password": 1}`, "application/json", 400},
			{"unknown field", `{"nickname": "x"}`, "application/json", 400},
			{"null body", `null`, "application/json", 400},
			{"duplicate key", `{"name": "a", "name": "b"}`, "application/json", 400},
			{"nested duplicate key", `{"roles": [], "x": [{"a": 1}, {"a": 1, "a": 2}]}`, "application/json", 400},
			{"trailing data", `{} {}`, "application/json", 400},
			{"empty body", ``, "application/json", 400},
			{"10 MB body", append(append([]byte(`{"name":"`), huge...), '"', '}'), "application/json", 413},
			{"invalid UTF-8", []byte("{\"name\": \"\xff\xfe\"}"), "application/json", 400},
			{"wrong content type", `name=x`, "application/x-www-form-urlencoded", 415},
			{"no content type", `{"name":"x"}`, "", 415},
		}
		before := k.Snapshot()
		for _, ep := range endpoints {
			for _, b := range bodies {
				r := k.Do(testkit.Request{Method: ep.method, Path: ep.path, Token: token, Body: b.body, Header: map[string]string{"Content-Type": b.ctype}})
				if r.Status != b.status {
					t.Errorf("%s %s with %s: %d, want %d (%s)", ep.method, ep.path, b.name, r.Status, b.status, truncate(r.Body))
					continue
				}
				p := r.Problem(t)
				if p.Detail == "" && len(p.Errors) == 0 {
					t.Errorf("%s %s with %s: the problem says nothing: %s", ep.method, ep.path, b.name, r.Body)
				}
				if want := map[string]string{"duplicate key": "name", "nested duplicate key": "x[1].a"}[b.name]; want != "" &&
					(len(p.Errors) != 1 || p.Errors[0].Field != want || p.Errors[0].Message != k.App.Catalog.T("zh-CN", "validation.duplicate_key", nil)) {
					t.Errorf("%s %s with %s: want %s named: %s", ep.method, ep.path, b.name, want, r.Body)
				}
				if b.name == "null body" && p.Detail != k.App.Catalog.T("zh-CN", "error.json_null", nil) {
					t.Errorf("%s %s with null: %s", ep.method, ep.path, r.Body)
				}
				if b.name == "unknown field" && (len(p.Errors) != 1 || p.Errors[0].Field != "nickname") {
					t.Errorf("%s %s: unknown field not named: %s", ep.method, ep.path, r.Body)
				}
			}
		}
		// Bad values in well-formed bodies.
		for _, c := range []struct {
			method, path, body, field string
		}{
			{"POST", "/api/v1/users", `{"email":"a@example.com","name":"` + strings.Repeat("名", 101) + `","roles":["agent"]}`, "name"},
			{"POST", "/api/v1/users", `{"email":"a@example.com","name":"A","roles":["agent"],"password":"short"}`, "password"},
			{"POST", "/api/v1/users", `{"email":"a@example.com","name":"A","roles":["agent"],"team_ids":[999]}`, "team_ids"},
			{"POST", "/api/v1/users", `{"email":"a@example.com","name":"A","roles":["agent"],"locale":"fr"}`, "locale"},
			{"POST", "/api/v1/users", `{"email":"admin@example.com","name":"A","roles":["agent"]}`, "email"},
			{"PATCH", "/api/v1/roles/agent", `{"permissions":["launch.missiles"]}`, "permissions"},
			{"PATCH", "/api/v1/roles/admin", `{"permissions":[]}`, "permissions"},
			{"POST", "/api/v1/teams", `{"name":"   "}`, "name"},
			{"POST", "/api/v1/teams", `{"name":"客服组"}`, "name"},
			{"POST", "/api/v1/tokens", `{"name":""}`, "name"},
		} {
			r := k.Do(testkit.Request{Method: c.method, Path: c.path, Token: token, Body: c.body})
			if r.Status != http.StatusBadRequest {
				t.Errorf("%s %s %s: %d, want 400", c.method, c.path, c.body, r.Status)
				continue
			}
			p := r.Problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != c.field || p.Errors[0].Message == "" {
				t.Errorf("%s %s %s: errors %+v, want field %s", c.method, c.path, c.body, p.Errors, c.field)
			}
		}
		if r := k.Do(testkit.Request{Method: "PATCH", Path: "/api/v1/roles/nope", Token: token, Body: `{}`}); r.Status != http.StatusNotFound {
			t.Errorf("unknown role: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?from=yesterday&actor_id=-1&limit=lots", Token: token}); r.Status != http.StatusBadRequest {
			t.Errorf("bad audit filter: %d", r.Status)
		} else {
			// One answer names each bad parameter, the limit too.
			var fields []string
			for _, e := range r.Problem(t).Errors {
				fields = append(fields, e.Field)
			}
			if strings.Join(fields, " ") != "actor_id from limit" {
				t.Errorf("bad audit filter names %q", fields)
			}
		}
		if after := k.Snapshot(); after != before {
			t.Fatalf("bad input changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

// TestEveryWronglyTypedFieldIsNamed: a body with several wrongly typed
// fields, top-level and nested, gets one field error for each, in both
// languages.
func TestEveryWronglyTypedFieldIsNamed(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		admin, token := k.User("admin@example.com", "admin")
		for _, c := range []struct {
			path, body string
			fields     []string
		}{
			{"/api/v1/users", `{"name": 42, "email": true, "roles": "admin", "password": 1}`, []string{"name", "email", "roles", "password"}},
			{"/api/v1/customers", `{"name": 1, "phones": [1, "13912345678", false], "tier": [], "contacts": [{"name": "王", "phone": 3}, {"name": 2}]}`,
				[]string{"name", "phones[0]", "phones[2]", "tier", "contacts[0].phone", "contacts[1].name"}},
		} {
			for _, lang := range []string{"zh-CN", "en"} {
				if r := k.Do(testkit.Request{Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", admin.ID), Token: token,
					Body: map[string]any{"locale": lang}}); r.Status != http.StatusOK {
					t.Fatalf("set locale: %d %s", r.Status, r.Body)
				}
				before := k.Snapshot()
				r := k.Do(testkit.Request{Method: "POST", Path: c.path, Token: token, Body: c.body})
				if r.Status != http.StatusBadRequest {
					t.Fatalf("%s %s: %d, want 400", c.path, c.body, r.Status)
				}
				p := r.Problem(t)
				var got []string
				for _, e := range p.Errors {
					got = append(got, e.Field)
					if !strings.HasPrefix(e.Message, strings.SplitN(k.App.Catalog.T(lang, "validation.type", map[string]any{"Type": "x"}), "x", 2)[0]) {
						t.Errorf("%s (%s): %s: %q is not the type message", c.path, lang, e.Field, e.Message)
					}
				}
				if strings.Join(got, " ") != strings.Join(c.fields, " ") {
					t.Errorf("%s (%s): fields %q, want %q", c.path, lang, got, c.fields)
				}
				if after := k.Snapshot(); after != before {
					t.Fatalf("bad input changed the database")
				}
			}
		}
	})
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

func TestNULAndInvalidUTF8AreRefusedEverywhere(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, token := k.User("admin@example.com", "admin")
		before := k.Snapshot()
		for _, path := range []string{"/api/v1/roles/%FF", "/api/v1/roles/%00", "/api/v1/audit?entity=%FF", "/api/v1/audit?actor=%00", "/admin/audit?action=%FF"} {
			if r := k.Do(testkit.Request{Method: "GET", Path: path, Token: token}); r.Status != http.StatusBadRequest {
				t.Errorf("GET %s: %d, want 400", path, r.Status)
			}
		}
		for _, body := range []string{`{"name":"a\u0000b"}`, `{"name":"ok","email":"x\u0000@example.com","roles":["agent"]}`} {
			for _, path := range []string{"/api/v1/teams", "/api/v1/users", "/api/v1/tokens"} {
				if r := k.Do(testkit.Request{Method: "POST", Path: path, Token: token, Body: body}); r.Status != http.StatusBadRequest {
					t.Errorf("POST %s %s: %d, want 400", path, body, r.Status)
				}
			}
		}
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/teams", Token: token, Body: `{"name":"x"}`, Header: map[string]string{"Idempotency-Key": "\xff\xfe"}})
		if r.Status != http.StatusBadRequest {
			t.Errorf("binary Idempotency-Key: %d", r.Status)
		}
		r = k.DoWith(k.Browserless(), testkit.Request{Method: "POST", Path: "/login", Body: "email=a%00%40x.cn&password=x",
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
		if r.Status != http.StatusBadRequest {
			t.Errorf("login with NUL: %d", r.Status)
		}
		if after := k.Snapshot(); after != before {
			t.Fatalf("refused input changed the database")
		}
	})
}

func TestIdempotencyKeepsNoSecretsAndChecksTheBody(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, token := k.User("admin@example.com", "admin")
		send := func(key, body string) *testkit.Response {
			return k.Do(testkit.Request{Method: "POST", Path: "/api/v1/tokens", Token: token, Body: body, Header: map[string]string{"Idempotency-Key": key}})
		}
		first := send("tok-1", `{"name":"ERP"}`)
		if first.Status != http.StatusCreated || !strings.Contains(string(first.Body), `"token":"clt_`) {
			t.Fatalf("first: %d %s", first.Status, first.Body)
		}
		var stored string
		if err := k.App.DB.R.QueryRow(`SELECT body FROM idempotency_keys WHERE key = 'tok-1'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, "clt_") {
			t.Fatalf("the token secret was stored for replay: %s", stored)
		}
		replay := send("tok-1", `{"name":"ERP"}`)
		if replay.Status != http.StatusConflict || replay.Header.Get("Location") != first.Header.Get("Location") || strings.Contains(string(replay.Body), "clt_") {
			t.Fatalf("replay: %d %s %s", replay.Status, replay.Header.Get("Location"), replay.Body)
		}
		if r := send("tok-1", `{"name":"Shop"}`); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("same key, other body: %d", r.Status)
		}
		list, _ := k.App.Identity.ListTokens(t.Context(), 1)
		if n := len(list); n != 2 { // the kit's own token and ERP
			t.Fatalf("%d tokens, want 2", n)
		}
	})
}
