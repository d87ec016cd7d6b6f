package jobs

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/attachments"
)

// AttachmentsCleanupArgs is the hourly removal of attachment bytes no live
// row references (deleted attachments, uploads whose transaction rolled
// back) once their hour of grace is over.
type AttachmentsCleanupArgs struct{}

// Kind names the job in River's table.
func (AttachmentsCleanupArgs) Kind() string { return "attachments_cleanup" }

type attachmentsCleanupWorker struct {
	river.WorkerDefaults[AttachmentsCleanupArgs]
	store *attachments.Store
	log   *slog.Logger
}

func (w *attachmentsCleanupWorker) Work(ctx context.Context, job *river.Job[AttachmentsCleanupArgs]) error {
	rep, err := w.store.Cleanup(ctx)
	if err != nil {
		return err
	}
	w.log.InfoContext(ctx, "attachments cleanup done", "files_removed", rep.Files, "bytes_removed", rep.Bytes)
	return nil
}
