package sheets

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// Formula injection (OWASP "CSV Injection"): a spreadsheet program executes
// a cell that begins with = + - @ (and, after its own trimming, tab or
// carriage return) as a formula, which can run commands (DDE) or send data
// away (HYPERLINK, WEBSERVICE). Exports therefore follow the OWASP rule:
//
//   - CSV: every cell that begins with = + - @ TAB (0x09) or CR (0x0D) gets
//     a leading apostrophe ('), which Excel and WPS take as "this is text"
//     and LibreOffice shows harmlessly; embedded quotes are doubled and
//     cells with separators, quotes or line breaks are quoted (encoding/csv).
//     Cells that are plain decimal numbers ("-12.50", "+86") are left as
//     they are: a number cannot be a formula, and mangling negative amounts
//     would be a bug of its own.
//   - XLSX: cells are written as typed string cells (inline strings), never
//     as formulas, so nothing in them is evaluated and no apostrophe is
//     added; the value reads back exactly as stored.
//
// Import refuses formula-like input (validation.formula_like) instead of
// neutralising it, so what Careloop stores never needs the apostrophe
// stripped again.

// NeutralizeCell applies the CSV rule above to one cell.
func NeutralizeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if isPlainDecimal(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// isPlainDecimal reports whether s is [+-]digits[.digits].
func isPlainDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot = true
			digits = 0
		default:
			return false
		}
	}
	return digits > 0
}

// utf8BOM makes Excel read a CSV file as UTF-8; without it Excel in China
// assumes GBK and shows Chinese as mojibake.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// CSVWriter writes a sheet as CSV for Excel: UTF-8 with BOM, CRLF line
// ends, formula-like cells neutralised.
type CSVWriter struct {
	w   *csv.Writer
	rec []string
}

// NewCSVWriter writes the BOM to w and returns a writer for the records.
func NewCSVWriter(w io.Writer) (*CSVWriter, error) {
	if _, err := w.Write(utf8BOM); err != nil {
		return nil, fmt.Errorf("sheets: write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &CSVWriter{w: cw}, nil
}

// Write writes one record, neutralising each cell.
func (c *CSVWriter) Write(cells []string) error {
	c.rec = c.rec[:0]
	for _, s := range cells {
		c.rec = append(c.rec, NeutralizeCell(s))
	}
	if err := c.w.Write(c.rec); err != nil {
		return fmt.Errorf("sheets: write csv: %w", err)
	}
	return nil
}

// Flush writes buffered records to the underlying writer.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("sheets: write csv: %w", err)
	}
	return nil
}

// XLSXWriter writes a one-sheet workbook through excelize's
// StreamWriter: rows go to a temporary file, not memory. Cells are typed
// strings. Call WriteTo once, then Close (Close is safe after errors).
type XLSXWriter struct {
	f    *excelize.File
	sw   *excelize.StreamWriter
	row  int
	vals []any
	bold int
}

// NewXLSXWriter starts a workbook whose only sheet is called sheet
// ("Sheet1" if empty).
func NewXLSXWriter(sheet string) (*XLSXWriter, error) {
	f := excelize.NewFile()
	x := &XLSXWriter{f: f}
	if sheet == "" {
		sheet = "Sheet1"
	}
	if sheet != "Sheet1" {
		if err := f.SetSheetName("Sheet1", sheet); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("sheets: write xlsx: sheet name: %w", err)
		}
	}
	var err error
	if x.bold, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sheets: write xlsx: style: %w", err)
	}
	if x.sw, err = f.NewStreamWriter(sheet); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sheets: write xlsx: %w", err)
	}
	return x, nil
}

// WriteHeader writes the header row in bold and freezes it. It must come
// before any Write.
func (x *XLSXWriter) WriteHeader(cells []string) error {
	if x.row != 0 {
		return fmt.Errorf("sheets: write xlsx: header after row %d", x.row)
	}
	if err := x.sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
	}); err != nil {
		return fmt.Errorf("sheets: write xlsx: freeze header: %w", err)
	}
	for i := range cells {
		width := float64(max(10, min(50, 2*len([]rune(cells[i]))+4)))
		if err := x.sw.SetColWidth(i+1, i+1, width); err != nil {
			return fmt.Errorf("sheets: write xlsx: column width: %w", err)
		}
	}
	x.vals = x.vals[:0]
	for _, s := range cells {
		x.vals = append(x.vals, excelize.Cell{StyleID: x.bold, Value: s})
	}
	return x.setRow()
}

// Write writes one data row of string cells.
func (x *XLSXWriter) Write(cells []string) error {
	x.vals = x.vals[:0]
	for _, s := range cells {
		x.vals = append(x.vals, s)
	}
	return x.setRow()
}

func (x *XLSXWriter) setRow() error {
	x.row++
	cell, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return fmt.Errorf("sheets: write xlsx: row %d: %w", x.row, err)
	}
	if err := x.sw.SetRow(cell, x.vals); err != nil {
		return fmt.Errorf("sheets: write xlsx: row %d: %w", x.row, err)
	}
	return nil
}

// WriteTo finishes the workbook and writes it to w.
func (x *XLSXWriter) WriteTo(w io.Writer) (int64, error) {
	if err := x.sw.Flush(); err != nil {
		return 0, fmt.Errorf("sheets: write xlsx: flush: %w", err)
	}
	n, err := x.f.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("sheets: write xlsx: write: %w", err)
	}
	return n, nil
}

// Close removes the writer's temporary files.
func (x *XLSXWriter) Close() error {
	if err := x.f.Close(); err != nil {
		return fmt.Errorf("sheets: write xlsx: close: %w", err)
	}
	return nil
}
