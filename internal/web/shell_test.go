package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
)

var dumpAudit func(string)

func get(t *testing.T, k *testkit.Kit, c *http.Client, path string) (int, string) {
	t.Helper()
	r := k.DoWith(c, testkit.Request{Method: "GET", Path: path})
	return r.Status, string(r.Body)
}

func TestRoleEditorShowsAvailablePermissionsAndOneSaveKeepsHiddenOnes(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		c := k.Login("admin@example.com", testkit.Password)
		status, body := get(t, k, c, "/admin/roles")
		if status != 200 {
			t.Fatalf("roles page: %d", status)
		}
		// One form, one save; only the permissions of features that exist.
		if n := strings.Count(body, `<form method="post" action="/admin/roles"`); n != 1 || strings.Count(body, `type="submit"`) != 1 {
			t.Fatalf("%d role forms", n)
		}
		for _, p := range identity.AllPermissions {
			shown := strings.Contains(body, `value="`+string(p)+`"`)
			if shown != p.Available() {
				t.Errorf("%s shown=%v, available=%v", p, shown, p.Available())
			}
		}
		if got := strings.Count(body, `name="perm.agent"`); got != 20 {
			t.Errorf("the agent column has %d checkboxes", got)
		}
		// Save the matrix as shown, with the agent losing customers.edit
		// and gaining customers.import.
		roles, _ := k.App.Identity.ListRoles(t.Context())
		form := url.Values{}
		for _, r := range roles {
			form.Set("version."+r.Key, fmt.Sprint(r.Version))
			for _, p := range r.Permissions {
				if p.Available() && !(r.Key == "agent" && p == identity.CustomersEdit) {
					form.Add("perm."+r.Key, string(p))
				}
			}
		}
		form.Add("perm.agent", string(identity.CustomersImport))
		form.Add("perm.agent", string(identity.CarePlan)) // hidden: not the editor's to grant
		if r := post(t, k, c, "/admin/roles", form); r.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", r.Status, r.Body)
		}
		after, _ := k.App.Identity.ListRoles(t.Context())
		for i, r := range after {
			if r.Key == "agent" {
				for _, p := range []identity.Permission{identity.TicketsView, identity.TicketsEdit, identity.CareView, identity.CareEdit, identity.ServiceView, identity.SurveysView, identity.CustomersImport} {
					if !slices.Contains(r.Permissions, p) {
						t.Errorf("agent lacks %s after the save", p)
					}
				}
				if slices.Contains(r.Permissions, identity.CustomersEdit) || slices.Contains(r.Permissions, identity.CarePlan) {
					t.Errorf("agent permissions %v", r.Permissions)
				}
			} else if r.Version != roles[i].Version {
				t.Errorf("unchanged role %s was written", r.Key)
			}
		}
		page, _ := k.App.Audit.List(t.Context(), audit.Filter{Action: "role.update"})
		if len(page.Entries) != 1 {
			t.Fatalf("%d role.update entries", len(page.Entries))
		}
		// The same form again is stale for the agent: nothing saved, the
		// current matrix comes back with a message.
		form.Del("perm.agent")
		r := post(t, k, c, "/admin/roles", form)
		if r.Status != http.StatusPreconditionFailed || !strings.Contains(string(r.Body), "您的修改没有保存") {
			t.Fatalf("stale save: %d", r.Status)
		}
		if agent, _ := k.App.Identity.GetRole(t.Context(), "agent"); !slices.Contains(agent.Permissions, identity.CustomersImport) {
			t.Fatal("a stale save changed the agent")
		}
	})
}

