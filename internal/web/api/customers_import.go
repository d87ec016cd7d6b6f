package api

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// Upload limits of customer imports.
const (
	// ImportMaxBytes is the largest spreadsheet accepted (a 100,000-row
	// customer workbook is about 6 MB, the same rows as CSV about 12 MB).
	ImportMaxBytes = 32 << 20
	// ImportBodyMax bounds the whole multipart body: the file plus the form
	// fields and part headers. Past it the upload is refused with 413.
	ImportBodyMax = ImportMaxBytes + 1<<20
	// importFormMemory is how much of an upload is kept in memory; the rest
	// is spooled to a temporary file by mime/multipart.
	importFormMemory = 4 << 20
)

// ImportRowError is one problem of the per-row report, in the caller's
// language. Rows are numbered as the spreadsheet shows them (header = 1).
type ImportRowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
}

// ImportResult is the answer to an import or a dry run.
type ImportResult struct {
	Created     int                      `json:"created"`
	Errors      []ImportRowError         `json:"errors"`
	DryRun      bool                     `json:"dry_run"`
	Mode        string                   `json:"mode"`
	Format      string                   `json:"format"`
	Sheet       string                   `json:"sheet,omitempty"`
	Rows        int                      `json:"rows"`
	Valid       int                      `json:"valid"`
	ErrorRows   int                      `json:"error_rows"`
	ErrorCount  int                      `json:"error_count"`
	Truncated   bool                     `json:"truncated,omitempty"`
	Columns     []customers.ImportColumn `json:"columns"`
	Preview     []customers.PreviewRow   `json:"preview"`
	FirstNumber string                   `json:"first_number,omitempty"`
	LastNumber  string                   `json:"last_number,omitempty"`
}

// ImportJobView is a background import: its progress, then its report.
type ImportJobView struct {
	ID              int64         `json:"id"`
	Status          string        `json:"status"` // queued, running, done, failed, cancelled
	FileName        string        `json:"file_name"`
	Mode            string        `json:"mode"`
	DryRun          bool          `json:"dry_run"`
	Phase           string        `json:"phase,omitempty"`
	RowsDone        int           `json:"rows_done"`
	RowsTotal       int           `json:"rows_total"`
	CancelRequested bool          `json:"cancel_requested"`
	Result          *ImportResult `json:"result,omitempty"`
	Error           string        `json:"error,omitempty"`
	CreatedAt       time.Time     `json:"created_at"`
	FinishedAt      *time.Time    `json:"finished_at,omitempty"`
}

func (a *API) customerImportRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "POST", Path: "/api/v1/customers/import", Perm: identity.CustomersImport, Handler: a.importCustomers,
			Summary: "Import customers from an .xlsx or CSV upload (multipart field file; dry_run=true|false, mode=all_or_nothing|valid_only, " +
				"allow_duplicates=true|false as form fields or query parameters): the per-row report; 202 with a job for files over the synchronous row limit",
			Response: ImportResult{}, Query: []string{"dry_run", "mode", "allow_duplicates"}},
		{Method: "GET", Path: "/api/v1/customers/import/jobs/{job}", Perm: identity.CustomersImport, Handler: a.importJob,
			Summary: "A background import's progress, then its report", Response: ImportJobView{}},
		{Method: "DELETE", Path: "/api/v1/customers/import/jobs/{job}", Perm: identity.CustomersImport, Handler: a.cancelImportJob,
			Summary: "Cancel a queued or running background import (nothing of it is kept): 202 with the job; 409 once it has ended", Response: ImportJobView{}},
		{Method: "GET", Path: "/api/v1/customers/export", Perm: identity.CustomersExport, Handler: a.exportCustomers,
			Summary: "Export the filtered list (same filters as GET /api/v1/customers) as .xlsx or CSV, masked as the caller's role requires",
			Query:   []string{"format", "q", "type", "tier", "lifecycle", "owner_id", "tag"}},
	}
}

// ImportUpload is a parsed import request.
type ImportUpload struct {
	File     multipart.File
	Name     string
	Settings customers.ImportSettings
}

// boolOption reads a true/false form value.
func boolOption(r *http.Request, name string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(r.FormValue(name))) {
	case "", "false", "0", "off", "no":
		return false, nil
	case "true", "1", "on", "yes":
		return true, nil
	}
	return false, domain.Invalid(name, "import.bad_option", map[string]any{"Values": "true, false"})
}

