package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

// tokenList is a page of GET /api/v1/users/{id}/tokens.
type tokenList struct {
	Items []struct {
		ID        int64   `json:"id"`
		Name      string  `json:"name"`
		RevokedAt *string `json:"revoked_at"`
	} `json:"items"`
}

func me(k *testkit.Kit, token string) int {
	k.T.Helper()
	return k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me", Token: token}).Status
}

func TestReactivationDoesNotReviveTokens(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		u, token := k.User("leaver@example.com", "agent")
		path := fmt.Sprintf("/api/v1/users/%d", u.ID)
		if r := k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: map[string]any{"active": false}}); r.Status != http.StatusOK {
			t.Fatalf("deactivate: %d %s", r.Status, r.Body)
		}
		// Back, renamed, with other roles: still no old token works.
		body := map[string]any{"active": true, "name": "回来了", "roles": []string{"quality"}}
		if r := k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: body}); r.Status != http.StatusOK {
			t.Fatalf("re-activate: %d %s", r.Status, r.Body)
		}
		if s := me(k, token); s != http.StatusUnauthorized {
			t.Fatalf("old token after re-activation: %d", s)
		}
		var list tokenList
		k.Do(testkit.Request{Method: "GET", Path: path + "/tokens", Token: admin}).JSON(t, &list)
		if len(list.Items) != 1 || list.Items[0].RevokedAt == nil {
			t.Fatalf("tokens = %+v", list.Items)
		}
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=user.deactivate", Token: admin})
		if !strings.Contains(string(r.Body), `"tokens_revoked"`) {
			t.Fatalf("the deactivation's audit entry does not count the tokens: %s", r.Body)
		}
	})
}

func TestAdminsListAndRevokeAnotherUsersTokens(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		u, token := k.User("agent@example.com", "agent")
		other, otherToken := k.User("other@example.com", "agent")
		path := fmt.Sprintf("/api/v1/users/%d/tokens", u.ID)
		// Agents may not.
		if r := k.Do(testkit.Request{Method: "GET", Path: path, Token: otherToken}); r.Status != http.StatusForbidden {
			t.Fatalf("agent listing tokens: %d", r.Status)
		}
		var list tokenList
		r := k.Do(testkit.Request{Method: "GET", Path: path, Token: admin})
		r.JSON(t, &list)
		if r.Status != http.StatusOK || len(list.Items) != 1 || list.Items[0].Name != "test" || strings.Contains(string(r.Body), token) {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/users/99999/tokens", Token: admin}); r.Status != http.StatusNotFound {
			t.Fatalf("tokens of nobody: %d", r.Status)
		}
		id := list.Items[0].ID
		// A token id under the wrong user is not found, and revokes nothing.
		if r := k.Do(testkit.Request{Method: "DELETE", Path: fmt.Sprintf("/api/v1/users/%d/tokens/%d", other.ID, id), Token: admin}); r.Status != http.StatusNotFound {
			t.Fatalf("revoke under the wrong user: %d", r.Status)
		}
		if s := me(k, token); s != http.StatusOK {
			t.Fatalf("token before revocation: %d", s)
		}
		if r := k.Do(testkit.Request{Method: "DELETE", Path: fmt.Sprintf("%s/%d", path, id), Token: admin}); r.Status != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		if s := me(k, token); s != http.StatusUnauthorized {
			t.Fatalf("token after an admin revoked it: %d", s)
		}
		if s := me(k, otherToken); s != http.StatusOK {
			t.Fatalf("someone else's token: %d", s)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=token.revoke", Token: admin})
		if !strings.Contains(string(r.Body), `"admin@example.com"`) || !strings.Contains(string(r.Body), fmt.Sprintf(`"entity_id":"%d"`, id)) {
			t.Fatalf("audit: %s", r.Body)
		}
	})
}

