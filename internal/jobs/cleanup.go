package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
)

// CleanupArgs is the hourly housekeeping job: expired sessions and
// idempotency keys older than a day.
type CleanupArgs struct{}

// Kind names the job in River's table.
func (CleanupArgs) Kind() string { return "session_cleanup" }

type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	identity *identity.Store
	db       *db.DB
	log      *slog.Logger
	clock    clock.Clock
}

// IdempotencyTTL is how long a stored answer to an Idempotency-Key is kept.
const IdempotencyTTL = 24 * time.Hour

func (w *cleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	sessions, err := w.identity.DeleteExpiredSessions(ctx)
	if err != nil {
		return err
	}
	res, err := w.db.W.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, db.Now(w.clock.Now().Add(-IdempotencyTTL)))
	if err != nil {
		return fmt.Errorf("delete old idempotency keys: %w", err)
	}
	keys, _ := res.RowsAffected()
	w.log.InfoContext(ctx, "cleanup done", "sessions_deleted", sessions, "idempotency_keys_deleted", keys)
	return nil
}
