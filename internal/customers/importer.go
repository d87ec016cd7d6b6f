package customers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/sheets"
)

// Import of a customer spreadsheet, in two passes over the file:
//
//  1. Check: every row goes through the RowChecker, owners are resolved,
//     and numbers, phones and emails are compared with the file's earlier
//     rows and (in batches) with the customers on file. Nothing is written.
//     This pass is the dry run and the per-row report.
//  2. Write (not for a dry run; in all-or-nothing mode only when the check
//     found no error): one transaction reserves the highest imported serial
//     of each month, re-reads the file, re-checks each batch against the
//     database (it may have changed since pass 1) and inserts customers,
//     phones, contacts and one timeline event per customer with multi-row
//     INSERTs, then one audit entry for the whole import. A failure or a
//     cancellation anywhere rolls everything back.

// Import modes.
const (
	ModeAllOrNothing = "all_or_nothing"
	ModeValidOnly    = "valid_only"
)

// Import phases reported to Progress.
const (
	PhaseChecking  = "checking"
	PhaseImporting = "importing"
)

// MaxReportErrors caps the row errors kept in a report; ErrorCount still
// counts them all.
const MaxReportErrors = sheets.MaxRowErrors

// importBatch is how many rows one multi-row INSERT carries (24 columns:
// well under SQLite's 32,766 and PostgreSQL's 65,535 parameters).
const importBatch = 400

// ImportSettings choose how an import runs.
type ImportSettings struct {
	DryRun          bool
	ValidOnly       bool // import the valid rows and report the rest
	AllowDuplicates bool // phones and emails already on file are no error
	File            ImportOptions
	// FileName is recorded in the audit entry and the timeline events.
	FileName string
	// ImportID, when set, names the background import in the audit entry.
	ImportID int64
	// Progress, when set, is called after each batch with the phase, the
	// rows done and the rows to do (0 while unknown).
	Progress func(phase string, done, total int)
}

// Mode returns ModeValidOnly or ModeAllOrNothing.
func (s ImportSettings) Mode() string {
	if s.ValidOnly {
		return ModeValidOnly
	}
	return ModeAllOrNothing
}

// ReportError is one problem of a row in a stored report: the catalog key
// and its parameters, translated when shown.
type ReportError = sheets.RowError

// ImportColumn is how one column of the file was understood.
type ImportColumn = sheets.ColumnUse

// PreviewRow is a checked row as it would be stored.
type PreviewRow struct {
	Row      int      `json:"row"`
	Number   string   `json:"number,omitempty"`
	Type     string   `json:"type"`
	Name     string   `json:"name"`
	Phones   []string `json:"phones"`
	Email    string   `json:"email,omitempty"`
	Tier     string   `json:"tier"`
	Industry string   `json:"industry,omitempty"`
	Owner    string   `json:"owner,omitempty"`
}

// ImportReport is the outcome of an import or a dry run.
type ImportReport struct {
	Format     string         `json:"format"`
	Sheet      string         `json:"sheet,omitempty"`
	Mode       string         `json:"mode"`
	DryRun     bool           `json:"dry_run"`
	Columns    []ImportColumn `json:"columns"`
	Rows       int            `json:"rows"`       // data rows read
	Valid      int            `json:"valid"`      // rows without a problem
	Created    int            `json:"created"`    // customers created (0 for a dry run)
	ErrorRows  int            `json:"error_rows"` // rows with at least one problem
	ErrorCount int            `json:"error_count"`
	Errors     []ReportError  `json:"errors"`
	Truncated  bool           `json:"truncated,omitempty"` // more errors than MaxReportErrors
	Preview    []PreviewRow   `json:"preview"`
	// FirstNumber and LastNumber are the lowest and highest numbers given
	// to the customers created.
	FirstNumber string `json:"first_number,omitempty"`
	LastNumber  string `json:"last_number,omitempty"`
}

func (r *ImportReport) addError(e RowError) {
	r.ErrorCount++
	var kept bool
	if r.Errors, kept = sheets.Keep(r.Errors, e); !kept {
		r.Truncated = true
	}
}

// errImportConflict ends the write pass of an all-or-nothing import when the
// database changed since the check and a row now conflicts.
var errImportConflict = errors.New("customers: import: a row conflicts with a change made during the import")

