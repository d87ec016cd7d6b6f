package customers

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"weak"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Background imports. A file with more rows than the caller's synchronous
// limit is stored with a customer_imports row and worked by a job (River,
// see internal/jobs): the worker runs Store.Import on it, reports progress
// and can be cancelled. Because the write pass is one transaction, a
// cancelled or failed import leaves nothing behind.
//
// Progress and cancellation are kept in memory by the process that works
// the job (on SQLite the import's transaction holds the only writer, so the
// job's own row cannot be updated until it ends); on PostgreSQL the worker
// also copies its progress to the row every second and polls the row for a
// cancellation asked on another server.

// Import job states.
const (
	ImportQueued    = "queued"
	ImportRunning   = "running"
	ImportDone      = "done"
	ImportFailed    = "failed"
	ImportCancelled = "cancelled"
)

// ImportQueue enqueues the background job of import id. The composition
// root sets it (SetImportQueue) when background jobs run.
type ImportQueue func(ctx context.Context, id int64) error

// ImportJob is a background import as its owner sees it.
type ImportJob struct {
	ID              int64          `json:"id"`
	Status          string         `json:"status"`
	FileName        string         `json:"file_name"`
	Mode            string         `json:"mode"`
	DryRun          bool           `json:"dry_run"`
	AllowDuplicates bool           `json:"allow_duplicates"`
	Phase           string         `json:"phase,omitempty"`
	RowsDone        int            `json:"rows_done"`
	RowsTotal       int            `json:"rows_total"` // 0 while unknown (checking)
	CancelRequested bool           `json:"cancel_requested"`
	Report          *ImportReport  `json:"report,omitempty"`
	Error           string         `json:"error_key,omitempty"`    // catalog key of a file-level failure
	ErrorParams     map[string]any `json:"error_params,omitempty"` // its parameters
	CreatedBy       int64          `json:"created_by"`
	CreatedAt       time.Time      `json:"created_at"`
	FinishedAt      *time.Time     `json:"finished_at,omitempty"`
}

// liveImport is a job being worked in this process.
type liveImport struct {
	phase       string
	done, total int
	cancel      context.CancelFunc
	cancelled   bool
}

// DefaultImportSyncRows is how many data rows an upload may have to be
// imported during the request; larger files become background jobs.
const DefaultImportSyncRows = 5000

// importHub holds the queue and the imports worked in this process.
type importHub struct {
	mu       sync.Mutex
	queue    ImportQueue
	syncRows int
	hook     ImportHook
	running  map[int64]*liveImport
}

// ImportHook is told a background import's progress after each batch of
// rows (SetImportHook).
type ImportHook func(ctx context.Context, id int64, phase string, done, total int)

// SetImportHook sets a function that every background import worked by
// this Store calls after each batch of rows (400), once that progress is
// what ImportJob reports; nil removes it. The import waits while the hook
// runs, so tests use it to hold an import at a known point, check its
// progress and cancel it; ctx is the import's own (cancelled with it). On
// SQLite the write pass holds the only writer meanwhile: a hook must not
// wait for anything that writes. Production code sets none.
func (s *Store) SetImportHook(h ImportHook) {
	hub := s.hub()
	hub.mu.Lock()
	hub.hook = h
	hub.mu.Unlock()
}

// ImportEndedError refuses to cancel an import that has already ended;
// it wraps domain.ErrConflict.
type ImportEndedError struct {
	Status string // ImportDone, ImportFailed or ImportCancelled
}

func (e *ImportEndedError) Error() string {
	return fmt.Sprintf("customer import has ended (%s) and cannot be cancelled", e.Status)
}

// Unwrap makes the error a conflict.
func (e *ImportEndedError) Unwrap() error { return domain.ErrConflict }

// importHubs keeps one hub per Store. The Store is the one object that both
// the web handlers and the job worker are given, and its struct belongs to
// the record code; a weak key lets a discarded Store's hub go too.
var importHubs sync.Map // weak.Pointer[Store] → *importHub

func (s *Store) hub() *importHub {
	k := weak.Make(s)
	if h, ok := importHubs.Load(k); ok {
		return h.(*importHub)
	}
	h, _ := importHubs.LoadOrStore(k, &importHub{running: map[int64]*liveImport{}})
	return h.(*importHub)
}

