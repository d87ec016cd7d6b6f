package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/testkit"
)

func TestMailboxesAPIStoresPasswordsSealedAndNeverShowsThem(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		const secret = "Smtp-Secret-密码-123"
		body := map[string]any{"name": "华强售后", "address": "service@huaqiang.cn",
			"smtp":          map[string]any{"host": "smtp.exmail.qq.com", "port": 465, "security": "tls", "username": "service@huaqiang.cn"},
			"imap":          map[string]any{"host": "imap.exmail.qq.com", "port": 993, "security": "tls", "username": "service@huaqiang.cn"},
			"smtp_password": secret, "imap_password": secret}
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/mailboxes", Token: admin, Body: body})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var m email.Mailbox
		r.JSON(t, &m)
		if !m.IsDefault || m.SMTP.Host != "smtp.exmail.qq.com" || strings.Contains(string(r.Body), secret) {
			t.Fatalf("created: %s", r.Body)
		}
		list := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/mailboxes", Token: admin})
		if list.Status != http.StatusOK || strings.Contains(string(list.Body), secret) || !strings.Contains(string(list.Body), "service@huaqiang.cn") {
			t.Fatalf("list: %d %s", list.Status, list.Body)
		}
		var stored string
		if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT smtp_password FROM mailboxes WHERE id = $1`, m.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == "" || strings.Contains(stored, secret) || !strings.HasPrefix(stored, "v1:") {
			t.Fatalf("the password is not sealed at rest: %q", stored)
		}
		if snap := k.Snapshot(); strings.Contains(snap, secret) {
			t.Fatal("the password is somewhere in the database in plain text (the audit trail?)")
		}
		got, err := k.App.Mailboxes.ForSending(context.Background(), 0)
		if err != nil || got.SMTP.Password != secret || got.ID != m.ID {
			t.Fatalf("the sending side does not get the password back: %+v %v", got.SMTP.Username, err)
		}
		bad := map[string]any{"name": "", "address": "not-an-email", "smtp": map[string]any{"host": "smtp.example.cn", "port": 70000, "security": "ssl3"}}
		r = k.Do(testkit.Request{Method: "POST", Path: "/api/v1/mailboxes", Token: admin, Body: bad})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("bad input: %d %s", r.Status, r.Body)
		}
		for _, field := range []string{"name", "address", "smtp.port", "smtp.security"} {
			if !strings.Contains(string(r.Body), `"`+field+`"`) {
				t.Errorf("the problem does not name %s: %s", field, r.Body)
			}
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/mailboxes", Token: admin, Body: body}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "address") {
			t.Fatalf("a second mailbox with the same address: %d %s", r.Status, r.Body)
		}
		for _, req := range []testkit.Request{{Method: "GET", Path: "/api/v1/mailboxes", Token: agent}, {Method: "POST", Path: "/api/v1/mailboxes", Token: agent, Body: body}} {
			if r := k.Do(req); r.Status != http.StatusForbidden {
				t.Fatalf("an agent on %s: %d", req.Method, r.Status)
			}
		}
	})
}

func TestSignatureAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, agent := k.User("agent@example.com", "agent")
		_, other := k.User("other@example.com", "agent")
		if r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/me/signature", Token: agent, Body: map[string]any{"signature": "客服 李娜\n400-800-1234"}}); r.Status != http.StatusOK {
			t.Fatalf("put: %d %s", r.Status, r.Body)
		}
		var s struct{ Signature string }
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me/signature", Token: agent}).JSON(t, &s)
		if s.Signature != "客服 李娜\n400-800-1234" {
			t.Fatalf("got %q", s.Signature)
		}
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me/signature", Token: other}).JSON(t, &s)
		if s.Signature != "" {
			t.Fatalf("another user sees the signature: %q", s.Signature)
		}
		r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/me/signature", Token: agent, Body: map[string]any{"signature": strings.Repeat("长", 1001)}})
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "signature") {
			t.Fatalf("too long: %d %s", r.Status, r.Body)
		}
	})
}

func TestSignatureOnTheAccountPage(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("agent@example.com", "agent")
		c := k.Login("agent@example.com", testkit.Password)
		res, err := c.PostForm(k.URL+"/account/signature", map[string][]string{"signature": {"客服 <李娜>"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", res.StatusCode)
		}
		res, err = c.Get(k.URL + "/account?done=signature_saved")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(b), "客服 &lt;李娜&gt;</textarea>") || !strings.Contains(string(b), "签名已保存") {
			t.Fatalf("the account page:\n%s", b)
		}
		long := strings.Repeat("长", 1001)
		res, err = c.PostForm(k.URL+"/account/signature", map[string][]string{"signature": {long}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), long) || !strings.Contains(string(b), "1000") {
			t.Fatalf("too long: %d", res.StatusCode)
		}
	})
}

func TestMailboxAPIGetAndPatch(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		team, err := k.App.Identity.CreateTeam(ctx, "售后组")
		if err != nil {
			t.Fatal(err)
		}
		r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/mailboxes", Token: admin, Body: map[string]any{"name": "华强售后", "address": "service@huaqiang.cn",
			"smtp":          map[string]any{"host": "smtp.exmail.qq.com", "port": 465, "security": "tls", "username": "service@huaqiang.cn"},
			"imap":          map[string]any{"host": "imap.exmail.qq.com", "port": 993, "security": "tls", "username": "service@huaqiang.cn"},
			"imap_password": "old-secret-旧密码"}})
		var m email.Mailbox
		r.JSON(t, &m)
		path := fmt.Sprintf("/api/v1/mailboxes/%d", m.ID)

		got := k.Do(testkit.Request{Method: "GET", Path: path, Token: admin})
		var g email.Mailbox
		got.JSON(t, &g)
		if got.Status != http.StatusOK || g.Poll == nil || g.Poll.Taken != 0 || g.Poll.LastPolledAt != nil || g.PollInterval != 60 || !g.Active {
			t.Fatalf("get: %d %s", got.Status, got.Body)
		}

		const secret = "new-secret-新密码-42"
		before := k.Snapshot()
		r = k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: map[string]any{"name": "华强售后（总部）", "active": false,
			"imap": map[string]any{"host": "imap.huaqiang.cn", "port": 143, "security": "starttls"}, "folder": "售后",
			"team_id": team.ID, "poll_interval_seconds": 120, "imap_password": secret}})
		var p email.Mailbox
		r.JSON(t, &p)
		if r.Status != http.StatusOK || p.Name != "华强售后（总部）" || p.Active || p.IMAP.Host != "imap.huaqiang.cn" || p.IMAP.Port != 143 ||
			p.IMAP.Security != "starttls" || p.IMAP.Username != "service@huaqiang.cn" || p.Folder != "售后" || p.TeamID == nil || *p.TeamID != team.ID ||
			p.PollInterval != 120 || p.SMTP.Host != "smtp.exmail.qq.com" || strings.Contains(string(r.Body), secret) {
			t.Fatalf("patch: %d %s", r.Status, r.Body)
		}
		var sealed string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT imap_password FROM mailboxes WHERE id = $1`, m.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(sealed, "v1:") || strings.Contains(k.Snapshot(), secret) {
			t.Fatalf("the new password is not sealed (or is somewhere in plain text): %q", sealed)
		}
		var changes string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT changes FROM audit_log WHERE action = 'mailbox.update' AND entity_id = $1`, fmt.Sprint(m.ID)).Scan(&changes); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"华强售后（总部）", "imap.huaqiang.cn", `"imap_password"`, "changed", "poll_interval_seconds"} {
			if !strings.Contains(changes, want) {
				t.Errorf("the audit entry lacks %s: %s", want, changes)
			}
		}
		if before == k.Snapshot() {
			t.Fatal("the patch changed nothing")
		}

		// Clearing the team with null; sending nothing changes nothing.
		r = k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: map[string]any{"team_id": nil}})
		p = email.Mailbox{}
		r.JSON(t, &p)
		if r.Status != http.StatusOK || p.TeamID != nil || p.PollInterval != 120 {
			t.Fatalf("clear team: %d %s", r.Status, r.Body)
		}
		same := k.Snapshot()
		if r := k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: map[string]any{}}); r.Status != http.StatusOK || k.Snapshot() != same {
			t.Fatalf("an empty patch: %d %s", r.Status, r.Body)
		}

		// Bad input: 400 naming the field, nothing changed.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"imap": map[string]any{"port": 70000}}, "imap.port"},
			{map[string]any{"smtp": map[string]any{"security": "ssl3"}}, "smtp.security"},
			{map[string]any{"smtp": map[string]any{"host": ""}}, "smtp.host"},
			{map[string]any{"address": "not an email"}, "address"},
			{map[string]any{"name": "  "}, "name"},
			{map[string]any{"team_id": 99999}, "team_id"},
			{map[string]any{"team_id": "售后组"}, "team_id"},
			{map[string]any{"category_id": 99999}, "category_id"},
			{map[string]any{"poll_interval_seconds": 5}, "poll_interval_seconds"},
			{map[string]any{"is_default": false}, "is_default"},
			{map[string]any{"active": "yes"}, "active"},
			{map[string]any{"password": "x"}, "password"},
		} {
			r := k.Do(testkit.Request{Method: "PATCH", Path: path, Token: admin, Body: c.body})
			if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"`+c.field+`"`) {
				t.Errorf("%v: %d %s", c.body, r.Status, r.Body)
			}
		}
		if k.Snapshot() != same {
			t.Fatal("a refused patch changed something")
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/mailboxes/99999", Token: admin}); r.Status != http.StatusNotFound {
			t.Fatalf("unknown mailbox: %d", r.Status)
		}
		if r := k.Do(testkit.Request{Method: "PATCH", Path: "/api/v1/mailboxes/99999", Token: admin, Body: map[string]any{"name": "x"}}); r.Status != http.StatusNotFound {
			t.Fatalf("patch unknown mailbox: %d", r.Status)
		}
		for _, req := range []testkit.Request{{Method: "GET", Path: path, Token: agent}, {Method: "PATCH", Path: path, Token: agent, Body: map[string]any{"name": "x"}}} {
			if r := k.Do(req); r.Status != http.StatusForbidden {
				t.Fatalf("an agent on %s: %d", req.Method, r.Status)
			}
		}
	})
}