func TestPasswordResetSaysWhetherItEndsTokens(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		u, token := k.User("agent@example.com", "agent")
		reset := func(body map[string]any) int64 {
			t.Helper()
			r := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/users/%d/password", u.ID), Token: admin, Body: body})
			var out struct {
				Password      string `json:"password"`
				TokensRevoked int64  `json:"tokens_revoked"`
			}
			r.JSON(t, &out)
			if r.Status != http.StatusOK || out.Password == "" {
				t.Fatalf("reset: %d %s", r.Status, r.Body)
			}
			return out.TokensRevoked
		}
		c := k.Login("agent@example.com", testkit.Password)
		// Asked to keep them: sessions end, tokens stay.
		if n := reset(map[string]any{"revoke_tokens": false}); n != 0 {
			t.Fatalf("kept tokens, yet %d revoked", n)
		}
		if r := k.DoWith(c, testkit.Request{Method: "GET", Path: "/api/v1/me"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("session after a reset: %d", r.Status)
		}
		if s := me(k, token); s != http.StatusOK {
			t.Fatalf("kept token after a reset: %d", s)
		}
		// By default, tokens end too.
		if n := reset(map[string]any{}); n != 1 {
			t.Fatalf("default reset revoked %d tokens, want 1", n)
		}
		if s := me(k, token); s != http.StatusUnauthorized {
			t.Fatalf("token after a default reset: %d", s)
		}
	})
}

func TestUserPageListsAndRevokesTokens(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		u, token := k.User("agent@example.com", "agent")
		if _, _, err := k.App.Identity.CreateToken(t.Context(), u.ID, "ERP 对接"); err != nil {
			t.Fatal(err)
		}
		c := k.Login("admin@example.com", testkit.Password)
		page := "/admin/users/" + itoa(u.ID)
		body := string(k.DoWith(c, testkit.Request{Method: "GET", Path: page}).Body)
		for _, want := range []string{`<table class="list">`, `class="primary"`, "ERP 对接", `name="revoke_tokens" checked`, "API 令牌"} {
			if !strings.Contains(body, want) {
				t.Fatalf("user page lacks %q", want)
			}
		}
		tokens, _ := k.App.Identity.ListTokens(t.Context(), u.ID)
		var testID int64
		for _, x := range tokens {
			if x.Name == "test" {
				testID = x.ID
			}
		}
		r := post(t, k, c, fmt.Sprintf("%s/tokens/%d/revoke", page, testID), url.Values{})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != page+"?done=token_revoked" {
			t.Fatalf("revoke from the page: %d %s", r.Status, r.Header.Get("Location"))
		}
		if s := me(k, token); s != http.StatusUnauthorized {
			t.Fatalf("token revoked from the page: %d", s)
		}
		// A reset with the box unticked keeps the other token.
		r = post(t, k, c, page+"/password", url.Values{})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "密码已重置") {
			t.Fatalf("reset from the page: %d", r.Status)
		}
		if tokens, _ = k.App.Identity.ListTokens(t.Context(), u.ID); tokens[0].RevokedAt != nil {
			t.Fatal("an unticked reset revoked a token")
		}
		r = post(t, k, c, page+"/password", url.Values{"revoke_tokens": {"on"}})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "API 令牌已吊销") {
			t.Fatalf("reset revoking tokens from the page: %d", r.Status)
		}
		if tokens, _ = k.App.Identity.ListTokens(t.Context(), u.ID); tokens[0].RevokedAt == nil {
			t.Fatal("a ticked reset kept a token")
		}
	})
}

func TestRoleEditsReachCachedPrincipalsOnTheNextRequest(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, token := k.User("agent@example.com", "agent")
		c := k.Login("agent@example.com", testkit.Password)
		get := func() (int, int) {
			return k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers", Token: token}).Status,
				k.DoWith(c, testkit.Request{Method: "GET", Path: "/api/v1/customers"}).Status
		}
		for range 2 {
			if a, b := get(); a != http.StatusOK || b != http.StatusOK {
				t.Fatalf("before: %d %d", a, b)
			}
		}
		r := k.Do(testkit.Request{Method: "PATCH", Path: "/api/v1/roles/agent", Token: admin,
			Body: map[string]any{"permissions": []string{"tickets.view"}}})
		if r.Status != http.StatusOK {
			t.Fatalf("edit role: %d %s", r.Status, r.Body)
		}
		if a, b := get(); a != http.StatusForbidden || b != http.StatusForbidden {
			t.Fatalf("after the role lost customers.view: token %d, session %d", a, b)
		}
	})
}
