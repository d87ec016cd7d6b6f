package customers_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
)

func importRows(n int) []byte {
	b := []byte("客户名称,联系方式\r\n")
	for i := range n {
		b = fmt.Appendf(b, "后台%04d,%s\r\n", i, phoneN(i))
	}
	return b
}

// TestImportJobCancelRules: a job cancelled while queued never runs, one
// cancelled while it runs rolls back, and an ended job cannot be cancelled.
func TestImportJobCancelRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		var queued []int64
		f.store.SetImportQueue(func(_ context.Context, id int64) error {
			queued = append(queued, id)
			return nil
		}, 10)
		if got := f.store.ImportSyncRows(); got != 10 {
			t.Fatalf("sync rows %d", got)
		}
		start := func() customers.ImportJob {
			t.Helper()
			j, err := f.store.StartImport(ctx, f.manager, "a.csv", importRows(900), customers.ImportSettings{})
			if err != nil || j.Status != customers.ImportQueued || queued[len(queued)-1] != j.ID {
				t.Fatalf("start: %+v %v", j, err)
			}
			return j
		}
		ended := func(j customers.ImportJob, status string) {
			t.Helper()
			_, err := f.store.CancelImport(ctx, f.manager, j.ID)
			var e *customers.ImportEndedError
			if !errors.As(err, &e) || e.Status != status || !errors.Is(err, domain.ErrConflict) {
				t.Fatalf("cancel an ended (%s) job: %v", status, err)
			}
		}

		// Cancelled while queued: the worker finds it cancelled.
		j := start()
		if _, err := f.store.CancelImport(ctx, f.agent, j.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("someone else's cancel: %v", err)
		}
		if j, err := f.store.CancelImport(ctx, f.manager, j.ID); err != nil || j.Status != customers.ImportCancelled || !j.CancelRequested {
			t.Fatalf("cancel queued: %+v %v", j, err)
		}
		if err := f.store.RunImport(ctx, j.ID, customers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		if j, _ = f.store.ImportJob(ctx, f.manager, j.ID); j.Status != customers.ImportCancelled {
			t.Fatalf("after the worker: %+v", j)
		}
		ended(j, customers.ImportCancelled)

		// Cancelled while it runs (from the hook, as a request would while
		// the worker is between batches): rolled back.
		j = start()
		var steps []string
		f.store.SetImportHook(func(_ context.Context, id int64, phase string, done, total int) {
			steps = append(steps, fmt.Sprintf("%s %d/%d", phase, done, total))
			if got, err := f.store.ImportJob(ctx, f.manager, id); err != nil || got.Status != customers.ImportRunning ||
				got.Phase != phase || got.RowsDone != done || got.RowsTotal != total {
				t.Errorf("progress seen by ImportJob: %+v %v, want %s %d/%d", got, err, phase, done, total)
			}
			if phase == customers.PhaseImporting {
				if got, err := f.store.CancelImport(ctx, f.manager, id); err != nil || got.Status != customers.ImportRunning || !got.CancelRequested {
					t.Errorf("cancel running: %+v %v", got, err)
				}
			}
		})
		if err := f.store.RunImport(ctx, j.ID, customers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(steps) != "[checking 400/0 checking 800/0 checking 900/0 importing 400/900]" {
			t.Fatalf("steps %v", steps)
		}
		if j, _ = f.store.ImportJob(ctx, f.manager, j.ID); j.Status != customers.ImportCancelled || j.FinishedAt == nil {
			t.Fatalf("after cancel: %+v", j)
		}
		if n := count(t, d, `SELECT COUNT(*) FROM customers`); n != 0 {
			t.Fatalf("%d customers after a cancelled import", n)
		}
		ended(j, customers.ImportCancelled)

		// Run to the end: done, and then it cannot be cancelled.
		f.store.SetImportHook(nil)
		j = start()
		if err := f.store.RunImport(ctx, j.ID, customers.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		if j, _ = f.store.ImportJob(ctx, f.manager, j.ID); j.Status != customers.ImportDone || j.Report == nil || j.Report.Created != 900 ||
			j.RowsDone != 900 || j.RowsTotal != 900 {
			t.Fatalf("done: %+v", j)
		}
		ended(j, customers.ImportDone)
		if n := count(t, d, `SELECT COUNT(*) FROM customer_import_files`); n != 0 {
			t.Fatalf("%d stored files left", n)
		}
	})
}
