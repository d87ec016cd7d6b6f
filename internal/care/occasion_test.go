package care

import (
	"errors"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/sla"
)

func date(t *testing.T, s string) sla.Date {
	t.Helper()
	d, err := sla.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The festival engine against a published calendar (香港天文台 / 中国科学院紫金山
// 天文台 农历): Spring Festival and Mid-Autumn 2025–2030, written out here.
func TestFestivalDatesMatchPublishedTable(t *testing.T) {
	want := map[string][]string{
		sla.FestivalSpring:    {"2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03"},
		sla.FestivalMidAutumn: {"2025-10-06", "2026-09-25", "2027-09-15", "2028-10-03", "2029-09-22", "2030-09-12"},
	}
	for key, dates := range want {
		for i, s := range dates {
			got, ok := festivalDate(key, 2025+i)
			if !ok || got.String() != s {
				t.Errorf("%s %d = %v, want %s", key, 2025+i, got, s)
			}
		}
	}
}

func TestFestivalOccasionsAcrossTheYearBoundary(t *testing.T) {
	pl := DefaultPlans[2] // spring festival, 5 to 3 days before
	pl.LeadDays = 30
	f := &facts{ID: 1}
	// 2027-12-28 + 30 days lead reaches the window of 2028-01-26 (opens 01-21).
	got := pl.occasions(f, date(t, "2027-12-28"))
	if len(got) != 1 || got[0].Key != "spring_festival:2028" || got[0].Due.String() != "2028-01-21" || got[0].WindowEnd.String() != "2028-01-23" {
		t.Fatalf("occasions = %+v", got)
	}
	if got := pl.occasions(f, date(t, "2028-01-24")); len(got) != 0 {
		t.Fatalf("after the window: %+v", got)
	}
}

func TestFeb29BirthdayFallsOnFeb28InCommonYears(t *testing.T) {
	b := date(t, "1992-02-29")
	for y, want := range map[int]string{2027: "2027-02-28", 2028: "2028-02-29", 2100: "2100-02-28", 2000: "2000-02-29"} {
		if got := anniversaryIn(b, y).String(); got != want {
			t.Errorf("%d: %s, want %s", y, got, want)
		}
	}
	pl := DefaultPlans[4] // birthday, 3 days before to the day
	got := pl.occasions(&facts{Birthday: "1992-02-29"}, date(t, "2027-02-25"))
	if len(got) != 1 || got[0].Key != "birthday:2027" || got[0].Date.String() != "2027-02-28" {
		t.Fatalf("occasions = %+v", got)
	}
}

func TestLunarBirthdayAndLeapMonth(t *testing.T) {
	pl := DefaultPlans[4]
	// Lunar 8-15 is Mid-Autumn: 2027-09-15.
	got := pl.occasions(&facts{Birthday: "1980-09-23", LunarBirthday: "08-15"}, date(t, "2027-09-13"))
	if len(got) != 1 || got[0].Key != "birthday:lunar:2027" || got[0].Date.String() != "2027-09-15" {
		t.Fatalf("lunar occasions = %+v", got)
	}
	// 2025 has a leap sixth month (闰六月 from 2025-07-25): 闰06-01 is that
	// day; 2026 has none, so the regular 06-01 (2026-07-14) stands in.
	leap, _, err := sla.LunarToSolar(2025, 6, 1, true)
	if err != nil || leap.String() != "2025-07-25" {
		t.Fatalf("leap month start %v %v", leap, err)
	}
	got = pl.occasions(&facts{LunarBirthday: "闰06-01"}, date(t, "2025-07-23"))
	if len(got) != 1 || got[0].Date.String() != "2025-07-25" {
		t.Fatalf("leap birthday 2025 = %+v", got)
	}
	regular, _, _ := sla.LunarToSolar(2026, 6, 1, false)
	got = pl.occasions(&facts{LunarBirthday: "L06-01"}, regular.AddDays(-1))
	if len(got) != 1 || got[0].Date != regular {
		t.Fatalf("leap birthday 2026 = %+v, want %v", got, regular)
	}
	if _, _, _, ok := parseLunarBirthday("13-01"); ok {
		t.Fatal("month 13 parsed")
	}
}

func TestMaintenanceEverySixMonthsAndMonthEnds(t *testing.T) {
	if got := addMonths(date(t, "2026-08-31"), 6).String(); got != "2027-02-28" {
		t.Fatalf("addMonths = %s", got)
	}
	pl := DefaultPlans[7] // maintenance, a week either side
	f := &facts{Products: []owned{{ID: 9, ProductID: 3, Purchase: date(t, "2025-03-10"), MaintenanceMonths: 6}}}
	got := pl.occasions(f, date(t, "2027-03-05"))
	if len(got) != 1 || got[0].Key != "maintenance:9:4" || got[0].Date.String() != "2027-03-10" {
		t.Fatalf("occasions = %+v", got)
	}
	f.Products[0].MaintenanceMonths = 0
	if got := pl.occasions(f, date(t, "2027-03-05")); len(got) != 0 {
		t.Fatalf("no interval: %+v", got)
	}
}

func TestDeepTalkOncePerQuarterForOldCustomers(t *testing.T) {
	pl := DefaultPlans[6]
	old := &facts{CoopStart: "2025-06-01"}
	got := pl.occasions(old, date(t, "2026-07-10"))
	if len(got) != 1 || got[0].Key != "deep_talk:2026Q3" || got[0].Due.String() != "2026-07-01" {
		t.Fatalf("occasions = %+v", got)
	}
	if got := pl.occasions(&facts{CoopStart: "2025-07-02"}, date(t, "2026-07-10")); len(got) != 0 {
		t.Fatalf("less than a year on the quarter's first day: %+v", got)
	}
}

func TestTargetSelection(t *testing.T) {
	pl := Plan{Target: Target{Tiers: []string{"vip"}, Tags: []string{"重点"}, Segments: []string{"old"}}}
	day := date(t, "2027-01-01")
	f := &facts{Tier: "vip", Tags: []string{"重点", "华南"}, CoopStart: "2025-01-01"}
	if !pl.selects(f, day, customers.DefaultRules) {
		t.Fatal("vip, tagged, old: not selected")
	}
	f.CoopStart = "2026-12-01"
	if pl.selects(f, day, customers.DefaultRules) {
		t.Fatal("new customer selected as old")
	}
	if (&Plan{}).selects(&facts{Stage: "unsubscribed"}, day, customers.DefaultRules) {
		t.Fatal("unsubscribed customer selected")
	}
}

func validPlan() Plan {
	return Plan{Name: "x", Kind: KindBirthday, WindowStart: -3, WindowEnd: 0, AssigneeRule: AssignOwner, ChannelRule: ChannelPreference}
}

func TestPlanValidationNamesTheField(t *testing.T) {
	voc := Vocabulary{Types: []string{"individual"}, Tiers: customers.Tiers, Stages: customers.Stages, Channels: customers.Channels}
	cases := []struct {
		name, field, key string
		edit             func(*Plan)
	}{
		{"window ends before it starts", "window_end", "validation.care_window", func(p *Plan) { p.WindowStart, p.WindowEnd = 5, 3 }},
		{"lead time of 10 years", "lead_days", "validation.range", func(p *Plan) { p.LeadDays = 3650 }},
		{"unknown variable", "script", "validation.care_script_variable", func(p *Plan) { p.Script = "{title}您好，{surname_pinyin}" }},
		{"unbalanced open", "script", "validation.care_script_braces", func(p *Plan) { p.Script = "{title 您好" }},
		{"unbalanced close", "script", "validation.care_script_braces", func(p *Plan) { p.Script = "您好}" }},
		{"nested", "script", "validation.care_script_braces", func(p *Plan) { p.Script = "{ti{tle}}" }},
		{"unknown kind", "kind", "validation.care_kind", func(p *Plan) { p.Kind = "weekly" }},
		{"unknown festival", "params.festival", "validation.care_festival", func(p *Plan) { p.Kind, p.Params.Festival = KindFestival, "halloween" }},
		{"team rule without team", "team_id", "validation.required", func(p *Plan) { p.AssigneeRule = AssignTeam }},
		{"unknown channel", "channel_rule", "validation.care_channel", func(p *Plan) { p.ChannelRule = "fax" }},
		{"unknown tier", "target.tiers", "validation.care_target", func(p *Plan) { p.Target.Tiers = []string{"gold"} }},
		{"no name", "name", "validation.required", func(p *Plan) { p.Name = "" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := validPlan()
			c.edit(&p)
			var v *domain.ValidationError
			if err := p.Validate(voc); !errors.As(err, &v) || v.Fields[0].Field != c.field || v.Fields[0].Key != c.key {
				t.Fatalf("err = %v, want %s %s", err, c.field, c.key)
			}
		})
	}
	p := validPlan()
	p.Script = "{title}您好，{{literal}} 与 {product}"
	if err := p.Validate(voc); err != nil {
		t.Fatalf("valid plan: %v", err)
	}
	for _, d := range DefaultPlans {
		d.AssigneeRule, d.ChannelRule = AssignOwner, ChannelPreference
		if err := d.Validate(voc); err != nil {
			t.Errorf("default %s: %v", d.Key, err)
		}
	}
}
