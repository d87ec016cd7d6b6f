package care

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/jobs"
)

// RunArgs is the scheduler's periodic job: hourly (and at start, which is
// the catch-up after downtime), at most once an hour across the servers.
// Overlapping runs are harmless anyway: the tasks' unique key decides.
type RunArgs struct{}

// Kind names the job in River's table.
func (RunArgs) Kind() string { return "care_run" }

type runWorker struct {
	river.WorkerDefaults[RunArgs]
	s   *Store
	log *slog.Logger
}

func (w *runWorker) Work(ctx context.Context, _ *river.Job[RunArgs]) error {
	rep, err := w.s.Run(ctx)
	if rep.Created > 0 {
		w.log.Info("care run", "day", rep.Day.String(), "customers", rep.Customers, "created", rep.Created, "took", rep.Duration)
	}
	return err
}

// Jobs is care's background work: care_run every hour.
func (s *Store) Jobs() jobs.Module { return careJobs{s} }

type careJobs struct{ s *Store }

func (j careJobs) Register(w *river.Workers, log *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &runWorker{s: j.s, log: log})
	return []*river.PeriodicJob{jobs.Hourly(func() river.JobArgs { return RunArgs{} })}
}
