package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
)

// The hourly attachments_cleanup runs when the jobs start and removes an
// upload never recorded, once its hour of grace is over.
func TestAttachmentsCleanupJob(t *testing.T) {
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
			st, err := a.Attachments.Stage(ctx, "orphan.txt", strings.NewReader("never recorded"))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(c.DataDir, "attachments", st.SHA256()[:2], st.SHA256())
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err)
			}
			clk.Advance(2 * time.Hour)
			if err := a.Jobs.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer a.Jobs.Stop(ctx)
			deadline := time.Now().Add(20 * time.Second)
			for {
				if _, err := os.Stat(path); os.IsNotExist(err) {
					break
				}
				if time.Now().After(deadline) {
					stats, _ := a.Jobs.Stats(ctx)
					t.Fatalf("orphan still there after 20 s; jobs %v", stats)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