// ParseImportUpload reads a multipart import request (shared by the API and
// the page): at most ImportBodyMax bytes are read. It returns the status to
// answer with an error: 413 when the body is too large, else 400.
func ParseImportUpload(w http.ResponseWriter, r *http.Request) (*ImportUpload, int, error) {
	tooLarge := domain.Invalid("file", customers.KeyImportTooLarge, map[string]any{"MaxMB": ImportMaxBytes >> 20})
	if r.ContentLength > ImportBodyMax {
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	r.Body = http.MaxBytesReader(w, r.Body, ImportBodyMax)
	if err := r.ParseMultipartForm(importFormMemory); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, http.StatusRequestEntityTooLarge, tooLarge
		}
		if !errors.Is(err, http.ErrNotMultipart) {
			return nil, http.StatusBadRequest, domain.Invalid("file", "import.no_file", nil)
		}
	}
	up := &ImportUpload{}
	var v domain.ValidationError
	var err error
	if up.Settings.DryRun, err = boolOption(r, "dry_run"); err != nil {
		v.Add("dry_run", "import.bad_option", map[string]any{"Values": "true, false"})
	}
	if up.Settings.AllowDuplicates, err = boolOption(r, "allow_duplicates"); err != nil {
		v.Add("allow_duplicates", "import.bad_option", map[string]any{"Values": "true, false"})
	}
	switch r.FormValue("mode") {
	case "", customers.ModeAllOrNothing:
	case customers.ModeValidOnly:
		up.Settings.ValidOnly = true
	default:
		v.Add("mode", "import.bad_option", map[string]any{"Values": customers.ModeAllOrNothing + ", " + customers.ModeValidOnly})
	}
	f, fh, ferr := r.FormFile("file")
	if ferr != nil {
		v.Add("file", "import.no_file", nil)
	}
	if err := v.Err(); err != nil {
		if f != nil {
			f.Close()
		}
		return nil, http.StatusBadRequest, err
	}
	if fh.Size > ImportMaxBytes {
		f.Close()
		return nil, http.StatusRequestEntityTooLarge, tooLarge
	}
	up.File, up.Name = f, cleanFileName(fh.Filename)
	up.Settings.FileName = up.Name
	up.Settings.File = customers.ImportOptions{MaxBytes: ImportMaxBytes}
	return up, 0, nil
}

// cleanFileName keeps the base name of an uploaded file as clean text of at
// most 200 characters (it is recorded in the audit log and the timeline).
func cleanFileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	if !httpx.CleanText(s) {
		return ""
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	return strings.TrimSpace(s)
}

// RunImportUpload imports an upload now, or starts a background job when
// the file has more rows than the store's synchronous limit and jobs run.
func RunImportUpload(r *http.Request, s *customers.Store, up *ImportUpload) (customers.ImportReport, *customers.ImportJob, error) {
	if limit := s.ImportSyncRows(); s.HasImportQueue() {
		_, more, err := customers.CountImportRows(up.File, up.Settings.File, limit)
		if err != nil {
			return customers.ImportReport{}, nil, err
		}
		if _, err := up.File.Seek(0, io.SeekStart); err != nil {
			return customers.ImportReport{}, nil, fmt.Errorf("import: rewind: %w", err)
		}
		if more {
			data, err := io.ReadAll(io.LimitReader(up.File, ImportMaxBytes+1))
			if err != nil {
				return customers.ImportReport{}, nil, fmt.Errorf("import: read upload: %w", err)
			}
			job, err := s.StartImport(r.Context(), httpx.Principal(r), up.Name, data, up.Settings)
			if err != nil {
				return customers.ImportReport{}, nil, err
			}
			return customers.ImportReport{}, &job, nil
		}
	}
	rep, err := s.Import(r.Context(), up.File, up.Settings)
	return rep, nil, err
}

func (a *API) importCustomers(w http.ResponseWriter, r *http.Request) {
	up, status, err := ParseImportUpload(w, r)
	if err != nil {
		a.importProblem(w, r, status, err)
		return
	}
	defer up.File.Close()
	rep, job, err := RunImportUpload(r, a.Customers, up)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if job != nil {
		w.Header().Set("Location", fmt.Sprintf("/api/v1/customers/import/jobs/%d", job.ID))
		a.JSON(w, http.StatusAccepted, a.jobView(r, *job))
		return
	}
	a.JSON(w, http.StatusOK, ImportResultOf(a.Kit, httpx.Lang(r), rep))
}

// importProblem answers a refused upload; 413 keeps the reason.
func (a *API) importProblem(w http.ResponseWriter, r *http.Request, status int, err error) {
	var v *domain.ValidationError
	if status == http.StatusRequestEntityTooLarge && errors.As(err, &v) {
		a.Problem(w, r, status, customers.KeyImportTooLarge, map[string]any{"MaxMB": ImportMaxBytes >> 20}, a.Fields(httpx.Lang(r), v))
		return
	}
	a.Error(w, r, err)
}

