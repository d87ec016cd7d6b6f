package customers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/careloop/careloop/internal/domain"
)

// FileFormat is the format of an import file, detected from its content.
type FileFormat uint8

// The import formats.
const (
	FormatCSV  FileFormat = iota + 1 // delimited text: comma, tab or semicolon
	FormatXLSX                       // Office Open XML workbook
)

// String returns "csv" or "xlsx".
func (f FileFormat) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatXLSX:
		return "xlsx"
	}
	return "unknown"
}

// Import limits.
const (
	// DefaultMaxRows is the default limit of data rows in one import.
	DefaultMaxRows = 200_000
	// DefaultMaxBytes is the default limit of an uploaded file's size.
	DefaultMaxBytes = 64 << 20
	// maxLeadRows is how many rows may precede and include the header
	// (blank rows and one-cell title rows such as "客户关怀记录表").
	maxLeadRows = 10
)

// ImportOptions limit what OpenImport accepts. Zero values mean defaults.
type ImportOptions struct {
	MaxRows  int   // data rows (not counting header, title and blank rows)
	MaxBytes int64 // size of the uploaded file
	// TempDir is where large XLSX parts are spooled while reading ("" =
	// os.TempDir()); Close removes them.
	TempDir string
}

// Catalog keys of file-level import errors (field "file").
const (
	KeyImportEmpty           = "import.empty_file"
	KeyImportNotSpreadsheet  = "import.not_spreadsheet"
	KeyImportXLS             = "import.xls_unsupported"
	KeyImportUnreadable      = "import.unreadable"
	KeyImportTooLarge        = "import.too_large"
	KeyImportSheets          = "import.multiple_sheets"
	KeyImportFormulas        = "import.formulas"
	KeyImportMergedHeader    = "import.merged_header"
	KeyImportMergedCells     = "import.merged_cells"
	KeyImportTooManyRows     = "import.too_many_rows"
	KeyImportCSVQuote        = "import.csv_quote"
	KeyImportCSVInvalid      = "import.csv_invalid"
	KeyImportEncoding        = "import.encoding"
	KeyImportNoHeader        = "import.no_header"
	KeyImportNoNameColumn    = "import.no_name_column"
	KeyImportDuplicateColumn = "import.duplicate_column"
)

const fileField = "file"

func importErr(key string, params map[string]any) error {
	return fmt.Errorf("customers: import: %w", domain.Invalid(fileField, key, params))
}

// isImportErr tells a refusal for the user from a failure to read.
func isImportErr(err error) bool {
	var v *domain.ValidationError
	return errors.As(err, &v)
}

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls, encrypted .xlsx
)

// rowSource yields the rows of one sheet in order, with their spreadsheet
// row numbers, and io.EOF after the last.
type rowSource interface {
	next() (num int, cells []string, err error)
	close() error
}

// ImportReader reads the data rows of an uploaded customer spreadsheet, one
// at a time. It is not safe for concurrent use.
type ImportReader struct {
	src     rowSource
	header  *Header
	sheet   string
	maxRows int
	rows    int
	err     error
}

// Row is one data row of an import file.
type Row struct {
	// Num is the row number as the spreadsheet shows it (header = 1).
	Num int
	// Cells are the raw cell values by column index; a row may be shorter
	// than the header. XLSX values are raw: dates are serial numbers.
	Cells []string
	// Header maps the columns.
	Header *Header
}

// Cell returns the raw value of column i, "" when the row is shorter.
func (r Row) Cell(i int) string {
	if i >= 0 && i < len(r.Cells) {
		return r.Cells[i]
	}
	return ""
}

// Value returns the trimmed value of the first non-empty column holding f.
func (r Row) Value(f Field) string {
	for _, i := range r.Header.Columns(f) {
		if v := strings.TrimSpace(r.Cell(i)); v != "" {
			return v
		}
	}
	return ""
}

