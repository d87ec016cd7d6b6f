package web_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/browser"
)

// The default policy's page shows its ten targets as one table, like
// Zendesk's SLA policy editor: the whole policy fits in well under two
// screens at 1366 px, names and headings stay on one line, the page never
// scrolls sideways (the table may, in its own box, on a phone). Editing a
// duration in the table and saving changes only that target; a bad one
// ("0" for the first response) is named in that row and saves nothing;
// a target switched off and on again comes back with the default values.
func TestSLAPolicyTargetsTableInBrowser(t *testing.T) {
	k := testkit.Start(t, dbtest.Targets(t)[0])
	k.User("admin@example.com", "admin")
	ctx := context.Background()
	if _, err := k.App.Identity.CreateTeam(ctx, "华东售后组"); err != nil {
		t.Fatal(err)
	}
	def, ok, err := k.App.SLAPolicies.Match(ctx, sla.TicketFacts{})
	if err != nil || !ok {
		t.Fatal(err)
	}
	page := fmt.Sprintf("%s/admin/sla/%d", k.URL, def.ID)
	b := browser.Shared(t)
	stored := func() sla.Policy {
		t.Helper()
		p, err := k.App.SLAPolicies.Get(ctx, def.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		lang, chain, override, applies, saved, zero, resolution string
	}{
		{"zh-CN", "负责人 → +30m 主管 → +2h 管理层", "紧急/重大 30m", "重要、紧急/重大", "策略已保存", "必须大于零", "2d"},
		{"en", "owner → +30m supervisor → +2h management", "Urgent / major 30m", "Important, Urgent / major", "Policy saved", "Must be more than zero", "3d"},
	} {
		signInAs(t, b, k.URL, "admin@example.com", c.lang)
		b.Visit(page)
		b.WaitVisible("#sla-targets-table")
		var kinds []string
		b.Eval(`[...document.querySelectorAll('#sla-targets-table tbody tr')].map(r => r.dataset.kind)`, &kinds)
		if !slices.Equal(kinds, sla.TargetKinds) {
			t.Fatalf("%s: rows %v, want one per kind %v", c.lang, kinds, sla.TargetKinds)
		}
		row := func(kind string) string { return fmt.Sprintf(`#sla-targets-table tr[data-kind=%q]`, kind) }
		if got := b.Text(row(sla.KindFirstResponse) + " .c-chain summary"); got != c.chain {
			t.Errorf("%s: first response's chain %q, want %q", c.lang, got, c.chain)
		}
		if got := b.Text(row(sla.KindResponse) + " .c-over summary"); got != c.override {
			t.Errorf("%s: response's exceptions %q, want %q", c.lang, got, c.override)
		}
		if got := b.Text(row(sla.KindResponse) + " .c-applies summary"); got != c.applies {
			t.Errorf("%s: response applies to %q, want %q", c.lang, got, c.applies)
		}
		atDesktopAndPhone(t, b, c.lang, "sla-policy-table-"+c.lang, func(where string) {
			if strings.HasSuffix(where, "1366 px") {
				var h int
				b.Eval(`document.documentElement.scrollHeight`, &h)
				if h >= 2600 {
					t.Errorf("%s: the default policy's page is %d px tall, want under 2,600", where, h)
				}
				t.Logf("%s: page height %d px", where, h)
				// At a glance: the whole table, without scrolling inside its box.
				var hidden int
				b.Eval(`(() => { const w = document.querySelector('.sla-targets-wrap'); return w.scrollWidth - w.clientWidth; })()`, &hidden)
				if hidden > 1 {
					t.Errorf("%s: the targets table is %d px wider than its box", where, hidden)
				}
			}
			if strings.HasSuffix(where, "375 px") && c.lang == "zh-CN" {
				// The table scrolls in its box; the target's name stays in view
				// (in Chinese: the English names are too long to keep).
				var inView bool
				b.Eval(`(() => { const w = document.querySelector('.sla-targets-wrap'); w.scrollLeft = w.scrollWidth;
				  const n = document.querySelector('#sla-targets-table tbody th.c-name').getBoundingClientRect();
				  const ok = w.scrollLeft > 0 && n.left >= w.getBoundingClientRect().left - 1; return ok; })()`, &inView)
				if !inView {
					t.Errorf("%s: scrolled to the table's end, the target names are out of view", where)
				}
				b.Screenshot(fmt.Sprintf("sla-policy-table-%s-375-scrolled", c.lang))
				b.Eval(`(() => { document.querySelector('.sla-targets-wrap').scrollLeft = 0; return true; })()`, new(bool))
			}
			oneLine(t, b, where, "#sla-targets-table thead th, #sla-targets-table th.c-name .name, #sla-targets-table .c-pause label.check, "+
				"#sla-targets-table .c-warn .lbl, #sla-targets-table summary .item, .sla-fields label, .sla-conditions legend, "+
				".sla-conditions label.check, .sla-form h2 .ttl, .sla-preview .lbl, #preview-rows th, #preview-rows .due, #preview-rows td.primary")
		})

		// One duration changed in the table; everything else round-trips.
		before := stored()
		b.Fill(row(sla.KindResolution)+" input.dur[name$='.duration']", c.resolution)
		b.Submit("#sla-form")
		b.WaitVisible("#flash")
		if got := b.Text("#flash"); !strings.Contains(got, c.saved) {
			t.Fatalf("%s: flash after save %q; page %q", c.lang, got, b.Text("main"))
		}
		after := stored()
		want := slices.Clone(before.Targets)
		for i := range want {
			if want[i].Kind == sla.KindResolution {
				want[i].Duration = sla.Span(c.resolution)
			}
		}
		if !reflect.DeepEqual(after.Targets, want) || after.Version != before.Version+1 {
			t.Fatalf("%s: saved targets\n%+v\nwant\n%+v", c.lang, after.Targets, want)
		}
		if got := b.Value(row(sla.KindResolution) + " input.dur[name$='.duration']"); got != c.resolution {
			t.Errorf("%s: resolution shows %q after saving", c.lang, got)
		}

		// "0" for the first response: the error is in that row, nothing saved.
		b.Fill(row(sla.KindFirstResponse)+" input.dur[name$='.duration']", "0")
		b.Fill(row(sla.KindResolution)+" input.dur[name$='.duration']", "5d")
		b.Submit("#sla-form")
		b.WaitVisible(row(sla.KindFirstResponse) + " .c-dur .field-err")
		if got := b.Text(row(sla.KindFirstResponse) + " .c-dur .field-err"); !strings.Contains(got, c.zero) {
			t.Errorf("%s: first response's error %q", c.lang, got)
		}
		if !b.Exists(row(sla.KindFirstResponse)+".has-err") || b.Exists(row(sla.KindResolution)+" .field-err") {
			t.Errorf("%s: the error is not (only) on the first response's row", c.lang)
		}
		if got := b.Value(row(sla.KindResolution) + " input.dur[name$='.duration']"); got != "5d" {
			t.Errorf("%s: the form lost the other edit: %q", c.lang, got)
		}
		b.SetViewport(1366, 900)
		b.Screenshot("sla-policy-table-error-" + c.lang)
		if got := stored(); !reflect.DeepEqual(got.Targets, after.Targets) || got.Version != after.Version {
			t.Fatalf("%s: a bad duration saved something: %+v", c.lang, got.Targets)
		}

		// The care record switched off, then on again: the default's values.
		b.Visit(page)
		b.WaitVisible("#sla-targets-table")
		b.Click(row(sla.KindCareRecord) + " .c-on input[type=checkbox]")
		b.Submit("#sla-form")
		b.WaitVisible("#flash")
		for _, tg := range stored().Targets {
			if tg.Kind == sla.KindCareRecord {
				t.Fatalf("%s: care record still on after switching it off", c.lang)
			}
		}
		if !b.Exists(row(sla.KindCareRecord) + ".off") {
			t.Errorf("%s: the care record's row does not show as off", c.lang)
		}
		b.Screenshot("sla-policy-table-off-" + c.lang)
		b.Click(row(sla.KindCareRecord) + " .c-on input[type=checkbox]")
		b.Submit("#sla-form")
		b.WaitVisible("#flash")
		got := stored()
		if i := slices.IndexFunc(got.Targets, func(tg sla.Target) bool { return tg.Kind == sla.KindCareRecord }); i < 0 ||
			got.Targets[i].Duration != "5m" || len(got.Targets[i].Escalation) != 1 {
			t.Fatalf("%s: care record switched on again: %+v", c.lang, got.Targets)
		}

		// An exception edited in its cell's editor.
		// One editor open at a time, over the rows below it.
		for _, e := range []struct{ kind, cell string }{{sla.KindFirstResponse, "c-chain"}, {sla.KindResolution, "c-applies"}, {sla.KindResponse, "c-over"}} {
			b.Click(row(e.kind) + " ." + e.cell + " summary")
			var open int
			b.Eval(`document.querySelectorAll('#sla-targets-table details[open]').length`, &open)
			if open != 1 {
				t.Errorf("%s: %d editors open after opening %s's", c.lang, open, e.kind)
			}
			b.Screenshot(fmt.Sprintf("sla-policy-editor-%s-%s", e.cell, c.lang))
		}
		atDesktopAndPhone(t, b, c.lang, "sla-policy-editors-"+c.lang, func(where string) {
			oneLine(t, b, where, "#sla-targets-table details[open] label.check, #sla-targets-table details[open] legend, #sla-targets-table details[open] .lbl")
		})
		b.Fill(row(sla.KindResponse)+" .c-over input[name$='ov0.duration']", "20m")
		b.Submit("#sla-form")
		b.WaitVisible("#flash")
		got = stored()
		i := slices.IndexFunc(got.Targets, func(tg sla.Target) bool { return tg.Kind == sla.KindResponse })
		if i < 0 || len(got.Targets[i].Overrides) != 1 || got.Targets[i].Overrides[0] != (sla.Override{Severity: "urgent", Duration: "20m"}) {
			t.Fatalf("%s: response's exception: %+v", c.lang, got.Targets[i])
		}
		b.Click(row(sla.KindResponse) + " .c-over summary")
		b.Fill(row(sla.KindResponse)+" .c-over input[name$='ov0.duration']", "30m")
		b.Submit("#sla-form")
		b.WaitVisible("#flash")
	}
}
