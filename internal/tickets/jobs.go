package tickets

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/jobs"
)

// AutoCloseArgs is the hourly closing of resolved tickets whose customer
// has not answered for the settings' number of days.
type AutoCloseArgs struct{}

// Kind names the job in River's table.
func (AutoCloseArgs) Kind() string { return "ticket_auto_close" }

type autoCloseWorker struct {
	river.WorkerDefaults[AutoCloseArgs]
	store *Store
}

func (w *autoCloseWorker) Work(ctx context.Context, _ *river.Job[AutoCloseArgs]) error {
	_, err := w.store.AutoClose(ctx, w.store.currentSettings(ctx).AutoCloseDays)
	return err
}

// Jobs is the tickets domain's background work.
func (s *Store) Jobs() jobs.Module { return ticketJobs{s} }

type ticketJobs struct{ s *Store }

func (j ticketJobs) Register(w *river.Workers, _ *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &autoCloseWorker{store: j.s})
	return []*river.PeriodicJob{jobs.Hourly(func() river.JobArgs { return AutoCloseArgs{} })}
}
