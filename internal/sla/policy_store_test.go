package sla_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/sla"
)

func newPolicies(t *testing.T, d *db.DB, clk clock.Clock) (*sla.PolicyStore, *sla.Store) {
	t.Helper()
	cals := newStore(t, d, clk)
	ps := sla.NewPolicyStore(d, clk, audit.New(d, clk), cals, vocab)
	if err := ps.EnsureDefault(context.Background()); err != nil {
		t.Fatal(err)
	}
	return ps, cals
}

// fields lists the fields of a validation error.
func fields(t *testing.T, err error) map[string]string {
	t.Helper()
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		t.Fatalf("not a validation error: %v", err)
	}
	out := map[string]string{}
	for _, f := range v.Fields {
		out[f.Field] = f.Key
	}
	return out
}

func TestPolicyStoreSeedsTheDefaultOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
		ps, _ := newPolicies(t, d, clk)
		list, err := ps.List(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("seeded %+v %v", list, err)
		}
		def := list[0]
		if !def.Default || def.Calendar != "default" || def.Name != sla.DefaultPolicyName || len(def.Targets) != len(sla.DefaultPolicy().Targets) {
			t.Fatalf("default policy %+v", def)
		}
		name := "标准服务"
		if _, err := ps.Patch(ctx, def.ID, sla.PolicyPatch{Name: &name}, def.Version); err != nil {
			t.Fatal(err)
		}
		if err := ps.EnsureDefault(ctx); err != nil {
			t.Fatal(err)
		}
		list, _ = ps.List(ctx)
		if len(list) != 1 || list[0].Name != name {
			t.Fatalf("second seed: %+v", list)
		}
		if err := ps.Delete(ctx, def.ID, 0); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("deleting the default: %v", err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action = 'sla_policy.create'`); n != 1 {
			t.Fatalf("%d create audits", n)
		}
	})
}

func TestPolicyStoreCreatePatchDelete(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 9, 30, 9, 55, 0, 0, time.UTC))
		ps, cals := newPolicies(t, d, clk)
		var team int64
		if err := d.W.QueryRow(`INSERT INTO teams (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`, "VIP组", db.Now(clk.Now())).Scan(&team); err != nil {
			t.Fatal(err)
		}
		in := sla.Policy{Name: "VIP 投诉", Priority: 1, Active: true, Calendar: "24x7",
			Conditions: sla.Conditions{Types: []string{"complaint"}, Tiers: []string{"vip"}, TeamIDs: []int64{team}},
			Targets: []sla.Target{{Kind: sla.KindFirstResponse, Duration: "5", Warning: sla.TargetWarning{Percent: 50},
				Escalation: []sla.EscalationStep{{After: "0", Action: sla.ActionNotifyOwner}, {After: "1h", Action: sla.ActionReassign, TeamID: team}}}}}
		p, err := ps.Create(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != 1 || p.Targets[0].Duration != "5m" || p.Default {
			t.Fatalf("created %+v", p)
		}
		facts := sla.TicketFacts{Type: "complaint", Tier: "vip", TeamID: team}
		if m, ok, err := ps.Match(ctx, facts); err != nil || !ok || m.ID != p.ID {
			t.Fatalf("match %+v %v %v", m, ok, err)
		}
		if m, _, _ := ps.Match(ctx, sla.TicketFacts{Type: "complaint", Tier: "normal"}); !m.Default {
			t.Fatalf("a normal customer's complaint matched %q", m.Name)
		}
		due, cal, err := ps.Preview(ctx, p, facts, clk.Now())
		if err != nil || cal.Name() != "24x7" || len(due) != 1 || !due[0].DueAt.Equal(clk.Now().Add(5*time.Minute)) {
			t.Fatalf("preview %+v %v", due, err)
		}
		off := false
		p2, err := ps.Patch(ctx, p.ID, sla.PolicyPatch{Active: &off}, p.Version)
		if err != nil || p2.Version != 2 || p2.Active || p2.Name != p.Name {
			t.Fatalf("patched %+v %v", p2, err)
		}
		if m, _, _ := ps.Match(ctx, facts); m.ID == p.ID {
			t.Fatal("an inactive policy matched")
		}
		if _, err := ps.Patch(ctx, p.ID, sla.PolicyPatch{Active: &off}, 1); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale patch: %v", err)
		}
		if err := ps.Delete(ctx, p.ID, 1); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale delete: %v", err)
		}
		if _, err := ps.Create(ctx, in); fields(t, err)["name"] != "sla_policy.name.taken" {
			t.Fatalf("duplicate name: %v", err)
		}
		// The policy's calendar cannot be deleted while it runs on it.
		if err := cals.Delete(ctx, "24x7", 0); !errors.Is(err, sla.ErrCalendarInUse) || !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("deleting a policy's calendar: %v", err)
		}
		if err := ps.Delete(ctx, p.ID, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := ps.Get(ctx, p.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if err := cals.Delete(ctx, "24x7", 0); err != nil {
			t.Fatalf("deleting a calendar no policy uses: %v", err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM audit_log WHERE action IN ('sla_policy.create', 'sla_policy.update', 'sla_policy.delete') AND entity_id = '`+strconv.FormatInt(p.ID, 10)+`'`); n != 3 {
			t.Fatalf("%d audits", n)
		}
	})
}

func TestPolicyStoreValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
		ps, cals := newPolicies(t, d, clk)
		// Working time only on one day in 2020: none left after now.
		closed := sla.Definition{Name: "closed", TimeZone: "Asia/Shanghai", Exceptions: []sla.Exception{
			{Date: sla.Date{Year: 2020, Month: 1, Day: 6}, Hours: sla.MustHours("09:00", "11:00")}}}
		if _, err := cals.Create(ctx, closed); err != nil {
			t.Fatal(err)
		}
		ok := []sla.Target{{Kind: sla.KindFirstResponse, Duration: "10m"}}
		for _, c := range []struct {
			name  string
			p     sla.Policy
			field string
			key   string
		}{
			{"no targets", sla.Policy{Name: "a", Priority: 1}, "targets", "sla_policy.targets.required"},
			{"no name", sla.Policy{Priority: 1, Targets: ok}, "name", "sla_policy.name.required"},
			{"zero target", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "0"}}}, "targets[0].duration", "sla_policy.duration.zero"},
			{"negative target", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "-2h"}}}, "targets[0].duration", "sla_policy.duration.invalid"},
			{"over a year", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "400d"}}}, "targets[0].duration", "sla_policy.duration.too_long"},
			{"unknown kind", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: "lunch", Duration: "1h"}}}, "targets[0].kind", "sla_policy.target.kind"},
			{"unknown calendar", sla.Policy{Name: "a", Priority: 1, Calendar: "mars", Targets: ok}, "calendar", "sla_policy.calendar.unknown"},
			{"no working time", sla.Policy{Name: "a", Priority: 1, Calendar: "closed", Targets: ok}, "calendar", "sla_policy.calendar.no_working_time"},
			{"unknown type", sla.Policy{Name: "a", Priority: 1, Targets: ok, Conditions: sla.Conditions{Types: []string{"gripe"}}}, "conditions.types", "sla_policy.unknown"},
			{"unknown severity", sla.Policy{Name: "a", Priority: 1, Targets: ok, Conditions: sla.Conditions{Severities: []string{"critical"}}}, "conditions.severities", "sla_policy.unknown"},
			{"unknown channel", sla.Policy{Name: "a", Priority: 1, Targets: ok, Conditions: sla.Conditions{Channels: []string{"fax"}}}, "conditions.channels", "sla_policy.unknown"},
			{"unknown team", sla.Policy{Name: "a", Priority: 1, Targets: ok, Conditions: sla.Conditions{TeamIDs: []int64{999}}}, "conditions.team_ids", "sla_policy.unknown_id"},
			{"unknown category", sla.Policy{Name: "a", Priority: 1, Targets: ok, Conditions: sla.Conditions{CategoryIDs: []int64{999}}}, "conditions.category_ids", "sla_policy.unknown_id"},
			{"bad priority", sla.Policy{Name: "a", Priority: 0, Targets: ok}, "priority", "sla_policy.priority"},
			{"bad action", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "1h",
				Escalation: []sla.EscalationStep{{After: "0", Action: "shout"}}}}}, "targets[0].escalation[0].action", "sla_policy.escalation.action"},
			{"reassign without team", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "1h",
				Escalation: []sla.EscalationStep{{After: "0", Action: sla.ActionReassign}}}}}, "targets[0].escalation[0].team_id", "sla_policy.escalation.team_required"},
			{"reassign to a missing team", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "1h",
				Escalation: []sla.EscalationStep{{After: "0", Action: sla.ActionReassign, TeamID: 999}}}}}, "targets[0].escalation[0].team_id", "sla_policy.unknown_id"},
			{"steps out of order", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "1h",
				Escalation: []sla.EscalationStep{{After: "1h", Action: sla.ActionNotifyOwner}, {After: "30m", Action: sla.ActionNotifyManagement}}}}}, "targets[0].escalation[1].after", "sla_policy.escalation.order"},
			{"lead longer than target", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "1h", Warning: sla.TargetWarning{Lead: "2h"}}}}, "targets[0].warning.lead", "sla_policy.warning.lead_too_long"},
			{"percent and lead", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "1h", Warning: sla.TargetWarning{Percent: 80, Lead: "5m"}}}}, "targets[0].warning", "sla_policy.warning.both"},
			{"override without condition", sla.Policy{Name: "a", Priority: 1, Targets: []sla.Target{{Kind: sla.KindResolution, Duration: "1h", Overrides: []sla.Override{{Duration: "2h"}}}}}, "targets[0].overrides[0].severity", "sla_policy.override.empty"},
		} {
			_, err := ps.Create(ctx, c.p)
			if got := fields(t, err); got[c.field] != c.key {
				t.Errorf("%s: fields %v, want %s=%s", c.name, got, c.field, c.key)
			}
		}
		// Immediate is allowed for the major complaint report only.
		p, err := ps.Create(ctx, sla.Policy{Name: "major", Priority: 5, Active: true, Targets: []sla.Target{{Kind: sla.KindMajorComplaintReport, Duration: "0"}}})
		if err != nil || p.Calendar != "" {
			t.Fatalf("immediate report: %+v %v", p, err)
		}
		// Overlapping conditions are allowed.
		if _, err := ps.Create(ctx, sla.Policy{Name: "major 2", Priority: 5, Active: true, Targets: ok}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM sla_policies`); n != 3 {
			t.Fatalf("%d policies stored, invalid ones too?", n)
		}
	})
}

// TestPolicyStoreMove: moving a policy swaps it with its neighbour and
// renumbers the order 10, 20, 30 in one go; at the top it stays.
func TestPolicyStoreMove(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 9, 30, 9, 55, 0, 0, time.UTC))
		ps, _ := newPolicies(t, d, clk)
		for i, name := range []string{"VIP", "投诉"} {
			if _, err := ps.Create(ctx, sla.Policy{Name: name, Priority: i + 1, Active: true, Calendar: "24x7",
				Targets: []sla.Target{{Kind: sla.KindFirstResponse, Duration: "5m"}}}); err != nil {
				t.Fatal(err)
			}
		}
		names := func() []string {
			list, err := ps.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for k, p := range list {
				if p.Priority != (k+1)*10 {
					t.Fatalf("priorities not renumbered: %+v", list)
				}
				out = append(out, p.Name)
			}
			return out
		}
		list, _ := ps.List(ctx)
		first, second := list[0], list[1]
		if err := ps.Move(ctx, second.ID, false); err != nil {
			t.Fatal(err)
		}
		got := names()
		if got[0] != second.Name || got[1] != first.Name {
			t.Fatalf("after moving %q up: %v", second.Name, got)
		}
		if err := ps.Move(ctx, second.ID, false); err != nil {
			t.Fatal(err)
		}
		if again := names(); again[0] != second.Name {
			t.Fatalf("moving the top one up changed the order: %v", again)
		}
		if err := ps.Move(ctx, 999999, true); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("an unknown policy: %v", err)
		}
	})
}