// ImportResultOf translates a report for the caller.
func ImportResultOf(k httpx.Kit, lang string, rep customers.ImportReport) ImportResult {
	out := ImportResult{Created: rep.Created, DryRun: rep.DryRun, Mode: rep.Mode, Format: rep.Format, Sheet: rep.Sheet, Rows: rep.Rows,
		Valid: rep.Valid, ErrorRows: rep.ErrorRows, ErrorCount: rep.ErrorCount, Truncated: rep.Truncated, Columns: rep.Columns,
		Preview: rep.Preview, FirstNumber: rep.FirstNumber, LastNumber: rep.LastNumber, Errors: make([]ImportRowError, len(rep.Errors))}
	for i, e := range rep.Errors {
		out.Errors[i] = ImportRowError{Row: e.Row, Column: e.Column, Message: k.Cat.T(lang, e.Key, e.Params)}
	}
	if out.Columns == nil {
		out.Columns = []customers.ImportColumn{}
	}
	if out.Preview == nil {
		out.Preview = []customers.PreviewRow{}
	}
	return out
}

func (a *API) jobView(r *http.Request, j customers.ImportJob) ImportJobView {
	return ImportJobViewOf(a.Kit, httpx.Lang(r), j)
}

// ImportJobViewOf translates a background import for the caller.
func ImportJobViewOf(k httpx.Kit, lang string, j customers.ImportJob) ImportJobView {
	v := ImportJobView{ID: j.ID, Status: j.Status, FileName: j.FileName, Mode: j.Mode, DryRun: j.DryRun, Phase: j.Phase,
		RowsDone: j.RowsDone, RowsTotal: j.RowsTotal, CancelRequested: j.CancelRequested, CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt}
	if j.Report != nil {
		res := ImportResultOf(k, lang, *j.Report)
		v.Result = &res
	}
	if j.Error != "" {
		v.Error = k.Cat.T(lang, j.Error, j.ErrorParams)
	}
	return v
}

func jobID(r *http.Request) (int64, error) { return httpx.PathID(r, "job") }

func (a *API) importJob(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	j, err := a.Customers.ImportJob(r.Context(), httpx.Principal(r), id)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusOK, a.jobView(r, j))
}

func (a *API) cancelImportJob(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	j, err := a.Customers.CancelImport(r.Context(), httpx.Principal(r), id)
	var ended *customers.ImportEndedError
	if errors.As(err, &ended) {
		lang := httpx.Lang(r)
		a.Problem(w, r, http.StatusConflict, "import.job_ended", map[string]any{"Status": a.Cat.T(lang, "import.status_"+ended.Status, nil)}, nil)
		return
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	a.JSON(w, http.StatusAccepted, a.jobView(r, j))
}

// ExportTextFor returns the export's headers and words in lang.
func ExportTextFor(k httpx.Kit, lang string) customers.ExportText {
	t := customers.ExportText{Value: func(field, code string) string {
		return k.Cat.T(lang, "customers.export_value_"+code, nil)
	}}
	for _, f := range customers.ExportFields {
		t.Headers = append(t.Headers, k.Cat.T(lang, "customers.export_col_"+f, nil))
	}
	return t
}

// lazyHeaders sets the download headers at the first byte written, so an
// error before any output can still be answered as a problem document.
type lazyHeaders struct {
	w       http.ResponseWriter
	set     func()
	written bool
}

func (l *lazyHeaders) Write(p []byte) (int, error) {
	if !l.written {
		l.written = true
		l.set()
	}
	return l.w.Write(p)
}

func (a *API) exportCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = customers.ExportXLSX
	}
	f, err := customers.FilterFromQuery(q, httpx.Principal(r).UserID)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if format != customers.ExportCSV && format != customers.ExportXLSX {
		a.Error(w, r, domain.Invalid("format", "validation.one_of", map[string]any{"Values": "csv, xlsx"}))
		return
	}
	name := "customers-" + a.Clock.Now().In(customers.BusinessZone).Format("20060102-1504") + "." + format
	lw := &lazyHeaders{w: w, set: func() {
		h := w.Header()
		if format == customers.ExportCSV {
			h.Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		}
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		w.WriteHeader(http.StatusOK)
	}}
	p := httpx.Principal(r)
	n, err := a.Customers.Export(r.Context(), p, f, format, ExportTextFor(a.Kit, httpx.Lang(r)), lw)
	if err == nil {
		// Exports of personal data are logged (a GET writes no audit entry).
		a.Log.InfoContext(r.Context(), "customers exported", "user_id", p.UserID, "format", format, "count", n,
			"masked", !p.Can(identity.CustomersContactView), "filter", r.URL.RawQuery, "request_id", httpx.RequestID(r.Context()))
	}
	if err != nil {
		if !lw.written {
			a.Error(w, r, err)
			return
		}
		a.Log.ErrorContext(r.Context(), "export customers", "error", err, "request_id", httpx.RequestID(r.Context()))
	}
}