// SetImportQueue makes imports of more than syncRows data rows run as
// background jobs through q (syncRows <= 0: DefaultImportSyncRows).
func (s *Store) SetImportQueue(q ImportQueue, syncRows int) {
	if syncRows <= 0 {
		syncRows = DefaultImportSyncRows
	}
	h := s.hub()
	h.mu.Lock()
	h.queue, h.syncRows = q, syncRows
	h.mu.Unlock()
}

// ImportSyncRows is the row limit of imports done during the request.
func (s *Store) ImportSyncRows() int {
	h := s.hub()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.syncRows <= 0 {
		return DefaultImportSyncRows
	}
	return h.syncRows
}

// HasImportQueue tells whether background imports can run; without a queue
// (tests, tools) callers import large files synchronously.
func (s *Store) HasImportQueue() bool {
	h := s.hub()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.queue != nil
}

// CountImportRows opens an import file and counts its data rows, stopping
// after limit+1: more reports that the file has more than limit rows. A
// file that cannot be imported is refused as OpenImport refuses it.
func CountImportRows(r io.Reader, opts ImportOptions, limit int) (rows int, more bool, err error) {
	ir, err := OpenImport(r, opts)
	if err != nil {
		return 0, false, err
	}
	defer ir.Close()
	for rows <= limit {
		_, err := ir.Next()
		if errors.Is(err, io.EOF) {
			return rows, false, nil
		}
		if err != nil {
			return rows, false, err
		}
		rows++
	}
	return rows, true, nil
}

// StartImport stores an uploaded file and enqueues its background import
// for the caller in ctx (the audit actor).
func (s *Store) StartImport(ctx context.Context, p *identity.Principal, fileName string, data []byte, set ImportSettings) (ImportJob, error) {
	h := s.hub()
	h.mu.Lock()
	queue := h.queue
	h.mu.Unlock()
	if queue == nil {
		return ImportJob{}, fmt.Errorf("customers: start import: no job queue")
	}
	now := db.Now(s.clock.Now())
	actor := audit.ActorFrom(ctx)
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO customer_imports (status, file_name, dry_run, valid_only, allow_duplicates,
			created_by, actor_label, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
			ImportQueued, fileName, set.DryRun, set.ValidOnly, set.AllowDuplicates, p.UserID, actor.Label, now).Scan(&id)
		if err != nil {
			return err
		}
		_, err = s.db.Q(ctx).ExecContext(ctx, `INSERT INTO customer_import_files (import_id, data) VALUES ($1, $2)`, id, data)
		return err
	})
	if err != nil {
		return ImportJob{}, fmt.Errorf("customers: start import: %w", err)
	}
	if err := queue(ctx, id); err != nil {
		_, _ = s.db.W.ExecContext(context.WithoutCancel(ctx), `UPDATE customer_imports SET status = $1, finished_at = $2, updated_at = $2 WHERE id = $3`,
			ImportFailed, now, id)
		_, _ = s.db.W.ExecContext(context.WithoutCancel(ctx), `DELETE FROM customer_import_files WHERE import_id = $1`, id)
		return ImportJob{}, fmt.Errorf("customers: enqueue import: %w", err)
	}
	return s.ImportJob(ctx, p, id)
}

