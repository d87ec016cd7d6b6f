package wecomkf_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/testkit"
)

func TestWeComKFSettingsThroughTheWeComEndpoint(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		good := func() map[string]any {
			return map[string]any{"name": account, "corp_id": corpID, "open_kfids": []string{kfID}, "token": token,
				"encoding_aes_key": aesKey, "secret": secret}
		}
		put := func(tok string, acct map[string]any) *testkit.Response {
			return k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wecom", Token: tok, Body: map[string]any{"robots": []any{},
				"kf": map[string]any{"version": 0, "accounts": []map[string]any{acct}}}})
		}
		for _, tc := range []struct {
			name, field string
			change      func(map[string]any)
		}{
			{"no corp id", "kf.accounts.0.corp_id", func(a map[string]any) { delete(a, "corp_id") }},
			{"bad corp id", "kf.accounts.0.corp_id", func(a map[string]any) { a["corp_id"] = "ww 12;" }},
			{"short AES key", "kf.accounts.0.encoding_aes_key", func(a map[string]any) { a["encoding_aes_key"] = aesKey[:42] }},
			{"long AES key", "kf.accounts.0.encoding_aes_key", func(a map[string]any) { a["encoding_aes_key"] = aesKey + "x" }},
			{"no AES key", "kf.accounts.0.encoding_aes_key", func(a map[string]any) { delete(a, "encoding_aes_key") }},
			{"no token", "kf.accounts.0.token", func(a map[string]any) { delete(a, "token") }},
			{"no secret", "kf.accounts.0.secret", func(a map[string]any) { delete(a, "secret") }},
			{"bad open_kfid", "kf.accounts.0.open_kfids", func(a map[string]any) { a["open_kfids"] = []string{"not-a-kf-id"} }},
			{"bad name", "kf.accounts.0.name", func(a map[string]any) { a["name"] = "Huaqiang Store" }},
			{"api base at loopback", "kf.accounts.0.api_base", func(a map[string]any) { a["api_base"] = "http://127.0.0.1:9/" }},
		} {
			a := good()
			tc.change(a)
			r := put(admin, a)
			if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%s: %d %s", tc.name, r.Status, r.Body)
			}
			named := false
			for _, e := range r.Problem(t).Errors {
				named = named || e.Field == tc.field
			}
			if !named {
				t.Fatalf("%s: the answer does not name %s: %s", tc.name, tc.field, r.Body)
			}
		}
		// Nothing was saved.
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/wecom", Token: admin})
		var v struct {
			KF struct {
				Version  int64            `json:"version"`
				Accounts []map[string]any `json:"accounts"`
			} `json:"kf"`
		}
		r.JSON(t, &v)
		if r.Status != http.StatusOK || v.KF.Version != 0 || len(v.KF.Accounts) != 0 {
			t.Fatalf("after refusals: %d %s", r.Status, r.Body)
		}
		// Settings belong to settings.manage.
		if r := put(agent, good()); r.Status != http.StatusForbidden {
			t.Fatalf("agent: %d", r.Status)
		}
		if r := put(admin, good()); r.Status != http.StatusOK {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/channels/wecom", Token: admin})
		r.JSON(t, &v)
		body := string(r.Body)
		if v.KF.Version != 1 || len(v.KF.Accounts) != 1 || v.KF.Accounts[0]["token_set"] != true || v.KF.Accounts[0]["secret_set"] != true ||
			v.KF.Accounts[0]["encoding_aes_key_set"] != true || v.KF.Accounts[0]["callback_path"] != "/wecom/kf/callback/"+account {
			t.Fatalf("saved: %s", body)
		}
		for _, s := range []string{token, aesKey, secret, "sealed"} {
			if strings.Contains(body, s) {
				t.Fatalf("the answer shows %q: %s", s, body)
			}
		}
		// Absent secrets are kept; a stale version is refused.
		a := good()
		delete(a, "token")
		delete(a, "encoding_aes_key")
		delete(a, "secret")
		r = k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wecom", Token: admin, Body: map[string]any{"robots": []any{},
			"kf": map[string]any{"version": 1, "accounts": []map[string]any{a}}}})
		if r.Status != http.StatusOK {
			t.Fatalf("keep secrets: %d %s", r.Status, r.Body)
		}
		if r := put(admin, good()); r.Status != http.StatusPreconditionFailed && r.Status != http.StatusConflict {
			t.Fatalf("stale: %d %s", r.Status, r.Body)
		}
	})
}
