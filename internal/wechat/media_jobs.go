package wechat

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/jobs"
)

// MediaArgs is the download of one image or voice (wechat_media row).
type MediaArgs struct {
	ID int64 `json:"media_id"`
}

// Kind names the job in River's table.
func (MediaArgs) Kind() string { return "wechat_media" }

// MediaAttempts is how many tries a download gets: with River's backoff
// (attempt⁴ seconds) the last is about an hour and a half after the
// message, well within the 3 days the platform keeps the file.
const MediaAttempts = 8

// InsertOpts: one job per row while it is waiting or running (the sweep
// may enqueue a row the callback's insert already did).
func (MediaArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MediaAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type mediaWorker struct {
	river.WorkerDefaults[MediaArgs]
	s *Store
}

func (w *mediaWorker) Work(ctx context.Context, job *river.Job[MediaArgs]) error {
	return w.s.FetchMedia(ctx, job.Args.ID, job.Attempt >= job.MaxAttempts)
}

// Timeout: a file of the size limit over a slow link.
func (w *mediaWorker) Timeout(*river.Job[MediaArgs]) time.Duration { return 2 * time.Minute }

// SweepArgs enqueues the download of rows whose job was never inserted
// (the server stopped between the callback's commit and the insert).
type SweepArgs struct{}

// Kind names the job in River's table.
func (SweepArgs) Kind() string { return "wechat_media_sweep" }

// SweepEvery is how often waiting rows are looked at.
const SweepEvery = 5 * time.Minute

type sweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	s *Store
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	if w.s.queue == nil {
		return nil
	}
	// Only rows older than a sweep: a newer one's job is on its way.
	rows, err := w.s.db.RQ(ctx).QueryContext(ctx, `SELECT id FROM wechat_media WHERE state = 'pending' AND created_at < $1 ORDER BY id LIMIT 500`,
		db.Now(w.s.clock.Now().Add(-SweepEvery)))
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := w.s.queue(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// Jobs is the channel's background work: wechat_media downloads, and the
// sweep every 5 minutes (at most once per period across the servers).
func (s *Store) Jobs() jobs.Module { return mediaModule{s} }

type mediaModule struct{ s *Store }

func (m mediaModule) Register(w *river.Workers, _ *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &mediaWorker{s: m.s})
	river.AddWorker(w, &sweepWorker{s: m.s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SweepEvery), func() (river.JobArgs, *river.InsertOpts) {
		return SweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: SweepEvery}}
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}

// UseJobs gives the channel the job queue (jobs.Runner.Insert): an image
// or voice message's download is enqueued once the callback committed.
func (s *Store) UseJobs(insert func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error) {
	s.queue = func(ctx context.Context, id int64) error { return insert(ctx, MediaArgs{ID: id}, nil) }
}
