package wecomkf

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/jobs"
)

// PullArgs is the job of one 客服账号's pull, enqueued by its callback.
type PullArgs struct {
	Account  string `json:"account"`
	OpenKfID string `json:"open_kfid"`
}

// Kind names the job in River's table.
func (PullArgs) Kind() string { return "wecomkf_pull" }

// SweepArgs is the periodic job that pulls what a callback asked for and
// no job has pulled yet (an enqueue that failed, a job that gave up).
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "wecomkf_sweep" }

// SweepEvery is the sweep's period.
const SweepEvery = time.Minute

type pullWorker struct {
	river.WorkerDefaults[PullArgs]
	s *Store
}

func (w *pullWorker) Work(ctx context.Context, j *river.Job[PullArgs]) error {
	_, err := w.s.Pull(ctx, j.Args.Account, j.Args.OpenKfID)
	if errors.Is(err, ErrUnknownAccount) {
		// The account was removed since the callback: nothing to pull.
		return river.JobCancel(err)
	}
	return err
}

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s   *Store
	log *slog.Logger
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	return w.s.Sweep(ctx, w.log)
}

// Sweep pulls every 客服账号 whose latest callback is newer than its last
// pull; one failing account does not stop the others.
func (s *Store) Sweep(ctx context.Context, log *slog.Logger) error {
	todo, err := s.pending(ctx)
	if err != nil {
		return err
	}
	for _, p := range todo {
		if _, err := s.Pull(ctx, p.Account, p.OpenKfID); err != nil && log != nil {
			log.Warn("wecomkf: sweep pull", "account", p.Account, "open_kfid", p.OpenKfID, "err", err)
		}
	}
	return nil
}

// Jobs is the channel's background work: the pulls the callbacks enqueue,
// and the sweep every minute, once per period across the servers.
func (s *Store) Jobs() jobs.Module { return kfJobs{s} }

type kfJobs struct{ s *Store }

// Register adds the pull's and the sweep's workers and the sweep's
// periodic job.
func (j kfJobs) Register(w *river.Workers, log *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &pullWorker{s: j.s})
	river.AddWorker(w, &sweepWorker{s: j.s, log: log})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SweepEvery), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: SweepEvery}}
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}
