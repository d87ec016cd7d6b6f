package sheets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"

	"github.com/careloop/careloop/internal/domain"
)

// Format is the format of a spreadsheet file, detected from its content.
type Format uint8

// The formats.
const (
	FormatCSV  Format = iota + 1 // delimited text: comma, tab or semicolon
	FormatXLSX                   // Office Open XML workbook
)

// String returns "csv" or "xlsx".
func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatXLSX:
		return "xlsx"
	}
	return "unknown"
}

// ParseFormat reads "csv" or "xlsx".
func ParseFormat(s string) (Format, bool) {
	switch s {
	case "csv":
		return FormatCSV, true
	case "xlsx":
		return FormatXLSX, true
	}
	return 0, false
}

// Reading limits.
const (
	// DefaultMaxRows is the default limit of data rows in one file.
	DefaultMaxRows = 200_000
	// DefaultMaxBytes is the default limit of a file's size.
	DefaultMaxBytes = 64 << 20
	// maxLeadRows is how many rows may precede and include the header
	// (blank rows and one-cell title rows such as "客户关怀记录表").
	maxLeadRows = 10
)

// Options limit what Open accepts. Zero values mean defaults.
type Options struct {
	MaxRows  int   // data rows (not counting header, title and blank rows)
	MaxBytes int64 // size of the uploaded file
	// TempDir is where large XLSX parts are spooled while reading ("" =
	// os.TempDir()); Close removes them.
	TempDir string
}

// Catalog keys of file-level refusals (field "file"). They are the
// "import.*" keys of the message catalog: every domain's import shows the
// same words for the same problem.
const (
	KeyEmpty           = "import.empty_file"
	KeyNotSpreadsheet  = "import.not_spreadsheet"
	KeyXLS             = "import.xls_unsupported"
	KeyUnreadable      = "import.unreadable"
	KeyTooLarge        = "import.too_large"
	KeySheets          = "import.multiple_sheets"
	KeyFormulas        = "import.formulas"
	KeyMergedHeader    = "import.merged_header"
	KeyMergedCells     = "import.merged_cells"
	KeyTooManyRows     = "import.too_many_rows"
	KeyCSVQuote        = "import.csv_quote"
	KeyCSVInvalid      = "import.csv_invalid"
	KeyEncoding        = "import.encoding"
	KeyNoHeader        = "import.no_header"
	KeyDuplicateColumn = "import.duplicate_column"
)

// FileField is the field of every file-level refusal.
const FileField = "file"

func refuse(key string, params map[string]any) error {
	return fmt.Errorf("sheets: %w", domain.Invalid(FileField, key, params))
}

// IsRefusal tells a refusal for the user (a *domain.ValidationError) from
// a failure to read.
func IsRefusal(err error) bool {
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

// Reader reads the data rows of an uploaded spreadsheet, one at a time,
// under the header that schema recognised. It is not safe for concurrent
// use.
type Reader[F Field] struct {
	src     rowSource
	schema  *Schema[F]
	header  *Header[F]
	sheet   string
	maxRows int
	rows    int
	err     error
}

// Open detects the format of an uploaded spreadsheet (XLSX by its zip
// signature, otherwise CSV text in UTF-8, UTF-16 with BOM or GB18030/GBK),
// checks it and reads up to its header row, the first row that names a
// column of schema. Files that cannot be read whole are refused with a
// *domain.ValidationError for field "file". The caller must Close the
// reader.
func Open[F Field](r io.Reader, opts Options, schema *Schema[F]) (*Reader[F], error) {
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
		return nil, fmt.Errorf("sheets: read: %w", err)
	}
	rd := &Reader[F]{schema: schema, maxRows: opts.MaxRows}
	switch {
	case len(head) == 0:
		return nil, refuse(KeyEmpty, nil)
	case bytes.HasPrefix(head, zipMagic):
		data, err := io.ReadAll(br)
		if err != nil {
			return nil, lr.wrap(err, opts.MaxBytes)
		}
		src, sheet, err := openXLSX(data, opts.TempDir, opts.MaxRows)
		if err != nil {
			return nil, err
		}
		rd.src, rd.sheet = src, sheet
	case bytes.Equal(head, oleMagic):
		return nil, refuse(KeyXLS, nil)
	default:
		src, err := openCSV(br, lr, opts.MaxBytes)
		if err != nil {
			return nil, err
		}
		rd.src = src
	}
	if err := rd.readHeader(); err != nil {
		_ = rd.src.close()
		return nil, err
	}
	return rd, nil
}

