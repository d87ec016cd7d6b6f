package tickets_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customfields"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/tickets"
)

// The admin's fallback team takes what no rule matches; the auto-close
// days are the admin's too, and a bad value is refused.
func TestSettingsFallbackTeamAndAutoCloseDays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		st := settings.New(d, f.clock, f.audit)
		f.store.UseSettings(st)
		if v, version, err := f.store.Settings(ctx); err != nil || v.AutoCloseDays != 7 || version != 0 {
			t.Fatalf("defaults: %+v %d %v", v, version, err)
		}
		tk, _ := f.store.Create(ctx, f.carol, f.input("other"))
		if *tk.TeamID != f.tech.ID {
			t.Fatalf("without settings the first team takes it: %d", *tk.TeamID)
		}
		if _, err := f.store.SaveSettings(ctx, tickets.Settings{AutoCloseDays: 400}, 0); err == nil {
			t.Fatal("400 days accepted")
		}
		if _, err := f.store.SaveSettings(ctx, tickets.Settings{AutoCloseDays: 3, FallbackTeamID: f.service.ID}, 0); err != nil {
			t.Fatal(err)
		}
		tk, _ = f.store.Create(ctx, f.carol, f.input("other"))
		if *tk.TeamID != f.service.ID || *tk.OwnerID != f.carol.UserID {
			t.Fatalf("fallback team: %+v", tk)
		}
		tk, _ = f.store.Transition(ctx, f.boss, tk.ID, tickets.TransitionInput{To: "resolved"})
		f.clock.Advance(4 * 24 * time.Hour)
		v, _, _ := f.store.Settings(ctx)
		if n, err := f.store.AutoClose(ctx, v.AutoCloseDays); err != nil || n != 1 {
			t.Fatalf("auto close after %d days: %d %v", v.AutoCloseDays, n, err)
		}
	})
}

// Ticket fields reuse the customer fields' mechanism, per ticket type.
func TestCustomFieldsPerTicketType(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		if _, err := f.store.CreateCustomField(ctx, customfields.Field{Key: "fault_code", LabelZH: "故障代码", LabelEN: "Fault code", Type: "text", AppliesTo: []string{"fault", "repair"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.CreateCustomField(ctx, customfields.Field{Key: "x", LabelZH: "x", LabelEN: "x", Type: "text", AppliesTo: []string{"bogus"}}); err == nil {
			t.Fatal("an unknown ticket type accepted")
		}
		// The same key may name a customer field too.
		if _, err := f.customers.CreateField(ctx, customfields.Field{Key: "fault_code", LabelZH: "客户故障代码", LabelEN: "Customer fault code", Type: "text"}); err != nil {
			t.Fatal(err)
		}
		in := f.input("fault")
		in.Custom = map[string]any{"fault_code": " E03 "}
		tk, err := f.store.Create(ctx, f.carol, in)
		if err != nil || tk.Custom["fault_code"] != "E03" {
			t.Fatalf("fault with its field: %+v %v", tk.Custom, err)
		}
		in = f.input("consultation")
		in.Custom = map[string]any{"fault_code": "E03"}
		if _, err := f.store.Create(ctx, f.carol, in); err == nil {
			t.Fatal("a fault field on an inquiry accepted")
		}
		if fields, _ := f.store.CustomFields(ctx, "consultation"); len(fields) != 0 {
			t.Fatalf("inquiry fields: %+v", fields)
		}
	})
}
