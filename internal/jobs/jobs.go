// Package jobs runs Careloop's background work on River, over PostgreSQL or
// SQLite. Domains register their job kinds here (Kinds); River's unique and
// periodic jobs make sure N servers never run the same periodic work twice.
// Newer domains keep their job kinds next to their store and hand them in as
// a Module; the older kinds (sessions, customer imports and lifecycle) are
// still here.
//
// Invariants: River's tables are migrated in code at start (rivermigrate), in
// the same database as Careloop's own; on SQLite, River has its own single
// connection to the file, as its driver advises.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
)

// Kinds are the domain services the job workers call.
type Kinds struct {
	Identity  *identity.Store
	Customers *customers.Store
	Clock     clock.Clock
	// Modules are the domains that own their background work (tickets,
	// attachments…): each adds its workers and periodic jobs.
	Modules []Module
}

// Runner owns the River client of one process.
type Runner struct {
	db    *db.DB
	start func(context.Context) error
	stop  func(context.Context) error
	close func()
	// InsertCleanup enqueues a session cleanup now (tests, operators).
	InsertCleanup func(context.Context) error
	// InsertImport enqueues a background customer import (customers.ImportQueue).
	InsertImport func(ctx context.Context, id int64) error
	// InsertLifecycle enqueues a pass of the lifecycle rules over every
	// customer now (customers.RestageQueue).
	InsertLifecycle func(ctx context.Context) error
	// Insert enqueues a job of a Module's kind (the domain owns the kind
	// and its worker; this package does not import it).
	Insert func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// New migrates River's tables and builds its client with every job kind.
func New(ctx context.Context, d *db.DB, log *slog.Logger, k Kinds) (*Runner, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &cleanupWorker{identity: k.Identity, db: d, log: log, clock: k.Clock})
	if k.Customers != nil {
		river.AddWorker(workers, &importWorker{customers: k.Customers})
	}
	river.AddWorker(workers, &lifecycleWorker{customers: k.Customers, log: log})
	cfg := &river.Config{
		Logger:  log.With("component", "jobs"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
				return CleanupArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
			}, &river.PeriodicJobOpts{RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour), func() (river.JobArgs, *river.InsertOpts) {
				return LifecycleArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 24 * time.Hour}}
			}, &river.PeriodicJobOpts{RunOnStart: true}),
		},
		JobTimeout: 5 * time.Minute,
	}
	for _, m := range k.Modules {
		cfg.PeriodicJobs = append(cfg.PeriodicJobs, m.Register(workers, log.With("component", "jobs"))...)
	}
	switch d.Dialect {
	case db.Postgres:
		pool, err := pgxpool.New(ctx, d.DSN)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		r, err := build(ctx, d, riverpgxv5.New(pool), cfg)
		if err != nil {
			pool.Close()
			return nil, err
		}
		inner := r.close
		r.close = func() { inner(); pool.Close() }
		return r, nil
	default:
		conn, err := sql.Open("sqlite", db.SQLiteDSN(d.DSN, false))
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		conn.SetMaxOpenConns(1)
		r, err := build(ctx, d, riversqlite.New(conn), cfg)
		if err != nil {
			conn.Close()
			return nil, err
		}
		inner := r.close
		r.close = func() { inner(); conn.Close() }
		return r, nil
	}
}

func build[TTx any](ctx context.Context, d *db.DB, driver riverdriver.Driver[TTx], cfg *river.Config) (*Runner, error) {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("jobs: migrate: %w", err)
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Runner{
		db:    d,
		start: client.Start,
		stop:  client.Stop,
		close: func() {},
		InsertCleanup: func(ctx context.Context) error {
			_, err := client.Insert(ctx, CleanupArgs{}, nil)
			return err
		},
		InsertImport: func(ctx context.Context, id int64) error {
			_, err := client.Insert(ctx, ImportArgs{ImportID: id}, nil)
			return err
		},
		InsertLifecycle: func(ctx context.Context) error {
			// Not unique by period, unlike the daily one: a pass after every
			// change of rules, each applying the rules stored when it runs.
			_, err := client.Insert(ctx, LifecycleArgs{}, nil)
			return err
		},
		Insert: func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
			_, err := client.Insert(ctx, args, opts)
			return err
		},
	}, nil
}

// Start begins working jobs; it returns at once.
func (r *Runner) Start(ctx context.Context) error { return r.start(context.WithoutCancel(ctx)) }

// Stop waits for running jobs to finish, or for ctx to end.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("jobs: stop: running jobs did not finish in time: %w", err)
	}
	return err
}

// Close releases River's connections.
func (r *Runner) Close() { r.close() }

// Stats counts jobs by state (for /metrics).
func (r *Runner) Stats(ctx context.Context) (map[string]int64, error) {
	rows, err := r.db.R.QueryContext(ctx, `SELECT state, COUNT(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("job stats: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}