// Format returns the detected file format.
func (rd *Reader[F]) Format() Format { return rd.header.Format }

// Header returns the column mapping.
func (rd *Reader[F]) Header() *Header[F] { return rd.header }

// Sheet returns the name of the XLSX sheet read, "" for CSV.
func (rd *Reader[F]) Sheet() string { return rd.sheet }

// Next returns the next non-blank data row, io.EOF after the last, or an
// error that ends the reading (too many rows, broken CSV, unreadable file).
// Rows returned stay valid after later calls.
func (rd *Reader[F]) Next() (Row[F], error) {
	if rd.err != nil {
		return Row[F]{}, rd.err
	}
	for {
		num, cells, err := rd.src.next()
		if err != nil {
			rd.err = err
			return Row[F]{}, err
		}
		if isBlank(cells) {
			continue
		}
		rd.rows++
		if rd.rows > rd.maxRows {
			rd.err = refuse(KeyTooManyRows, map[string]any{"Max": rd.maxRows})
			return Row[F]{}, rd.err
		}
		return Row[F]{Num: num, Cells: cells, Header: rd.header}, nil
	}
}

// Rows yields the data rows as Next returns them, until io.EOF (not
// yielded) or the error that ends the reading (yielded once, last).
func (rd *Reader[F]) Rows() iter.Seq2[Row[F], error] {
	return func(yield func(Row[F], error) bool) {
		for {
			r, err := rd.Next()
			if errors.Is(err, io.EOF) || !yield(r, err) || err != nil {
				return
			}
		}
	}
}

// Close releases the file (excelize may hold temporary files).
func (rd *Reader[F]) Close() error {
	if rd.src == nil {
		return nil
	}
	err := rd.src.close()
	rd.src = nil
	if err != nil {
		return fmt.Errorf("sheets: close: %w", err)
	}
	return nil
}

// readHeader skips blank and one-cell title rows and maps the first row
// that names at least one column of the schema.
func (rd *Reader[F]) readHeader() error {
	for range maxLeadRows {
		num, cells, err := rd.src.next()
		if errors.Is(err, io.EOF) {
			return refuse(KeyEmpty, nil)
		}
		if err != nil {
			return err
		}
		filled := nonEmptyCells(cells)
		known := rd.schema.recognised(cells)
		switch {
		case len(filled) == 0:
			continue
		case known == 0 && len(filled) == 1:
			continue // a title row
		case known == 0:
			return refuse(KeyNoHeader, map[string]any{"Found": strings.Join(filled, ", ")})
		}
		h, dups := rd.schema.Match(num, cells)
		if len(dups) > 0 {
			return refuse(KeyDuplicateColumn, map[string]any{"Column": dups[0][0], "Other": dups[0][1]})
		}
		if key := rd.schema.missingKey(h); key != "" {
			return refuse(key, nil)
		}
		h.Format = FormatCSV
		if xs, ok := rd.src.(*xlsxSource); ok {
			h.Format, h.Date1904 = FormatXLSX, xs.date1904
			if err := xs.checkMerges(num); err != nil {
				return err
			}
		}
		rd.header = h
		return nil
	}
	return refuse(KeyNoHeader, map[string]any{"Found": ""})
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

// wrap turns a read error into the refusal the user should see.
func (l *limitReader) wrap(err error, maxBytes int64) error {
	if errors.Is(err, errTooLarge) {
		return refuse(KeyTooLarge, map[string]any{"MaxMB": maxBytes >> 20})
	}
	return fmt.Errorf("sheets: read: %w", err)
}
