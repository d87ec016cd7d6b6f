package ui

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

// Upload limits of the import page: the same as the API's
// (api.ImportMaxBytes; the packages do not import each other).
const (
	importMaxBytes = 32 << 20
	importBodyMax  = importMaxBytes + 1<<20
)

func (u *UI) customerImportRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/customers/import", Perm: identity.CustomersImport, Handler: u.importPage},
		{Method: "POST", Path: "/customers/import", Perm: identity.CustomersImport, Handler: u.importUpload, MaxBody: importBodyMax},
		{Method: "GET", Path: "/customers/import/jobs/{job}", Perm: identity.CustomersImport, Handler: u.importJobPage},
		{Method: "POST", Path: "/customers/import/jobs/{job}/cancel", Perm: identity.CustomersImport, Handler: u.cancelImportJob},
	}
}

// importView is what the import page shows.
type importView struct {
	MaxMB           int
	DryRun          bool
	ValidOnly       bool
	AllowDuplicates bool
	FileError       string // a file-level problem, translated
	Report          *customers.ImportReport
	Errors          []importRowError
	Job             *customers.ImportJob
	SyncRows        int
}

type importRowError struct {
	Row             int
	Column, Message string
}

func (u *UI) newImportView() *importView {
	return &importView{MaxMB: importMaxBytes >> 20, DryRun: true, SyncRows: u.Customers.ImportSyncRows()}
}

func (u *UI) importPage(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "customers_import", u.page(r, "import.title", u.newImportView()))
}

func checked(r *http.Request, name string) bool {
	switch strings.ToLower(r.FormValue(name)) {
	case "on", "true", "1", "yes", "valid_only":
		return true
	}
	return false
}

func (u *UI) importUpload(w http.ResponseWriter, r *http.Request) {
	v := u.newImportView()
	p := u.page(r, "import.title", v)
	fail := func(status int, key string, params map[string]any) {
		v.FileError = u.Cat.T(p.Lang, key, params)
		u.render(w, r, status, "customers_import", p)
	}
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			fail(http.StatusRequestEntityTooLarge, customers.KeyImportTooLarge, map[string]any{"MaxMB": v.MaxMB})
			return
		}
		fail(http.StatusBadRequest, "import.no_file", nil)
		return
	}
	v.DryRun, v.ValidOnly, v.AllowDuplicates = checked(r, "dry_run"), checked(r, "mode"), checked(r, "allow_duplicates")
	f, fh, err := r.FormFile("file")
	if err != nil {
		fail(http.StatusBadRequest, "import.no_file", nil)
		return
	}
	defer f.Close()
	if fh.Size > importMaxBytes {
		fail(http.StatusRequestEntityTooLarge, customers.KeyImportTooLarge, map[string]any{"MaxMB": v.MaxMB})
		return
	}
	name := fh.Filename
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if !httpx.CleanText(name) || len(name) > 200 {
		name = ""
	}
	set := customers.ImportSettings{DryRun: v.DryRun, ValidOnly: v.ValidOnly, AllowDuplicates: v.AllowDuplicates, FileName: name,
		File: customers.ImportOptions{MaxBytes: importMaxBytes}}
	if u.Customers.HasImportQueue() {
		_, more, err := customers.CountImportRows(f, set.File, v.SyncRows)
		if u.importFailed(err, fail) {
			return
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			u.fail(w, r, err)
			return
		}
		if more {
			data, err := io.ReadAll(io.LimitReader(f, importMaxBytes+1))
			if err != nil {
				u.fail(w, r, err)
				return
			}
			job, err := u.Customers.StartImport(r.Context(), p.User, name, data, set)
			if err != nil {
				u.fail(w, r, err)
				return
			}
			redirect(w, r, fmt.Sprintf("/customers/import/jobs/%d", job.ID))
			return
		}
	}
	rep, err := u.Customers.Import(r.Context(), f, set)
	if u.importFailed(err, fail) {
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.showReport(v, p.Lang, &rep)
	u.render(w, r, http.StatusOK, "customers_import", p)
}

// importFailed answers a file-level problem on the page; other errors are
// left to the caller.
func (u *UI) importFailed(err error, fail func(int, string, map[string]any)) bool {
	var ve *domain.ValidationError
	if errors.As(err, &ve) && len(ve.Fields) > 0 {
		fail(http.StatusBadRequest, ve.Fields[0].Key, ve.Fields[0].Params)
		return true
	}
	return false
}

func (u *UI) showReport(v *importView, lang string, rep *customers.ImportReport) {
	v.Report = rep
	v.Errors = make([]importRowError, len(rep.Errors))
	for i, e := range rep.Errors {
		v.Errors[i] = importRowError{Row: e.Row, Column: e.Column, Message: u.Cat.T(lang, e.Key, e.Params)}
	}
}

func (u *UI) importJobPage(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "job")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	job, err := u.Customers.ImportJob(r.Context(), httpx.Principal(r), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.newImportView()
	p := u.page(r, "import.job", v)
	v.Job = &job
	if job.Report != nil {
		u.showReport(v, p.Lang, job.Report)
	}
	if job.Error != "" {
		v.FileError = u.Cat.T(p.Lang, job.Error, job.ErrorParams)
	}
	u.render(w, r, http.StatusOK, "customers_import", p)
}

func (u *UI) cancelImportJob(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "job")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	_, err = u.Customers.CancelImport(r.Context(), httpx.Principal(r), id)
	var ended *customers.ImportEndedError
	if err != nil && !errors.As(err, &ended) { // an ended import: its page shows how it ended
		u.fail(w, r, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/customers/import/jobs/%d", id))
}
