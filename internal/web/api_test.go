package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

func TestMeAndBearerTokens(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		u, token := k.User("li.na@example.com", "agent", "quality")
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me", Token: token})
		if r.Status != http.StatusOK {
			t.Fatalf("me: %d %s", r.Status, r.Body)
		}
		var me struct {
			ID          int64    `json:"id"`
			Email       string   `json:"email"`
			Name        string   `json:"name"`
			Roles       []string `json:"roles"`
			Permissions []string `json:"permissions"`
		}
		r.JSON(t, &me)
		if me.ID != u.ID || me.Email != "li.na@example.com" || strings.Join(me.Roles, ",") != "agent,quality" {
			t.Fatalf("me = %+v", me)
		}
		perms := strings.Join(me.Permissions, ",")
		if !strings.Contains(perms, "quality.edit") || !strings.Contains(perms, "tickets.edit") || strings.Contains(perms, "users.manage") {
			t.Fatalf("permissions = %s", perms)
		}
		// The session cookie works too.
		c := k.Login("li.na@example.com", testkit.Password)
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/api/v1/me"}); r.Status != http.StatusOK {
			t.Fatalf("me with cookie: %d", r.Status)
		}
	})
}

func TestDeactivationStopsTokensAndSessionsAtOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		u, token := k.User("leaver@example.com", "agent")
		c := k.Login("leaver@example.com", testkit.Password)
		r := k.Do(testkit.Request{Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", u.ID), Token: admin, Body: map[string]any{"active": false}})
		if r.Status != http.StatusOK {
			t.Fatalf("deactivate: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me", Token: token}); r.Status != http.StatusUnauthorized {
			t.Fatalf("token after deactivation: %d", r.Status)
		}
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/api/v1/me"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("session after deactivation: %d", r.Status)
		}
		// The audit log says who did it.
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=user.deactivate", Token: admin})
		var page struct {
			Items []struct {
				Actor    string `json:"actor"`
				EntityID string `json:"entity_id"`
			} `json:"items"`
		}
		r.JSON(t, &page)
		if len(page.Items) != 1 || page.Items[0].Actor != "admin@example.com" || page.Items[0].EntityID != fmt.Sprint(u.ID) {
			t.Fatalf("audit = %+v", page.Items)
		}
		// Nobody deactivates themselves.
		me := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me", Token: admin})
		var m struct{ ID int64 }
		me.JSON(t, &m)
		r = k.Do(testkit.Request{Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", m.ID), Token: admin, Body: map[string]any{"active": false}})
		if r.Status != http.StatusBadRequest || r.Problem(t).Errors[0].Field != "active" {
			t.Fatalf("self-deactivation: %d %s", r.Status, r.Body)
		}
	})
}

func TestValidationProblemsSpeakTheCallersLanguage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		body := map[string]any{"email": "not-an-email", "name": "", "roles": []string{"wizard"}}
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/users", Token: admin, Body: body})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("status %d", r.Status)
		}
		p := r.Problem(t)
		if p.Status != 400 || p.Title != "请求有误" || p.RequestID == "" {
			t.Fatalf("problem = %+v", p)
		}
		fields := map[string]string{}
		for _, e := range p.Errors {
			fields[e.Field] = e.Message
		}
		if fields["email"] != "不是有效的邮箱地址。" || fields["name"] != "必填。" {
			t.Fatalf("zh-CN field errors = %v", fields)
		}
		// The user's remembered language decides; English here.
		en := "en"
		me := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me", Token: admin})
		var m struct{ ID int64 }
		me.JSON(t, &m)
		if r := k.Do(testkit.Request{Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", m.ID), Token: admin, Body: map[string]any{"locale": en}}); r.Status != 200 {
			t.Fatalf("set locale: %d %s", r.Status, r.Body)
		}
		p = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/users", Token: admin, Body: body}).Problem(t)
		fields = map[string]string{}
		for _, e := range p.Errors {
			fields[e.Field] = e.Message
		}
		if p.Title != "Bad request" || fields["email"] != "Not a valid email address." || !strings.Contains(fields["roles"], "wizard") {
			t.Fatalf("en problem = %+v", p)
		}
	})
}

func TestVersionsETagsAndStaleWrites(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/teams", Token: admin, Body: map[string]any{"name": "技术支持组"}})
		if r.Status != http.StatusCreated || r.Header.Get("Location") == "" {
			t.Fatalf("create team: %d %v", r.Status, r.Header)
		}
		loc := r.Header.Get("Location")
		get := k.Do(testkit.Request{Method: "GET", Path: loc, Token: admin})
		etag := get.Header.Get("ETag")
		if etag != `"v1"` {
			t.Fatalf("ETag = %q", etag)
		}
		ok := k.Do(testkit.Request{Method: "PATCH", Path: loc, Token: admin, Body: map[string]any{"name": "技术支持一组"}, Header: map[string]string{"If-Match": etag}})
		if ok.Status != http.StatusOK || ok.Header.Get("ETag") != `"v2"` {
			t.Fatalf("patch with fresh If-Match: %d %s", ok.Status, ok.Header.Get("ETag"))
		}
		stale := k.Do(testkit.Request{Method: "PATCH", Path: loc, Token: admin, Body: map[string]any{"name": "别的名字"}, Header: map[string]string{"If-Match": etag}})
		if stale.Status != http.StatusPreconditionFailed {
			t.Fatalf("stale If-Match: %d", stale.Status)
		}
		stale.Problem(t)
		final := k.Do(testkit.Request{Method: "GET", Path: loc, Token: admin})
		if !strings.Contains(string(final.Body), "技术支持一组") {
			t.Fatalf("a stale write changed the team: %s", final.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/teams/999999", Token: admin}); r.Status != http.StatusNotFound {
			t.Fatalf("unknown team: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/teams/abc", Token: admin}); r.Status != http.StatusNotFound {
			t.Fatalf("malformed id: %d", r.Status)
		}
	})
}

