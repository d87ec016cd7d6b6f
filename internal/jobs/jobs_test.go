package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
)

func TestCleanupJobRunsOnBothDatabases(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			c := config.Defaults()
			c.DataDir = t.TempDir()
			if tg.Dialect == db.Postgres {
				c.DB = dbtest.NewSchema(t, tg.DSN)
			}
			clk := clock.NewFake(time.Now())
			ctx := context.Background()
			a, err := app.Open(ctx, c, app.Options{Clock: clk, Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			u, err := a.Identity.CreateUser(ctx, identity.NewUser{Email: "x@example.com", Name: "X", Password: "long enough password", Roles: []string{"agent"}})
			if err != nil {
				t.Fatal(err)
			}
			stale, _ := a.Identity.CreateSession(ctx, u.ID, "", "")
			clk.Advance(13 * time.Hour) // past the 12 h idle limit
			fresh, _ := a.Identity.CreateSession(ctx, u.ID, "", "")
			if err := a.Jobs.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer a.Jobs.Stop(ctx)
			if err := a.Jobs.InsertCleanup(ctx); err != nil {
				t.Fatal(err)
			}
			// Wait for the worker (bounded); the job itself reads the fake clock.
			deadline := time.Now().Add(20 * time.Second)
			for {
				var n int
				if err := a.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n == 1 {
					break
				}
				if time.Now().After(deadline) {
					stats, _ := a.Jobs.Stats(ctx)
					t.Fatalf("expired session still there after 20 s; jobs %v", stats)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if _, err := a.Identity.SessionPrincipal(ctx, fresh); err != nil {
				t.Fatalf("the fresh session was removed: %v", err)
			}
			if _, err := a.Identity.SessionPrincipal(ctx, stale); err == nil {
				t.Fatal("the stale session survived")
			}
			// River records completions in batches, shortly after the work.
			for {
				stats, err := a.Jobs.Stats(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if stats["completed"] >= 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no completed job: %v", stats)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
