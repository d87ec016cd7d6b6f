package surveys

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/jobs"
)

// SendPeriod is how often the due surveys are sent (and once at start,
// the catch-up after downtime): well inside the 24-hour promise.
const SendPeriod = time.Minute

// SendArgs is the periodic job that sends the due surveys.
type SendArgs struct{}

// Kind names the job in River's table.
func (SendArgs) Kind() string { return "surveys_send" }

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	s *Store
}

func (w *sendWorker) Work(ctx context.Context, _ *river.Job[SendArgs]) error {
	rep, err := w.s.SendDue(ctx)
	if rep.Sent+rep.Suppressed > 0 {
		w.s.log.Info("surveys sent", "sent", rep.Sent, "suppressed", rep.Suppressed)
	}
	return err
}

// Jobs is the surveys' background work: surveys_send every SendPeriod,
// once per period across the servers (each survey is claimed once anyway).
func (s *Store) Jobs() jobs.Module { return surveyJobs{s} }

type surveyJobs struct{ s *Store }

func (j surveyJobs) Register(w *river.Workers, _ *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &sendWorker{s: j.s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SendPeriod), func() (river.JobArgs, *river.InsertOpts) {
		return SendArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: SendPeriod}}
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}
