package ticketsla

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/jobs"
)

// SweepPeriod is how often the SLA sweep runs (and once at start, which is
// the catch-up after downtime).
const SweepPeriod = 30 * time.Second

// SweepArgs is the SLA sweep's periodic job.
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "sla_sweep" }

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s *Service
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	rep, err := w.s.Sweep(ctx)
	if rep.Breached+rep.Warned+rep.Steps+rep.Recomputed > 0 {
		w.s.log.Info("sla sweep", "breached", rep.Breached, "warned", rep.Warned, "steps", rep.Steps, "recomputed", rep.Recomputed)
	}
	return err
}

// Jobs is the SLA's background work: sla_sweep every SweepPeriod, once per
// period across the servers (each step is claimed once anyway).
func (s *Service) Jobs() jobs.Module { return slaJobs{s} }

type slaJobs struct{ s *Service }

func (j slaJobs) Register(w *river.Workers, _ *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &sweepWorker{s: j.s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SweepPeriod), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: SweepPeriod}}
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}