func TestMailboxesPageAddsAMailboxAndNeverShowsItsPasswords(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		k.User("agent@example.com", "agent")
		c := k.Login("admin@example.com", testkit.Password)
		get := func(path string) (int, string) {
			t.Helper()
			res, err := c.Get(k.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return res.StatusCode, string(b)
		}
		if st, b := get("/admin/mailboxes"); st != http.StatusOK || !strings.Contains(b, "还没有邮箱") || !strings.Contains(b, `id="new-mailbox" open`) {
			t.Fatalf("empty page: %d\n%s", st, b)
		}
		form := map[string][]string{
			"name": {"售后服务"}, "address": {"service@example.cn"},
			"smtp.host": {"smtp.exmail.qq.com"}, "smtp.port": {"四六五"}, "smtp.security": {"tls"}, "smtp.username": {"service@example.cn"},
			"smtp_password": {"s3cret-smtp"}, "imap.host": {""}, "imap.port": {"993"}, "imap.security": {"tls"}, "folder": {"INBOX"},
		}
		res, err := c.PostForm(k.URL+"/admin/mailboxes", form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "应为 1 到 65535 之间的端口号") || !strings.Contains(string(b), `value="售后服务"`) {
			t.Fatalf("a port in words: %d\n%s", res.StatusCode, b)
		}
		if strings.Contains(string(b), "s3cret-smtp") {
			t.Fatal("the page echoed the password back")
		}
		if list, _ := k.App.Mailboxes.List(context.Background()); len(list) != 0 {
			t.Fatalf("a refused form saved %d mailboxes", len(list))
		}
		form["smtp.port"] = []string{"465"}
		res, err = c.PostForm(k.URL+"/admin/mailboxes", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/mailboxes?done=mailbox_created" {
			t.Fatalf("create: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		st, page := get("/admin/mailboxes?done=mailbox_created")
		for _, want := range []string{"邮箱已添加", "售后服务", "service@example.cn", "smtp.exmail.qq.com:465", "默认发件", "只发信，不收信"} {
			if st != http.StatusOK || !strings.Contains(page, want) {
				t.Fatalf("the list lacks %q: %d\n%s", want, st, page)
			}
		}
		if strings.Contains(page, "s3cret-smtp") || strings.Contains(page, `id="new-mailbox" open`) {
			t.Fatalf("after adding: a password shown or the form still open\n%s", page)
		}
		m, err := k.App.Mailboxes.ForSending(context.Background(), 0)
		if err != nil || m.SMTP.Password != "s3cret-smtp" || m.IMAP.Host != "" {
			t.Fatalf("stored: %+v %v", m, err)
		}
		edit := fmt.Sprintf("/admin/mailboxes/%d", m.ID)
		if st, b := get(edit); st != http.StatusOK || !strings.Contains(b, `value="smtp.exmail.qq.com"`) || strings.Contains(b, "s3cret-smtp") || !strings.Contains(b, "这是默认发件邮箱") {
			t.Fatalf("the mailbox's page: %d\n%s", st, b)
		}
		form["name"] = []string{"售后服务部"}
		form["imap.host"], form["imap_password"], form["smtp_password"] = []string{"imap.exmail.qq.com"}, []string{"s3cret-imap"}, []string{""}
		form["active"], form["poll_interval_seconds"] = []string{"on"}, []string{"1"}
		res, err = c.PostForm(k.URL+edit, form)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `value="售后服务部"`) || strings.Contains(string(b), "s3cret-imap") {
			t.Fatalf("a one-second interval: %d\n%s", res.StatusCode, b)
		}
		if got, _ := k.App.Mailboxes.Get(context.Background(), m.ID); got.Name != "售后服务" || got.IMAP.Host != "" {
			t.Fatalf("a refused edit changed the mailbox: %+v", got)
		}
		form["poll_interval_seconds"] = []string{"120"}
		res, err = c.PostForm(k.URL+edit, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d", res.StatusCode)
		}
		m, err = k.App.Mailboxes.ForSending(context.Background(), m.ID)
		if err != nil || m.Name != "售后服务部" || m.IMAP.Host != "imap.exmail.qq.com" || m.IMAP.Password != "s3cret-imap" || m.SMTP.Password != "s3cret-smtp" || m.PollInterval != 120 {
			t.Fatalf("after the edit (an empty SMTP password keeps the stored one): %+v %v", m, err)
		}
		if st, b := get(edit + "?done=mailbox_saved"); st != http.StatusOK || !strings.Contains(b, "邮箱设置已保存") || !strings.Contains(b, "尚未收信") {
			t.Fatalf("after saving: %d\n%s", st, b)
		}
		if st, _ := get("/admin/mailboxes/999999"); st != http.StatusNotFound {
			t.Fatalf("an unknown mailbox: %d", st)
		}
		agent := k.Login("agent@example.com", testkit.Password)
		for _, path := range []string{"/admin/mailboxes", edit} {
			for _, method := range []string{"GET", "POST"} {
				var res *http.Response
				if method == "GET" {
					res, err = agent.Get(k.URL + path)
				} else {
					res, err = agent.PostForm(k.URL+path, form)
				}
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusForbidden {
					t.Fatalf("an agent %s %s: %d", method, path, res.StatusCode)
				}
			}
		}
	})
}
