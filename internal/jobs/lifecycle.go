package jobs

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/customers"
)

// LifecycleArgs is the daily job that moves customers between lifecycle
// stages as time passes, by the rules in force (customers.Store.Rules).
type LifecycleArgs struct{}

// Kind names the job in River's table.
func (LifecycleArgs) Kind() string { return "customer_lifecycle" }

type lifecycleWorker struct {
	river.WorkerDefaults[LifecycleArgs]
	customers *customers.Store
	log       *slog.Logger
}

func (w *lifecycleWorker) Work(ctx context.Context, job *river.Job[LifecycleArgs]) error {
	n, err := w.customers.ApplyLifecycleRules(ctx)
	if err != nil {
		return err
	}
	w.log.InfoContext(ctx, "customer lifecycles refreshed", "changed", n)
	return nil
}
