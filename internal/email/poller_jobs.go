package email

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/jobs"
)

// PollArgs is the periodic reading of the mailboxes (email_poll): every
// PollEvery, the mailboxes whose own interval has passed are polled.
type PollArgs struct{}

// Kind names the job in River's table.
func (PollArgs) Kind() string { return "email_poll" }

// PollEvery is how often the poll job looks for mailboxes that are due; a
// mailbox's own interval (60 s by default) says when it is.
const PollEvery = 15 * time.Second

type pollWorker struct {
	river.WorkerDefaults[PollArgs]
	p *Poller
}

func (w *pollWorker) Work(ctx context.Context, _ *river.Job[PollArgs]) error {
	_, err := w.p.RunOnce(ctx)
	return err
}

// Timeout lets a poll run as long as a mailbox's poll may (MaxTime for
// each of a few mailboxes), beyond River's default.
func (w *pollWorker) Timeout(*river.Job[PollArgs]) time.Duration { return 30 * time.Minute }

// Jobs is the email domain's background work: email_poll every 15 seconds,
// at most once per period across the servers; the mailbox leases keep two
// runs that overlap (a slow server) off the same mailbox.
func (p *Poller) Jobs() jobs.Module { return pollJobs{p} }

type pollJobs struct{ p *Poller }

func (j pollJobs) Register(w *river.Workers, _ *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &pollWorker{p: j.p})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(PollEvery), func() (river.JobArgs, *river.InsertOpts) {
		return PollArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: PollEvery}, MaxAttempts: 1}
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}
