package jobs

import (
	"log/slog"

	"github.com/riverqueue/river"
)

// Module is a domain's background work, kept next to its store: the domain
// adds its workers and returns its periodic jobs, so that this package runs
// River without importing every domain.
type Module interface {
	Register(workers *river.Workers, log *slog.Logger) []*river.PeriodicJob
}

// Hourly is a periodic job that runs every hour (and at start), at most once
// per hour across every server sharing the database.
func Hourly(args func() river.JobArgs) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(3600e9), func() (river.JobArgs, *river.InsertOpts) {
		return args(), &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 3600e9}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
