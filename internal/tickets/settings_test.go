package tickets_test

import (
	"context"
	"testing"
	"time"

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
