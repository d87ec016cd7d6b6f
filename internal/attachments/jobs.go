package attachments

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/jobs"
)

// CleanupArgs is the hourly removal of attachment bytes no live row
// references (deleted attachments, uploads whose transaction rolled back)
// once their hour of grace is over.
type CleanupArgs struct{}

// Kind names the job in River's table.
func (CleanupArgs) Kind() string { return "attachments_cleanup" }

type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	store *Store
	log   *slog.Logger
}

func (w *cleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	rep, err := w.store.Cleanup(ctx)
	if err != nil {
		return err
	}
	w.log.InfoContext(ctx, "attachments cleanup done", "files_removed", rep.Files, "bytes_removed", rep.Bytes)
	return nil
}

// Jobs is the attachments' background work.
func (s *Store) Jobs() jobs.Module { return cleanupModule{s} }

type cleanupModule struct{ s *Store }

func (m cleanupModule) Register(w *river.Workers, log *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &cleanupWorker{store: m.s, log: log})
	return []*river.PeriodicJob{jobs.Hourly(func() river.JobArgs { return CleanupArgs{} })}
}
