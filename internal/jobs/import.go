package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/customers"
)

// ImportArgs is a background customer import: the file and the options are
// in the customer_imports row (customers.Store.StartImport).
type ImportArgs struct {
	ImportID int64 `json:"import_id"`
}

// Kind names the job in River's table.
func (ImportArgs) Kind() string { return "customer_import" }

// InsertOpts: a crashed worker's import rolled back, so a retry starts
// over; three attempts are plenty.
func (ImportArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

type importWorker struct {
	river.WorkerDefaults[ImportArgs]
	customers *customers.Store
}

// Timeout lets a large import run past the default job timeout.
func (w *importWorker) Timeout(*river.Job[ImportArgs]) time.Duration { return time.Hour }

func (w *importWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	return w.customers.RunImport(ctx, job.Args.ImportID, customers.ImportOptions{})
}
