package robots

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/jobs"
	"github.com/careloop/careloop/internal/notify"
)

// BacklogEvery is how often the unassigned backlog is looked at;
// BacklogQuiet is how long a robot stays quiet about one team after it
// spoke.
const (
	BacklogEvery = 10 * time.Minute
	BacklogQuiet = time.Hour
)

// CheckBacklog tells each active robot routed unassigned_backlog about each
// team (its own, or every team when it names none; 0: tickets of no team)
// whose open unassigned tickets exceed the robot's threshold, at most once
// an hour per robot and team. It returns how many messages it queued.
func (s *Store) CheckBacklog(ctx context.Context) (int, error) {
	rs, err := s.query(ctx, `WHERE active = TRUE ORDER BY id`)
	if err != nil {
		return 0, err
	}
	rs = slices.DeleteFunc(rs, func(r Robot) bool { return !slices.Contains(r.Events, notify.EventUnassignedBacklog) })
	if len(rs) == 0 {
		return 0, nil
	}
	counts, err := s.Tickets.UnassignedByTeam(ctx)
	if err != nil {
		return 0, err
	}
	teams := make([]int64, 0, len(counts))
	for t := range counts {
		teams = append(teams, t)
	}
	slices.Sort(teams)
	now := s.Clock.Now()
	sent := 0
	for _, r := range rs {
		mine := teams
		if r.TeamID != nil {
			mine = []int64{*r.TeamID}
		}
		for _, team := range mine {
			n := counts[team]
			if n <= r.BacklogThreshold {
				continue
			}
			ok, err := s.backlogAlert(ctx, r, team, n, now)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, nil
}

// backlogAlert claims the robot's hour for team (a conditional upsert only
// one server wins) and queues the message with it, in one transaction.
func (s *Store) backlogAlert(ctx context.Context, r Robot, team int64, n int, now time.Time) (bool, error) {
	claimed := false
	err := s.DB.WithTx(ctx, func(ctx context.Context) error {
		at := db.Now(now)
		res, err := s.DB.Q(ctx).ExecContext(ctx, `INSERT INTO robot_backlog (robot_id, team_id, alerted_at) VALUES ($1, $2, $3)
			ON CONFLICT (robot_id, team_id) DO UPDATE SET alerted_at = excluded.alerted_at WHERE robot_backlog.alerted_at <= $4`,
			r.ID, team, at, at.Add(-BacklogQuiet))
		if err != nil {
			return fmt.Errorf("claim backlog alert: %w", err)
		}
		if c, _ := res.RowsAffected(); c == 0 {
			return nil
		}
		claimed = true
		a := notify.Alert{Event: notify.EventUnassignedBacklog, TeamID: team, Link: "/tickets?queue=unassigned",
			Params: map[string]any{"Count": n, "Threshold": r.BacklogThreshold}, Entity: "team", ID: fmt.Sprint(team),
			// A second guard: one message per team and hour whatever the claim says.
			Dedupe: fmt.Sprintf("unassigned_backlog:%d:%s", team, now.UTC().Format("2006010215"))}
		title, text := s.render(ctx, r, a)
		return s.enqueue(ctx, r, a, title, text)
	})
	return claimed, err
}

// BacklogArgs is the ten minutes' look at the unassigned backlog.
type BacklogArgs struct{}

// Kind names the job in River's table.
func (BacklogArgs) Kind() string { return "robot_backlog" }

type backlogWorker struct {
	river.WorkerDefaults[BacklogArgs]
	s *Store
}

func (w *backlogWorker) Work(ctx context.Context, _ *river.Job[BacklogArgs]) error {
	_, err := w.s.CheckBacklog(ctx)
	return err
}

// Jobs is the robots' background work: robot_backlog every ten minutes,
// once per period across the servers.
func (s *Store) Jobs() jobs.Module { return robotJobs{s} }

type robotJobs struct{ s *Store }

// Register adds the backlog check's worker and its periodic job.
func (j robotJobs) Register(w *river.Workers, _ *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &backlogWorker{s: j.s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(BacklogEvery), func() (river.JobArgs, *river.InsertOpts) {
		return BacklogArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: BacklogEvery}}
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}