// Import checks an uploaded spreadsheet and, unless set.DryRun, creates its
// customers. In all-or-nothing mode (the default) nothing is created when
// any row has a problem; with set.ValidOnly the valid rows are created and
// the others reported. A file that cannot be imported at all is refused
// with a *domain.ValidationError for field "file". src is read twice.
func (s *Store) Import(ctx context.Context, src io.ReadSeeker, set ImportSettings) (ImportReport, error) {
	rep, chk, err := s.checkImport(ctx, src, set)
	if err != nil {
		return rep, err
	}
	if set.DryRun || rep.Valid == 0 || (!set.ValidOnly && rep.ErrorRows > 0) {
		return rep, nil
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return rep, fmt.Errorf("customers: import: rewind: %w", err)
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.writeImport(ctx, src, set, &rep, chk)
	})
	if errors.Is(err, errImportConflict) {
		rep.Created, rep.FirstNumber, rep.LastNumber = 0, "", ""
		return rep, nil
	}
	if err != nil {
		rep.Created, rep.FirstNumber, rep.LastNumber = 0, "", ""
		return rep, err
	}
	return rep, nil
}

// checkResult is what pass 1 hands to pass 2.
type checkResult struct {
	bad       map[int]bool   // rows with a problem: pass 2 skips them
	maxSerial map[string]int // month → highest imported serial
	owners    map[string]int64
}

// pending is a checked row waiting for its batch.
type pending struct {
	rec   ImportRecord
	row   Row
	owner int64
	errs  []RowError // found by the row checks (pass 1)
}

// checkImport is pass 1.
func (s *Store) checkImport(ctx context.Context, src io.Reader, set ImportSettings) (ImportReport, *checkResult, error) {
	rep := ImportReport{Mode: set.Mode(), DryRun: set.DryRun, Errors: []ReportError{}, Preview: []PreviewRow{}, Columns: []ImportColumn{}}
	ir, err := OpenImport(src, set.File)
	if err != nil {
		return rep, nil, err
	}
	defer ir.Close()
	h := ir.Header()
	rep.Format, rep.Sheet = ir.Format().String(), ir.Sheet()
	rep.Columns = h.Uses()
	chk := &checkResult{bad: map[int]bool{}, maxSerial: map[string]int{}, owners: map[string]int64{}}
	checker := NewRowChecker(s.clock.Now(), BusinessZone)
	phones, emails := map[string]int{}, map[string]int{}
	var batch []pending
	flush := func() error {
		probs, err := s.conflicts(ctx, batch, set.AllowDuplicates)
		if err != nil {
			return err
		}
		for _, p := range batch {
			if es := append(p.errs, probs[p.rec.Row]...); len(es) > 0 {
				chk.bad[p.rec.Row] = true
				rep.ErrorRows++
				for _, e := range es {
					rep.addError(e)
				}
				continue
			}
			rep.Valid++
			if len(rep.Preview) < 5 {
				rep.Preview = append(rep.Preview, previewOf(p.rec))
			}
			if p.rec.Number != "" {
				m, serial := p.rec.Number[:6], numberSerial(p.rec.Number)
				chk.maxSerial[m] = max(chk.maxSerial[m], serial)
			}
		}
		batch = batch[:0]
		if set.Progress != nil {
			set.Progress(PhaseChecking, rep.Rows, 0)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return rep, nil, err
		}
		row, err := ir.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rep, nil, err
		}
		rep.Rows++
		rec, errs := checker.Check(row)
		p := pending{rec: rec, row: row}
		if errs, err = s.checkRowOwner(ctx, chk, &p, errs); err != nil {
			return rep, nil, err
		}
		if !set.AllowDuplicates {
			errs = inFileDuplicates(row, rec, phones, emails, errs)
		}
		p.errs = errs
		batch = append(batch, p)
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return rep, nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, nil, err
	}
	return rep, chk, nil
}

// checkRowOwner resolves the owner cell of a row (cached per file).
func (s *Store) checkRowOwner(ctx context.Context, chk *checkResult, p *pending, errs []RowError) ([]RowError, error) {
	if p.rec.Owner == "" {
		return errs, nil
	}
	id, ok := chk.owners[p.rec.Owner]
	if !ok {
		var err error
		id, err = s.resolveOwner(ctx, p.rec.Owner)
		switch {
		case errors.Is(err, errAmbiguousOwner):
			id = -1
		case err != nil:
			return errs, err
		}
		chk.owners[p.rec.Owner] = id
	}
	col := p.row.Header.FieldColumn(FieldOwner)
	switch id {
	case 0:
		return append(errs, RowError{Row: p.rec.Row, Column: col, Key: KeyImportUnknownOwner, Params: map[string]any{"Value": p.rec.Owner}}), nil
	case -1:
		return append(errs, RowError{Row: p.rec.Row, Column: col, Key: KeyImportAmbiguousOwner, Params: map[string]any{"Value": p.rec.Owner}}), nil
	}
	p.owner = id
	return errs, nil
}

