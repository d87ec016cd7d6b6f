package sheets

import (
	"fmt"
	"io"
)

// Heading is one column of an export: the key the domain fills it by and
// the header text shown (in the reader's language).
type Heading struct {
	Key  string
	Text string
}

// Writer writes an export as CSV or XLSX with a fixed column order: the
// header row first (bold and frozen in XLSX), then one row per Write or
// WriteRecord. CSV goes to the destination as it is written; XLSX rows are
// spooled to a temporary file and the workbook goes out on Finish. Call
// Finish once, then Close (Close is safe after errors and removes the
// temporary files).
type Writer struct {
	csv   *CSVWriter
	xlsx  *XLSXWriter
	dst   io.Writer
	keys  []string
	cells []string
}

// NewWriter starts an export to dst in format with the columns cols, in
// that order; sheet names the XLSX sheet ("Sheet1" if empty). It writes the
// header row.
func NewWriter(dst io.Writer, format Format, sheet string, cols []Heading) (*Writer, error) {
	w := &Writer{dst: dst, keys: make([]string, len(cols)), cells: make([]string, len(cols))}
	texts := make([]string, len(cols))
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if seen[c.Key] {
			return nil, fmt.Errorf("sheets: column %q twice", c.Key)
		}
		seen[c.Key] = true
		w.keys[i], texts[i] = c.Key, c.Text
	}
	var err error
	switch format {
	case FormatCSV:
		if w.csv, err = NewCSVWriter(dst); err != nil {
			return nil, err
		}
		err = w.csv.Write(texts)
	case FormatXLSX:
		if w.xlsx, err = NewXLSXWriter(sheet); err != nil {
			return nil, err
		}
		if err = w.xlsx.WriteHeader(texts); err != nil {
			_ = w.xlsx.Close()
		}
	default:
		return nil, fmt.Errorf("sheets: no writer for format %d", format)
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Write writes one row whose cells are in the column order.
func (w *Writer) Write(cells []string) error {
	if w.csv != nil {
		return w.csv.Write(cells)
	}
	return w.xlsx.Write(cells)
}

// WriteRecord writes one row, asking value for the cell of each column by
// its key, so the domain's record type never depends on the column order
// of a template.
func (w *Writer) WriteRecord(value func(key string) string) error {
	for i, k := range w.keys {
		w.cells[i] = value(k)
	}
	return w.Write(w.cells)
}

// Finish writes what is buffered: the CSV writer's last rows, or the whole
// workbook.
func (w *Writer) Finish() error {
	if w.csv != nil {
		return w.csv.Flush()
	}
	_, err := w.xlsx.WriteTo(w.dst)
	return err
}

// Close releases the XLSX writer's temporary files.
func (w *Writer) Close() error {
	if w.xlsx != nil {
		return w.xlsx.Close()
	}
	return nil
}
