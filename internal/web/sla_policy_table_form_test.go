package web_test

import (
	"fmt"
	"html"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/testkit"
)

var (
	formInput  = regexp.MustCompile(`<input\b[^>]*>`)
	formSelect = regexp.MustCompile(`(?s)<select\b[^>]*>.*?</select>`)
	formOption = regexp.MustCompile(`<option\b[^>]*>`)
	formAttr   = regexp.MustCompile(`\s(name|value|type|checked|selected)(?:="([^"]*)")?`)
)

// pageForm is what a browser would post for the form that starts at
// start in body, left as the page shows it: text inputs and hidden ones,
// ticked boxes, each select's chosen option (else its first).
func pageForm(t *testing.T, body, start string) url.Values {
	t.Helper()
	i := strings.Index(body, start)
	if i < 0 {
		t.Fatalf("no form %q in the page", start)
	}
	body = body[i:]
	body = body[:strings.Index(body, "</form>")]
	attrs := func(tag string) map[string]string {
		m := map[string]string{}
		for _, a := range formAttr.FindAllStringSubmatch(tag, -1) {
			if _, seen := m[a[1]]; !seen {
				m[a[1]] = html.UnescapeString(a[2])
			}
		}
		return m
	}
	v := url.Values{}
	for _, tag := range formInput.FindAllString(body, -1) {
		a := attrs(tag)
		if a["name"] == "" {
			continue
		}
		if a["type"] == "checkbox" {
			if !hasKey(a, "checked") {
				continue
			}
			if !hasKey(a, "value") {
				a["value"] = "on"
			}
		}
		v.Add(a["name"], a["value"])
	}
	for _, sel := range formSelect.FindAllString(body, -1) {
		name := attrs(sel[:strings.Index(sel, ">")+1])["name"]
		opts := formOption.FindAllString(sel, -1)
		chosen := attrs(opts[0])["value"]
		for _, o := range opts {
			if a := attrs(o); hasKey(a, "selected") {
				chosen = a["value"]
			}
		}
		v.Add(name, chosen)
	}
	return v
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// tableRow is the index of the row of kind in a posted targets table.
func tableRow(t *testing.T, v url.Values, kind string) string {
	t.Helper()
	for k, vs := range v {
		if strings.HasSuffix(k, ".kind") && vs[0] == kind {
			return strings.TrimSuffix(k, "kind")
		}
	}
	t.Fatalf("no row of %s in the form", kind)
	return ""
}

// rowHTML is the table row of kind in a page.
func rowHTML(t *testing.T, body, kind string) string {
	t.Helper()
	i := strings.Index(body, fmt.Sprintf(`<tr data-kind="%s"`, kind))
	if i < 0 {
		t.Fatalf("no row of %s in the page", kind)
	}
	return body[i : i+strings.Index(body[i:], "</tr>")]
}

// The targets table posts every part of each target: the page's own form
// sent back unchanged leaves the policy as it was; a target switched off is
// removed, an exception, which tickets, a warning's lead and an escalation
// step edited in the table are saved; bad values come back in their row
// (its editor open), and nothing is saved.
func TestSLAPolicyTableForm(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		k.User("admin@example.com", "admin")
		admin := k.Login("admin@example.com", testkit.Password)
		def, ok, err := k.App.SLAPolicies.Match(t.Context(), sla.TicketFacts{})
		if err != nil || !ok {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/admin/sla/%d", def.ID)
		start := fmt.Sprintf(`<form method="post" action="%s"`, path)
		stored := func() sla.Policy {
			t.Helper()
			p, err := k.App.SLAPolicies.Get(t.Context(), def.ID)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		_, body := get(t, k, admin, path)
		if r := post(t, k, admin, path, pageForm(t, body, start)); r.Status != 303 {
			t.Fatalf("the page's form as it is: %d %s", r.Status, r.Body)
		}
		if got := stored(); !reflect.DeepEqual(got.Targets, def.Targets) || got.Version != def.Version+1 {
			t.Fatalf("the page's form as it is changed the targets:\n%+v\nwas\n%+v", got.Targets, def.Targets)
		}

		_, body = get(t, k, admin, path)
		v := pageForm(t, body, start)
		care, resp, res, first := tableRow(t, v, sla.KindCareRecord), tableRow(t, v, sla.KindResponse), tableRow(t, v, sla.KindResolution), tableRow(t, v, sla.KindFirstResponse)
		v.Del(care + "on")
		v.Set(resp+"ov0.duration", "20m")
		v.Set(resp+"ov1.type", "complaint")
		v.Set(resp+"ov1.duration", "1h")
		v.Set(res+"warn_percent", "")
		v.Set(res+"warn_lead", "90")
		v[first+"types"] = []string{"fault", "complaint"}
		v.Set(first+"esc2.action", sla.ActionReassign)
		v.Set(first+"esc2.team", "0")
		before := stored()
		if r := post(t, k, admin, path, v); r.Status != 400 || !strings.Contains(rowHTML(t, string(r.Body), sla.KindFirstResponse), "请选择改派到的团队") {
			t.Fatalf("reassign without a team: %d", r.Status)
		} else if row := rowHTML(t, string(r.Body), sla.KindFirstResponse); !strings.Contains(row, `class="cell-edit err" open`) || !strings.Contains(row, "has-err") {
			t.Errorf("the first response's chain editor is not open on its error: %s", row)
		}
		if got := stored(); got.Version != before.Version {
			t.Fatal("a bad escalation step saved the policy")
		}
		v.Set(first+"esc2.action", sla.ActionNotifyManagement)
		if r := post(t, k, admin, path, v); r.Status != 303 {
			t.Fatalf("table edits: %d %s", r.Status, r.Body)
		}
		got := stored()
		byKind := func(kind string) sla.Target {
			i := slices.IndexFunc(got.Targets, func(tg sla.Target) bool { return tg.Kind == kind })
			if i < 0 {
				t.Fatalf("no %s target: %+v", kind, got.Targets)
			}
			return got.Targets[i]
		}
		if slices.ContainsFunc(got.Targets, func(tg sla.Target) bool { return tg.Kind == sla.KindCareRecord }) {
			t.Errorf("care record switched off but kept")
		}
		if o := byKind(sla.KindResponse).Overrides; !slices.Equal(o, []sla.Override{{Severity: "urgent", Duration: "20m"}, {Type: "complaint", Duration: "1h"}}) {
			t.Errorf("response's exceptions %+v", o)
		}
		if w := byKind(sla.KindResolution).Warning; w != (sla.TargetWarning{Lead: "1h30m"}) {
			t.Errorf("resolution's warning %+v", w)
		}
		if fr := byKind(sla.KindFirstResponse); !slices.Equal(fr.Types, []string{"fault", "complaint"}) || fr.Duration != "10m" ||
			fr.Escalation[2] != (sla.EscalationStep{After: "2h", Action: sla.ActionNotifyManagement}) {
			t.Errorf("first response %+v", fr)
		}

		// A bad duration and a warning with both a share and a lead: each
		// named in its own row, nothing saved.
		_, body = get(t, k, admin, path)
		v = pageForm(t, body, start)
		first, res = tableRow(t, v, sla.KindFirstResponse), tableRow(t, v, sla.KindResolution)
		v.Set(first+"duration", "0")
		v.Set(res+"warn_percent", "80")
		v.Set(res+"warn_lead", "30m")
		before = stored()
		r := post(t, k, admin, path, v)
		if r.Status != 400 {
			t.Fatalf("bad table: %d", r.Status)
		}
		page := string(r.Body)
		if row := rowHTML(t, page, sla.KindFirstResponse); !strings.Contains(row, "必须大于零") || !strings.Contains(row, `aria-invalid="true"`) {
			t.Errorf("first response's row lacks its error: %s", row)
		}
		if row := rowHTML(t, page, sla.KindResolution); !strings.Contains(row, "预警请选按比例或固定提前量其中一种") || strings.Contains(row, "必须大于零") {
			t.Errorf("resolution's row: %s", row)
		}
		if got := stored(); got.Version != before.Version || !reflect.DeepEqual(got.Targets, before.Targets) {
			t.Fatal("a bad table saved something")
		}
		// The form that came back, fixed, saves.
		v = pageForm(t, page, start)
		v.Set(tableRow(t, v, sla.KindFirstResponse)+"duration", "15m")
		v.Set(tableRow(t, v, sla.KindResolution)+"warn_lead", "")
		if r := post(t, k, admin, path, v); r.Status != 303 {
			t.Fatalf("fixed form: %d %s", r.Status, r.Body)
		}
		if got := stored(); got.Targets[slices.IndexFunc(got.Targets, func(tg sla.Target) bool { return tg.Kind == sla.KindFirstResponse })].Duration != "15m" {
			t.Errorf("fixed form saved %+v", got.Targets)
		}
	})
}