func TestListsPageWithCursor(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		for i := 0; i < 7; i++ {
			k.User(fmt.Sprintf("u%d@example.com", i), "agent")
		}
		seen := map[float64]bool{}
		path := "/api/v1/users?limit=3"
		for pages := 0; pages < 10; pages++ {
			r := k.Do(testkit.Request{Method: "GET", Path: path, Token: admin})
			var page struct {
				Items      []map[string]any `json:"items"`
				NextCursor string           `json:"next_cursor"`
			}
			r.JSON(t, &page)
			for _, u := range page.Items {
				id := u["id"].(float64)
				if seen[id] {
					t.Fatalf("user %v on two pages", id)
				}
				seen[id] = true
			}
			if page.NextCursor == "" {
				break
			}
			path = "/api/v1/users?limit=3&cursor=" + page.NextCursor
		}
		if len(seen) != 8 {
			t.Fatalf("paged %d users, want 8", len(seen))
		}
		for _, q := range []string{"limit=0", "limit=201", "limit=x", "cursor=!!!", "cursor=bm90LWEtY3Vyc29y"} {
			r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/users?" + q, Token: admin})
			if r.Status != http.StatusBadRequest {
				t.Errorf("?%s: %d, want 400", q, r.Status)
			}
		}
	})
}

func TestIdempotencyKeyCreatesOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		send := func(key, name string) *testkit.Response {
			return k.Do(testkit.Request{Method: "POST", Path: "/api/v1/teams", Token: admin, Body: map[string]any{"name": name},
				Header: map[string]string{"Idempotency-Key": key}})
		}
		first := send("retry-1", "华东维修组")
		if first.Status != http.StatusCreated {
			t.Fatalf("first: %d %s", first.Status, first.Body)
		}
		// Concurrent retries all get the first answer.
		var wg sync.WaitGroup
		answers := make([]*testkit.Response, 8)
		for i := range answers {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				answers[i] = send("retry-1", "华东维修组")
			}(i)
		}
		wg.Wait()
		for _, a := range answers {
			if a.Status != http.StatusCreated || string(a.Body) != string(first.Body) || a.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("retry answered %d %s (replayed=%q), want the first answer %s", a.Status, a.Body, a.Header.Get("Idempotent-Replayed"), first.Body)
			}
		}
		teams, _ := k.App.Identity.ListTeams(t.Context())
		if len(teams) != 1 {
			t.Fatalf("%d teams, want 1", len(teams))
		}
		// The same key for another path is refused.
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/tokens", Token: admin, Body: map[string]any{"name": "x"},
			Header: map[string]string{"Idempotency-Key": "retry-1"}})
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("reused key: %d", r.Status)
		}
		// A failed request does not burn its key.
		if r := send("retry-2", ""); r.Status != http.StatusBadRequest {
			t.Fatalf("invalid: %d", r.Status)
		}
		if r := send("retry-2", "西南维修组"); r.Status != http.StatusCreated {
			t.Fatalf("corrected retry: %d %s", r.Status, r.Body)
		}
	})
}

func TestHealthReadyMetricsAndOpenAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		if r := k.Do(testkit.Request{Method: "GET", Path: "/healthz"}); r.Status != 200 {
			t.Fatalf("healthz %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/readyz"}); r.Status != 200 {
			t.Fatalf("readyz %d %s", r.Status, r.Body)
		}
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me"})
		m := k.Do(testkit.Request{Method: "GET", Path: "/metrics"})
		for _, want := range []string{`careloop_http_request_duration_seconds_bucket{code="401",route="GET /api/v1/me"`, "go_sql_open_connections", "process_resident_memory_bytes"} {
			if !strings.Contains(string(m.Body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		var doc struct {
			OpenAPI string                               `json:"openapi"`
			Paths   map[string]map[string]map[string]any `json:"paths"`
		}
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/openapi.json"}).JSON(t, &doc)
		want := map[string]bool{}
		for _, rt := range k.App.Server.Routes() {
			if !strings.HasPrefix(rt.Path, "/api/v1/") {
				continue
			}
			key := strings.ToLower(rt.Method) + " " + rt.Path
			want[key] = true
			op, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
			if !ok {
				t.Errorf("OpenAPI lacks %s", key)
				continue
			}
			if s, _ := op["summary"].(string); s == "" {
				t.Errorf("%s has no summary", key)
			}
		}
		for path, ops := range doc.Paths {
			for method := range ops {
				if !want[method+" "+path] {
					t.Errorf("OpenAPI documents %s %s, which is no route", method, path)
				}
			}
		}
		if doc.OpenAPI != "3.1.0" || len(want) < 15 {
			t.Fatalf("openapi %q with %d operations", doc.OpenAPI, len(want))
		}
	})
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, token := k.User("admin@example.com", "admin")
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/me", Token: token, Body: "{}"})
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET" {
			t.Fatalf("POST /api/v1/me: %d Allow=%q", r.Status, r.Header.Get("Allow"))
		}
		r.Problem(t)
		if r := k.Do(testkit.Request{Method: "DELETE", Path: "/api/v1/users/1", Token: token}); r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, PATCH" {
			t.Fatalf("DELETE user: %d Allow=%q", r.Status, r.Header.Get("Allow"))
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/nothing", Token: token}); r.Status != http.StatusNotFound {
			t.Fatalf("unknown path: %d", r.Status)
		}
	})
}