func TestAuditPageReadsAsSentencesWithLinks(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		admin, _ := k.User("admin@example.com", "admin")
		agent, _ := k.User("agent@example.com", "agent")
		ctx := audit.WithActor(context.Background(), audit.Actor{UserID: admin.ID, Label: admin.Email})
		app := k.App
		team, err := app.Identity.CreateTeam(ctx, "售后组")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Identity.UpdateUser(ctx, agent.ID, identity.UserPatch{Name: ptr("客服 李娜"), Roles: &[]string{"agent", "quality"},
			TeamIDs: &[]int64{team.ID}, Active: ptr(false), Version: agent.Version}); err != nil {
			t.Fatal(err)
		}
		perms := []identity.Permission{identity.CustomersView, identity.CustomersExport}
		if _, err := app.Identity.UpdateRole(ctx, "quality", identity.RolePatch{Permissions: &perms}); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Customers.CreateField(ctx, customers.CustomField{Key: "erp_id", LabelZH: "ERP 编号", LabelEN: "ERP id", Type: "text"}); err != nil {
			t.Fatal(err)
		}
		cu, err := app.Customers.Create(ctx, customers.Input{Type: ptr("organization"), Name: ptr("上海浦江机电有限公司"), Phones: &[]string{"021-62345678"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Customers.Update(ctx, cu.ID, customers.Input{OwnerID: &admin.ID, Tier: ptr("vip"), Custom: &map[string]any{"erp_id": "A-1"},
			Contacts: &[]customers.Contact{{Name: "周经理", Phone: "13800000001", Primary: true}}, LifecycleOverride: ptr("active"), Version: &cu.Version}); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Customers.SetRules(ctx, customers.RulesInput{OldAfterDays: ptr(400), HighValueProducts: ptr(2), NewForDays: ptr(60), ActiveForDays: ptr(300)}); err != nil {
			t.Fatal(err)
		}
		cli := audit.WithActor(context.Background(), audit.Actor{Label: "cli"})
		if _, err := app.Identity.CreateTeam(cli, "客服组"); err != nil {
			t.Fatal(err)
		}
		c := k.Login("admin@example.com", testkit.Password)
		for _, lang := range []string{"zh-CN", "en"} {
			if r := post(t, k, c, "/lang", url.Values{"lang": {lang}, "next": {"/admin/audit"}}); r.Status != http.StatusSeeOther {
				t.Fatalf("language: %d", r.Status)
			}
			status, body := get(t, k, c, "/admin/audit")
			if status != 200 {
				t.Fatalf("audit page: %d", status)
			}
			if dumpAudit != nil && lang == "zh-CN" {
				dumpAudit(body)
			}
			for _, raw := range []string{"&lt;nil&gt;", "<nil>", "map[", "%!", "customer.update</", `{&#34;`, "[{"} {
				if strings.Contains(body, raw) {
					t.Errorf("%s: the audit page shows %q", lang, raw)
				}
			}
			for _, link := range []string{fmt.Sprintf(`href="/customers/%d"`, cu.ID), fmt.Sprintf(`href="/admin/users/%d"`, agent.ID),
				`href="/admin/roles"`, `href="/admin/teams"`, `href="/admin/customer-rules"`, `href="/admin/calendars/default"`} {
				if !strings.Contains(body, link) {
					t.Errorf("%s: no link %s", lang, link)
				}
			}
			words := map[string][]string{
				"zh-CN": {"修改了客户", "客户经理", "客服 李娜", "停用了员工账号", "命令行", "系统任务", "授予 导出客户", "收回", "售后组", "周经理", "企业/单位", "VIP", "活跃客户", "品保"},
				"en":    {"changed customer", "Account manager", "deactivated the account of", "The command line", "A system job", "granted Export customers", "withdrew", "Quality"},
			}[lang]
			for _, w := range words {
				if !strings.Contains(body, w) {
					t.Errorf("%s: the audit page lacks %q", lang, w)
				}
			}
			// The action filter is a list of the known actions.
			if !regexp.MustCompile(`<select name="action">.*<option value="customer.update"`).MatchString(body) {
				t.Errorf("%s: no action select", lang)
			}
		}
		// The filters by action and by who.
		_, body := get(t, k, c, "/admin/audit?action=team.create")
		if strings.Contains(body, "上海浦江机电有限公司") || !strings.Contains(body, "客服组") {
			t.Error("the action filter did not filter")
		}
		_, body = get(t, k, c, "/admin/audit?who=cli")
		if strings.Contains(body, "售后组") || !strings.Contains(body, "客服组") {
			t.Error("the command-line filter did not filter")
		}
		_, body = get(t, k, c, fmt.Sprintf("/admin/audit?who=u:%d", admin.ID))
		if !strings.Contains(body, "售后组") || strings.Contains(body, ">客服组</a>") || !strings.Contains(body, fmt.Sprintf(`<option value="u:%d" selected>`, admin.ID)) {
			t.Error("the filter by staff member did not filter")
		}
	})
}

func TestFaviconAndDemoSignIn(t *testing.T) {
	tg := dbtest.Targets(t)[0]
	k := testkit.Start(t, tg)
	k.User("admin@example.com", "admin")
	r := k.Do(testkit.Request{Method: "GET", Path: "/favicon.ico"})
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(r.Body), "<svg") {
		t.Fatalf("/favicon.ico: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	login := string(k.Do(testkit.Request{Method: "GET", Path: "/login"}).Body)
	if !strings.Contains(login, `rel="icon"`) {
		t.Error("no icon link")
	}
	if strings.Contains(login, "careloop-demo") || strings.Contains(login, "demo.careloop.cn") {
		t.Error("a normal server lists demo accounts")
	}
	d := testkit.StartWith(t, tg, testkit.Options{Demo: true})
	d.User("admin@example.com", "admin")
	login = string(d.Do(testkit.Request{Method: "GET", Path: "/login"}).Body)
	for _, w := range []string{"careloop-demo", "admin@demo.careloop.cn", "agent@demo.careloop.cn", "manager@demo.careloop.cn", "管理者代表", "客服专员"} {
		if !strings.Contains(login, w) {
			t.Errorf("the demo sign-in page lacks %q", w)
		}
	}
}

func TestHomeAndSettingsForEachRole(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		admin, _ := k.User("admin@example.com", "admin")
		agent, _ := k.User("agent@example.com", "agent")
		sup, _ := k.User("sup@example.com", "supervisor")
		k.User("manager@example.com", "manager")
		ctx := audit.WithActor(context.Background(), audit.Actor{UserID: admin.ID, Label: admin.Email})
		mine, err := k.App.Customers.Create(ctx, customers.Input{Name: ptr("陈静"), OwnerID: &agent.ID})
		if err != nil {
			t.Fatal(err)
		}
		other, err := k.App.Customers.Create(ctx, customers.Input{Name: ptr("王秀英")})
		if err != nil {
			t.Fatal(err)
		}
		// A queued import of the supervisor's.
		var jobID int64
		if err := k.App.DB.W.QueryRow(`INSERT INTO customer_imports (status, file_name, dry_run, valid_only, allow_duplicates, created_by, actor_label, created_at, updated_at)
			VALUES ('queued', '老客户名单.xlsx', FALSE, FALSE, FALSE, $1, $2, $3, $3) RETURNING id`, sup.ID, sup.Email, db.Now(k.Clock.Now())).Scan(&jobID); err != nil {
			t.Fatal(err)
		}
		for _, st := range []string{"running", "done"} {
			if _, err := k.App.DB.W.Exec(`INSERT INTO customer_imports (status, file_name, dry_run, valid_only, allow_duplicates, created_by, actor_label, created_at, updated_at)
				VALUES ($1, $2, FALSE, FALSE, FALSE, $3, $4, $5, $5)`, st, st+".xlsx", sup.ID, sup.Email, db.Now(k.Clock.Now())); err != nil {
				t.Fatal(err)
			}
		}
		home := func(email string) string {
			t.Helper()
			status, body := get(t, k, k.Login(email, testkit.Password), "/")
			if status != 200 {
				t.Fatalf("%s home: %d", email, status)
			}
			return body
		}
		body := home("agent@example.com")
		myBlock := body[strings.Index(body, `id="block-my-customers"`):]
		myBlock = myBlock[:strings.Index(myBlock, "</section>")]
		if !strings.Contains(myBlock, fmt.Sprintf(`href="/customers/%d"`, mine.ID)) || strings.Contains(myBlock, fmt.Sprintf(`href="/customers/%d"`, other.ID)) {
			t.Errorf("agent's customers block: %s", myBlock)
		}
		if strings.Contains(myBlock, "owner_id=me") {
			t.Error("the block links to more of the agent's customers when it shows them all")
		}
		if strings.Contains(body, `id="block-imports"`) || strings.Contains(body, `href="/admin"`) || strings.Contains(body, `id="block-setup"`) {
			t.Error("the agent sees imports, settings or the setup checklist")
		}
		body = home("sup@example.com")
		if !strings.Contains(body, fmt.Sprintf(`href="/customers/import/jobs/%d"`, jobID)) || !strings.Contains(body, "老客户名单.xlsx") {
			t.Error("the supervisor's import is not on the home page")
		}
		if !strings.Contains(body, "running.xlsx") || strings.Contains(body, "done.xlsx") {
			t.Error("the home page shows finished imports or misses running ones")
		}
		body = home("admin@example.com")
		if strings.Contains(body, "老客户名单.xlsx") || !strings.Contains(body, `id="block-setup"`) || !strings.Contains(body, `id="block-recent-customers"`) {
			t.Error("admin home: someone else's import, or no checklist")
		}
		// Settings: the areas each may use, and nobody else's.
		for _, tc := range []struct {
			email  string
			status int
			areas  []string
		}{
			{"agent@example.com", 403, nil},
			{"manager@example.com", 200, []string{"/admin/audit"}},
			{"sup@example.com", 200, []string{"/admin/teams"}},
			{"admin@example.com", 200, []string{"/admin/users", "/admin/roles", "/admin/teams", "/admin/calendars", "/admin/sla", "/admin/customer-rules", "/admin/tickets", "/admin/attachments", "/admin/surveys", "/admin/mailboxes", "/admin/channels/sms", "/admin/channels/wechat", "/admin/channels/dingtalk", "/admin/channels/wecom", "/admin/channels/wecom-kf", "/admin/outbox", "/admin/webhooks", "/admin/audit"}},
		} {
			status, body := get(t, k, k.Login(tc.email, testkit.Password), "/admin")
			if status != tc.status {
				t.Fatalf("%s /admin: %d", tc.email, status)
			}
			if status != 200 {
				continue
			}
			list := body[strings.Index(body, `class="settings-groups"`):]
			n := strings.Count(list, `<li><a href="/admin/`)
			if n != len(tc.areas) {
				t.Errorf("%s sees %d areas, want %v", tc.email, n, tc.areas)
			}
			for _, a := range tc.areas {
				if !strings.Contains(list, `<li><a href="`+a+`"`) {
					t.Errorf("%s lacks %s", tc.email, a)
				}
			}
			if !strings.Contains(body, `class="subnav"`) {
				t.Errorf("%s: no settings sub-navigation", tc.email)
			}
		}
	})
}