// OpenImport detects the format of an uploaded spreadsheet (XLSX by its zip
// signature, otherwise CSV text in UTF-8, UTF-16 with BOM or GB18030/GBK),
// checks it and reads up to its header row. Files that cannot be imported
// whole are refused with a *domain.ValidationError for field "file". The
// caller must Close the reader.
func OpenImport(r io.Reader, opts ImportOptions) (*ImportReader, error) {
	if opts.MaxRows <= 0 {
		opts.MaxRows = DefaultMaxRows
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	lr := &limitReader{r: r, left: opts.MaxBytes}
	br := bufio.NewReaderSize(lr, 64<<10)
	head, err := br.Peek(len(oleMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("customers: import: read: %w", err)
	}
	ir := &ImportReader{maxRows: opts.MaxRows}
	switch {
	case len(head) == 0:
		return nil, importErr(KeyImportEmpty, nil)
	case bytes.HasPrefix(head, zipMagic):
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, lr.wrap(err, opts.MaxBytes)
		}
		src, sheet, err := openXLSX(data, opts.TempDir, opts.MaxRows)
		if err != nil {
			return nil, err
		}
		ir.src, ir.sheet = src, sheet
	case bytes.Equal(head, oleMagic):
		return nil, importErr(KeyImportXLS, nil)
	default:
		src, err := openCSV(br, lr, opts.MaxBytes)
		if err != nil {
			return nil, err
		}
		ir.src = src
	}
	if err := ir.readHeader(); err != nil {
		_ = ir.src.close()
		return nil, err
	}
	return ir, nil
}

// Format returns the detected file format.
func (ir *ImportReader) Format() FileFormat { return ir.header.Format }

// Header returns the column mapping.
func (ir *ImportReader) Header() *Header { return ir.header }

// Sheet returns the name of the XLSX sheet read, "" for CSV.
func (ir *ImportReader) Sheet() string { return ir.sheet }

// Next returns the next non-blank data row, io.EOF after the last, or an
// error that ends the import (too many rows, broken CSV, unreadable file).
// Rows returned stay valid after later calls.
func (ir *ImportReader) Next() (Row, error) {
	if ir.err != nil {
		return Row{}, ir.err
	}
	for {
		num, cells, err := ir.src.next()
		if err != nil {
			ir.err = err
			return Row{}, err
		}
		if isBlank(cells) {
			continue
		}
		ir.rows++
		if ir.rows > ir.maxRows {
			ir.err = importErr(KeyImportTooManyRows, map[string]any{"Max": ir.maxRows})
			return Row{}, ir.err
		}
		return Row{Num: num, Cells: cells, Header: ir.header}, nil
	}
}

// Close releases the file (excelize may hold temporary files).
func (ir *ImportReader) Close() error {
	if ir.src == nil {
		return nil
	}
	err := ir.src.close()
	ir.src = nil
	if err != nil {
		return fmt.Errorf("customers: import: close: %w", err)
	}
	return nil
}

// readHeader skips blank and one-cell title rows and maps the first row
// that names at least one field.
func (ir *ImportReader) readHeader() error {
	for range maxLeadRows {
		num, cells, err := ir.src.next()
		if errors.Is(err, io.EOF) {
			return importErr(KeyImportEmpty, nil)
		}
		if err != nil {
			return err
		}
		filled := nonEmptyCells(cells)
		switch {
		case len(filled) == 0:
			continue
		case recognised(cells) == 0 && len(filled) == 1:
			continue // a title row
		case recognised(cells) == 0:
			return importErr(KeyImportNoHeader, map[string]any{"Found": strings.Join(filled, ", ")})
		}
		h, dups := newHeader(num, cells)
		if len(dups) > 0 {
			return importErr(KeyImportDuplicateColumn, map[string]any{"Column": dups[0][0], "Other": dups[0][1]})
		}
		if !h.Has(FieldName) {
			return importErr(KeyImportNoNameColumn, nil)
		}
		h.Format = FormatCSV
		if xs, ok := ir.src.(*xlsxSource); ok {
			h.Format, h.Date1904 = FormatXLSX, xs.date1904
			if err := xs.checkMerges(num); err != nil {
				return err
			}
		}
		ir.header = h
		return nil
	}
	return importErr(KeyImportNoHeader, map[string]any{"Found": ""})
}

func isBlank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func nonEmptyCells(cells []string) []string {
	var out []string
	for _, c := range cells {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// limitReader reads at most left bytes and then fails with errTooLarge, so
// an oversized upload is refused instead of truncated.
type limitReader struct {
	r    io.Reader
	left int64
}

var errTooLarge = errors.New("file too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe for one more byte: at exactly the limit the file may end.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// wrap turns a read error into the import error the user should see.
func (l *limitReader) wrap(err error, maxBytes int64) error {
	if errors.Is(err, errTooLarge) {
		return importErr(KeyImportTooLarge, map[string]any{"MaxMB": maxBytes >> 20})
	}
	return fmt.Errorf("customers: import: read: %w", err)
}