// ImportJob returns a background import; only the user who started it may
// see it (its report quotes the file).
func (s *Store) ImportJob(ctx context.Context, p *identity.Principal, id int64) (ImportJob, error) {
	var j ImportJob
	var validOnly bool
	var report string
	var finished sql.NullTime
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT id, status, file_name, dry_run, valid_only, allow_duplicates, phase, rows_done,
		rows_total, cancel_requested, report, COALESCE(created_by, 0), created_at, finished_at FROM customer_imports WHERE id = $1`, id).
		Scan(&j.ID, &j.Status, &j.FileName, &j.DryRun, &validOnly, &j.AllowDuplicates, &j.Phase, &j.RowsDone, &j.RowsTotal,
			&j.CancelRequested, &report, &j.CreatedBy, &j.CreatedAt, &finished)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && j.CreatedBy != p.UserID) {
		return ImportJob{}, fmt.Errorf("customer import %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return ImportJob{}, fmt.Errorf("customer import %d: %w", id, err)
	}
	j.Mode = ImportSettings{ValidOnly: validOnly}.Mode()
	j.CreatedAt = j.CreatedAt.UTC()
	if finished.Valid {
		t := finished.Time.UTC()
		j.FinishedAt = &t
	}
	if report != "" {
		var stored storedReport
		if err := json.Unmarshal([]byte(report), &stored); err == nil {
			j.Report, j.Error, j.ErrorParams = stored.Report, stored.ErrorKey, stored.ErrorParams
		}
	}
	h := s.hub()
	h.mu.Lock()
	if live, ok := h.running[id]; ok && j.Status == ImportRunning {
		j.Phase, j.RowsDone, j.RowsTotal = live.phase, live.done, live.total
		j.CancelRequested = j.CancelRequested || live.cancelled
	}
	h.mu.Unlock()
	return j, nil
}

// storedReport is the report column: the report, or the file-level error.
type storedReport struct {
	Report      *ImportReport  `json:"report,omitempty"`
	ErrorKey    string         `json:"error_key,omitempty"`
	ErrorParams map[string]any `json:"error_params,omitempty"`
}

// CancelImport asks a background import to stop. A queued import is
// cancelled at once; a running one stops at its next batch and rolls back.
// An import that has ended is refused with *ImportEndedError.
func (s *Store) CancelImport(ctx context.Context, p *identity.Principal, id int64) (ImportJob, error) {
	j, err := s.ImportJob(ctx, p, id)
	if err != nil {
		return j, err
	}
	if j.Status != ImportQueued && j.Status != ImportRunning {
		return j, fmt.Errorf("cancel import %d: %w", id, &ImportEndedError{Status: j.Status})
	}
	h := s.hub()
	h.mu.Lock()
	live, local := h.running[id]
	if local {
		live.cancelled = true
		live.cancel()
	}
	h.mu.Unlock()
	switch {
	case local:
		// The worker records the outcome; on SQLite its transaction holds
		// the writer until it has rolled back.
	case j.Status == ImportQueued:
		now := db.Now(s.clock.Now())
		res, err := s.db.W.ExecContext(ctx, `UPDATE customer_imports SET status = $1, cancel_requested = TRUE, finished_at = $2, updated_at = $2
			WHERE id = $3 AND status = $4`, ImportCancelled, now, id, ImportQueued)
		if err != nil {
			return j, fmt.Errorf("cancel import: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.cancelRaced(ctx, p, id) // a worker took it meanwhile
		}
		if _, err := s.db.W.ExecContext(ctx, `DELETE FROM customer_import_files WHERE import_id = $1`, id); err != nil {
			return j, fmt.Errorf("cancel import: %w", err)
		}
	default:
		// Worked by another server (PostgreSQL): it polls this flag.
		res, err := s.db.W.ExecContext(ctx, `UPDATE customer_imports SET cancel_requested = TRUE WHERE id = $1 AND status = $2`, id, ImportRunning)
		if err != nil {
			return j, fmt.Errorf("cancel import: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.cancelRaced(ctx, p, id) // it ended meanwhile
		}
	}
	return s.ImportJob(ctx, p, id)
}

// cancelRaced answers a cancel whose import changed state while it was
// asked: started here (cancel it again) or ended (refused).
func (s *Store) cancelRaced(ctx context.Context, p *identity.Principal, id int64) (ImportJob, error) {
	j, err := s.ImportJob(ctx, p, id)
	if err != nil {
		return j, err
	}
	if j.Status == ImportQueued || j.Status == ImportRunning {
		return s.CancelImport(ctx, p, id)
	}
	return j, fmt.Errorf("cancel import %d: %w", id, &ImportEndedError{Status: j.Status})
}

// RunImport works background import id (called by the job worker). It
// returns an error only when the job should be retried; the outcome of the
// import, failures of the file included, is recorded on the import.
func (s *Store) RunImport(ctx context.Context, id int64, opts ImportOptions) error {
	var status, fileName, label string
	var set ImportSettings
	var createdBy sql.NullInt64
	var cancelAsked bool
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT status, file_name, dry_run, valid_only, allow_duplicates, created_by, actor_label,
		cancel_requested FROM customer_imports WHERE id = $1`, id).
		Scan(&status, &fileName, &set.DryRun, &set.ValidOnly, &set.AllowDuplicates, &createdBy, &label, &cancelAsked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // deleted: nothing to do
	}
	if err != nil {
		return fmt.Errorf("run import %d: %w", id, err)
	}
	if status != ImportQueued && status != ImportRunning {
		return nil // cancelled before it started, or finished
	}
	if cancelAsked {
		return s.finishImport(ctx, id, ImportCancelled, storedReport{}) // asked on another server before a retry
	}
	var data []byte
	if err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT data FROM customer_import_files WHERE import_id = $1`, id).Scan(&data); err != nil {
		return s.finishImport(ctx, id, ImportFailed, storedReport{ErrorKey: KeyImportUnreadable})
	}
	ctx = audit.WithActor(ctx, audit.Actor{UserID: createdBy.Int64, Label: label})
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Registered before the row says running, so that a cancel that sees
	// the row running always finds the import here.
	live := &liveImport{phase: PhaseChecking, cancel: cancel}
	h := s.hub()
	h.mu.Lock()
	h.running[id] = live
	hook := h.hook
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.running, id)
		h.mu.Unlock()
	}()
	now := db.Now(s.clock.Now())
	res, err := s.db.W.ExecContext(ctx, `UPDATE customer_imports SET status = $1, phase = $2, updated_at = $3 WHERE id = $4 AND status IN ($5, $1)`,
		ImportRunning, PhaseChecking, now, id, ImportQueued)
	if err != nil {
		return fmt.Errorf("run import %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // cancelled while queued, since the first read
	}
	var lastSave time.Time
	set.FileName, set.ImportID, set.File = fileName, id, opts
	set.Progress = func(phase string, done, total int) {
		h.mu.Lock()
		live.phase, live.done, live.total = phase, done, total
		h.mu.Unlock()
		if s.db.Dialect == db.Postgres && time.Since(lastSave) >= time.Second {
			lastSave = time.Now()
			if s.saveProgress(ctx, id, phase, done, total) {
				h.mu.Lock()
				live.cancelled = true
				h.mu.Unlock()
				cancel()
			}
		}
		if hook != nil {
			hook(jobCtx, id, phase, done, total)
		}
	}
	rep, err := s.Import(jobCtx, bytes.NewReader(data), set)
	h.mu.Lock()
	cancelled := live.cancelled
	h.mu.Unlock()
	var ve *domain.ValidationError
	switch {
	case cancelled && err != nil:
		// The write transaction rolled back. (A cancel that came after the
		// import committed is too late: the import is done.)
		return s.finishImport(ctx, id, ImportCancelled, storedReport{})
	case errors.As(err, &ve) && len(ve.Fields) > 0:
		return s.finishImport(ctx, id, ImportFailed, storedReport{ErrorKey: ve.Fields[0].Key, ErrorParams: ve.Fields[0].Params})
	case err != nil:
		if ctx.Err() != nil {
			return err // shutting down: River retries the job later
		}
		_ = s.finishImport(ctx, id, ImportFailed, storedReport{ErrorKey: "error.internal"})
		return fmt.Errorf("run import %d: %w", id, err)
	}
	return s.finishImport(ctx, id, ImportDone, storedReport{Report: &rep})
}

// saveProgress copies a running import's progress to its row (outside the
// import's transaction: ctx is the job's, not the import's) and tells
// whether another server asked to cancel it. PostgreSQL only: on SQLite the
// import's transaction holds the writer.
func (s *Store) saveProgress(ctx context.Context, id int64, phase string, done, total int) (stop bool) {
	_ = s.db.W.QueryRowContext(ctx, `UPDATE customer_imports SET phase = $1, rows_done = $2, rows_total = $3 WHERE id = $4
		RETURNING cancel_requested`, phase, done, total, id).Scan(&stop)
	return stop
}

func (s *Store) finishImport(ctx context.Context, id int64, status string, r storedReport) error {
	ctx = context.WithoutCancel(ctx)
	b, _ := json.Marshal(r)
	now := db.Now(s.clock.Now())
	done, total := 0, 0
	if r.Report != nil {
		done, total = r.Report.Created, r.Report.Valid
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE customer_imports SET status = $1, report = $2, rows_done = $3, rows_total = $4,
			phase = '', cancel_requested = (cancel_requested OR $7), finished_at = $5, updated_at = $5 WHERE id = $6`,
			status, string(b), done, total, now, id, status == ImportCancelled); err != nil {
			return err
		}
		_, err := s.db.Q(ctx).ExecContext(ctx, `DELETE FROM customer_import_files WHERE import_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish import %d: %w", id, err)
	}
	return nil
}
