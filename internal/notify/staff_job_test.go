package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
)

// The wired application runs commitment_remind in River when its jobs
// start (and every minute after), with the injected clock: a promise due
// within the lead gets its owner's in-app reminder row.
func TestCommitmentRemindJobRunsInTheApp(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := config.Defaults()
			c.DataDir = t.TempDir()
			if tg.Dialect == db.Postgres {
				c.DB = dbtest.NewSchema(t, tg.DSN)
			}
			clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
			ctx := context.Background()
			a, err := app.Open(ctx, c, app.Options{Clock: clk, Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			team, err := a.Identity.CreateTeam(ctx, "售后组")
			if err != nil {
				t.Fatal(err)
			}
			u, err := a.Identity.CreateUser(ctx, identity.NewUser{Email: "bob@example.com", Name: "bob", Password: "long enough password",
				Roles: []string{"agent"}, TeamIDs: []int64{team.ID}})
			if err != nil {
				t.Fatal(err)
			}
			p, _ := a.Identity.PrincipalFor(ctx, u.ID)
			name := "李小红"
			cu, err := a.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13800138000"}})
			if err != nil {
				t.Fatal(err)
			}
			actx := audit.WithActor(ctx, audit.Actor{UserID: p.UserID, Label: p.Email})
			tk, err := a.Tickets.Create(actx, p, tickets.Input{CustomerID: cu.ID, Type: "fault", Channel: "phone", Severity: "general", Subject: "打印机黑屏", Description: "黑屏"})
			if err != nil {
				t.Fatal(err)
			}
			cm, err := a.Tickets.AddCommitment(actx, p, tk.ID, tickets.CommitmentInput{Text: "十分钟内回电", DueIn: "10m"})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Jobs.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer a.Jobs.Stop(ctx)
			key := "commitment_due:" + itoa(cm.ID) + ":" + itoa(u.ID) + ":inapp"
			deadline := time.Now().Add(20 * time.Second)
			for {
				var n int
				if err := a.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE dedupe_key = $1`, key).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("commitment_remind never wrote the reminder")
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