// inFileDuplicates reports a phone or email used by an earlier row.
func inFileDuplicates(row Row, rec ImportRecord, phones, emails map[string]int, errs []RowError) []RowError {
	for _, ph := range rec.Phones {
		if first, ok := phones[ph]; ok {
			errs = append(errs, RowError{Row: row.Num, Column: row.Header.FieldColumn(FieldPhone), Key: KeyImportPhoneInFile,
				Params: map[string]any{"Value": ph, "FirstRow": first}})
		}
	}
	if rec.Email != "" {
		if first, ok := emails[rec.Email]; ok {
			errs = append(errs, RowError{Row: row.Num, Column: row.Header.FieldColumn(FieldEmail), Key: KeyImportEmailInFile,
				Params: map[string]any{"Value": rec.Email, "FirstRow": first}})
		}
	}
	if len(errs) == 0 {
		// Only a row that will be imported claims its phones and email.
		for _, ph := range rec.Phones {
			phones[ph] = row.Num
		}
		if rec.Email != "" {
			emails[rec.Email] = row.Num
		}
	}
	return errs
}

func numberSerial(n string) int {
	v, _ := strconv.Atoi(n[6:])
	return v
}

func previewOf(r ImportRecord) PreviewRow {
	p := PreviewRow{Row: r.Row, Number: r.Number, Type: r.Type, Name: r.Name, Phones: r.Phones, Email: r.Email, Tier: r.Tier,
		Industry: r.Industry, Owner: r.Owner}
	if p.Type == "" {
		p.Type = TypeIndividual
	}
	if p.Tier == "" {
		p.Tier = "normal"
	}
	if p.Phones == nil {
		p.Phones = []string{}
	}
	return p
}

// writeImport is pass 2, inside the transaction of ctx.
func (s *Store) writeImport(ctx context.Context, src io.Reader, set ImportSettings, rep *ImportReport, chk *checkResult) error {
	if s.db.Dialect == db.Postgres {
		// The planner's statistics were taken before this transaction added
		// its rows: without this, the duplicate checks of later batches
		// scan the customers added by earlier ones (quadratic time).
		// Generic plans of the repeated checks are made from the same
		// stale statistics, so plan each execution.
		for _, set := range []string{`SET LOCAL enable_seqscan = off`, `SET LOCAL plan_cache_mode = force_custom_plan`} {
			if _, err := s.db.Q(ctx).ExecContext(ctx, set); err != nil {
				return fmt.Errorf("customers: import: %w", err)
			}
		}
	}
	for m, serial := range chk.maxSerial {
		if err := s.reserveNumber(ctx, m, serial); err != nil {
			return err
		}
	}
	ir, err := OpenImport(src, set.File)
	if err != nil {
		return err
	}
	defer ir.Close()
	checker := NewRowChecker(s.clock.Now(), BusinessZone)
	w := &importWriter{s: s, set: set, at: s.clock.Now(), total: rep.Valid}
	var batch []pending
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		// The database may have changed since the check.
		probs, err := s.conflicts(ctx, batch, set.AllowDuplicates)
		if err != nil {
			return err
		}
		keep := batch[:0]
		for _, p := range batch {
			if es := probs[p.rec.Row]; len(es) > 0 {
				if !set.ValidOnly {
					for _, e := range es {
						rep.addError(e)
					}
					rep.ErrorRows++
					rep.Valid--
					return errImportConflict
				}
				for _, e := range es {
					rep.addError(e)
				}
				rep.ErrorRows++
				rep.Valid--
				continue
			}
			keep = append(keep, p)
		}
		if err := w.insert(ctx, keep); err != nil {
			return err
		}
		batch = batch[:0]
		if set.Progress != nil {
			set.Progress(PhaseImporting, w.created, w.total)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, err := ir.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rec, _ := checker.Check(row)
		if chk.bad[row.Num] {
			continue
		}
		p := pending{rec: rec, row: row}
		if rec.Owner != "" {
			p.owner = chk.owners[rec.Owner]
		}
		batch = append(batch, p)
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	rep.Created, rep.FirstNumber, rep.LastNumber = w.created, w.first, w.last
	if w.created == 0 {
		return nil
	}
	changes := map[string]audit.Change{"created": {After: w.created}, "mode": {After: set.Mode()},
		"first_number": {After: w.first}, "last_number": {After: w.last}}
	if set.FileName != "" {
		changes["file"] = audit.Change{After: set.FileName}
	}
	id := ""
	if set.ImportID != 0 {
		id = strconv.FormatInt(set.ImportID, 10)
	}
	return s.audit.Record(ctx, "customer.import", "customer_import", id, changes)
}

// importWriter inserts checked rows in batches.
type importWriter struct {
	s       *Store
	set     ImportSettings
	at      time.Time
	total   int
	created int
	first   string
	last    string
}
