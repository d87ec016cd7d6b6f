package portal

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/jobs"
)

// CleanupArgs is the hourly removal of expired portal sessions, links and
// codes.
type CleanupArgs struct{}

// Kind names the job in River's table.
func (CleanupArgs) Kind() string { return "portal_cleanup" }

type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	store *Store
}

func (w *cleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	_, err := w.store.DeleteExpired(ctx)
	return err
}

// Jobs is the portal's background work.
func (s *Store) Jobs() jobs.Module { return portalJobs{s} }

type portalJobs struct{ s *Store }

func (j portalJobs) Register(w *river.Workers, _ *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &cleanupWorker{store: j.s})
	return []*river.PeriodicJob{jobs.Hourly(func() river.JobArgs { return CleanupArgs{} })}
}
