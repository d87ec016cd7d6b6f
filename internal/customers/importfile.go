package customers

import (
	"fmt"
	"io"

	"github.com/careloop/careloop/internal/sheets"
)

// Reading a customer spreadsheet is internal/sheets' work (formats,
// encodings, the workbook limits, header and row numbers); this file names
// what customers use of it.

// FileFormat is the format of an import file, detected from its content.
type FileFormat = sheets.Format

// The import formats.
const (
	FormatCSV  = sheets.FormatCSV  // delimited text: comma, tab or semicolon
	FormatXLSX = sheets.FormatXLSX // Office Open XML workbook
)

// Import limits.
const (
	// DefaultMaxRows is the default limit of data rows in one import.
	DefaultMaxRows = sheets.DefaultMaxRows
	// DefaultMaxBytes is the default limit of an uploaded file's size.
	DefaultMaxBytes = sheets.DefaultMaxBytes
)

// ImportOptions limit what OpenImport accepts. Zero values mean defaults.
type ImportOptions = sheets.Options

// Catalog keys of file-level import errors (field "file"): the refusals of
// internal/sheets, and the customer file's own.
const (
	KeyImportEmpty           = sheets.KeyEmpty
	KeyImportNotSpreadsheet  = sheets.KeyNotSpreadsheet
	KeyImportXLS             = sheets.KeyXLS
	KeyImportUnreadable      = sheets.KeyUnreadable
	KeyImportTooLarge        = sheets.KeyTooLarge
	KeyImportSheets          = sheets.KeySheets
	KeyImportFormulas        = sheets.KeyFormulas
	KeyImportMergedHeader    = sheets.KeyMergedHeader
	KeyImportMergedCells     = sheets.KeyMergedCells
	KeyImportTooManyRows     = sheets.KeyTooManyRows
	KeyImportCSVQuote        = sheets.KeyCSVQuote
	KeyImportCSVInvalid      = sheets.KeyCSVInvalid
	KeyImportEncoding        = sheets.KeyEncoding
	KeyImportNoHeader        = sheets.KeyNoHeader
	KeyImportDuplicateColumn = sheets.KeyDuplicateColumn
	KeyImportPartTooLarge    = sheets.KeyPartTooLarge
	KeyImportUnpackedTooBig  = sheets.KeyUnpackedTooBig
	KeyImportCompression     = sheets.KeyCompression
	KeyImportTextTooLong     = sheets.KeyTextTooLong
	KeyImportRowTooWide      = sheets.KeyRowTooWide
	KeyImportTooManyStrings  = sheets.KeyTooManyStrings
	KeyImportNoNameColumn    = "import.no_name_column"
)

// ImportReader reads the data rows of an uploaded customer spreadsheet, one
// at a time. It is not safe for concurrent use.
type ImportReader = sheets.Reader[Field]

// Row is one data row of an import file.
type Row = sheets.Row[Field]

// OpenImport opens an uploaded customer spreadsheet (sheets.Open: XLSX, or
// CSV in UTF-8, UTF-16 with BOM or GB18030/GBK), checks it and reads up to
// its header row, which must have a name column. Files that cannot be
// imported whole are refused with a *domain.ValidationError for field
// "file". The caller must Close the reader.
func OpenImport(r io.Reader, opts ImportOptions) (*ImportReader, error) {
	ir, err := sheets.Open(r, opts, customerSchema)
	if err != nil {
		return nil, fmt.Errorf("customers: import: %w", err)
	}
	return ir, nil
}
