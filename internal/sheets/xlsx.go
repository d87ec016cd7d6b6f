package sheets

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// xlsxSource streams the rows of the only non-empty sheet of a workbook.
type xlsxSource struct {
	f        *excelize.File
	rows     *excelize.Rows
	num      int
	date1904 bool
	merges   []cellRange
}

// The size above which excelize spools a worksheet or the shared-strings table is spooled to a temporary file
// instead of kept in memory. excelize unmarshals an in-memory shared-strings
// table into structs and a map, about 13 times its XML size: a 100,000-row
// customer sheet has some 15 MB of shared strings, which would cost
// ~200 MB of heap. Spooled, it costs an offset pair per string and one
// pread per string cell (a little slower, a fraction of the memory).
// (The whole package's limit is xlsxLimits.total, see xlsxlimits.go.)
const xlsxUnzipXMLLimit = 4 << 20

// workbookXML is the part of xl/workbook.xml Careloop reads.
type workbookXML struct {
	Pr struct {
		Date1904 string `xml:"date1904,attr"`
	} `xml:"workbookPr"`
	Sheets []struct {
		Name string `xml:"name,attr"`
		RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
	} `xml:"sheets>sheet"`
}

type relsXML struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

// openXLSX checks the workbook in data against the limits for maxRows data
// rows and opens its one non-empty sheet.
func openXLSX(data []byte, tmpDir string, maxRows int) (*xlsxSource, string, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, "", refuse(KeyNotSpreadsheet, nil)
	}
	lim := limitsFor(maxRows)
	if err := lim.checkSizes(zr); err != nil {
		return nil, "", err
	}
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))] = f
	}
	var wb workbookXML
	var rels relsXML
	if err := decodePart(files, "xl/workbook.xml", &wb); err != nil {
		return nil, "", refuse(KeyNotSpreadsheet, nil)
	}
	if err := decodePart(files, "xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, "", refuse(KeyUnreadable, nil)
	}
	src := &xlsxSource{date1904: wb.Pr.Date1904 == "1" || wb.Pr.Date1904 == "true"}
	var filled []string
	var data1 sheetScan
	for _, sh := range wb.Sheets {
		part := ""
		for _, r := range rels.Rels {
			if r.ID == sh.RID && strings.HasSuffix(r.Type, "/worksheet") {
				part = resolvePart(r.Target)
			}
		}
		zf := files[strings.ToLower(part)]
		if zf == nil {
			continue // chart sheet or dialog sheet: no cells
		}
		sc, err := lim.scanSheetPart(zf)
		if err != nil {
			if IsRefusal(err) {
				return nil, "", err
			}
			return nil, "", refuse(KeyUnreadable, nil)
		}
		if sc.cells {
			filled = append(filled, sh.Name)
			data1 = sc
		}
	}
	switch {
	case len(filled) == 0:
		return nil, "", refuse(KeyEmpty, nil)
	case len(filled) > 1:
		return nil, "", refuse(KeySheets, map[string]any{"Sheets": strings.Join(filled, ", "), "Count": len(filled)})
	case data1.formulas > 0:
		return nil, "", refuse(KeyFormulas, map[string]any{
			"Sheet": filled[0], "Cell": data1.firstFormula, "Count": data1.formulas,
		})
	}
	if zf := files[xlsxSharedStringsPart]; zf != nil {
		if err := lim.scanStringsPart(zf); err != nil {
			return nil, "", err
		}
	}
	src.merges = data1.merges
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue:      true,
		UnzipSizeLimit:    lim.total,
		UnzipXMLSizeLimit: xlsxUnzipXMLLimit,
		TmpDir:            tmpDir,
	})
	if err != nil {
		return nil, "", refuse(KeyUnreadable, nil)
	}
	rows, err := f.Rows(filled[0])
	if err != nil {
		_ = f.Close()
		return nil, "", refuse(KeyUnreadable, nil)
	}
	src.f, src.rows = f, rows
	return src, filled[0], nil
}

// decodePart unmarshals the zip part named name (lower case) into v.
func decodePart(files map[string]*zip.File, name string, v any) error {
	zf := files[name]
	if zf == nil {
		return fmt.Errorf("no part %s", name)
	}
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer rc.Close()
	if err := xml.NewDecoder(io.LimitReader(rc, 8<<20)).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", name, err)
	}
	return nil
}

// resolvePart turns a relationship target of xl/workbook.xml into a
// package part name.
func resolvePart(target string) string {
	if strings.HasPrefix(target, "/") {
		return path.Clean(target[1:])
	}
	return path.Clean(path.Join("xl", target))
}

func (s *xlsxSource) next() (int, []string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			if errors.Is(err, excelize.ErrMaxRows) {
				return 0, nil, refuse(KeyTooManyRows, map[string]any{"Max": excelize.TotalRows})
			}
			return 0, nil, refuse(KeyUnreadable, nil)
		}
		return 0, nil, io.EOF
	}
	s.num++
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return 0, nil, refuse(KeyUnreadable, map[string]any{"Row": s.num})
	}
	return s.num, cells, nil
}

func (s *xlsxSource) close() error {
	err := s.rows.Close()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// PlainNumber rewrites a raw numeric value in E notation ("1.3912345678E10",
// as some tools store long numbers) as the integer it denotes, when it is
// one of at most 15 digits; every other value is returned as is. Only
// digit-only fields of XLSX rows go through it: a text cell "2E10" in a
// product column is a model name, not a number.
func PlainNumber(s string) string {
	e := strings.IndexAny(s, "Ee")
	if e <= 0 || len(s) > 32 || s[0] < '0' || s[0] > '9' {
		return s
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != float64(int64(v)) || v >= 1e15 || v < 0 {
		return s
	}
	return strconv.FormatInt(int64(v), 10)
}

// checkMerges refuses merged cells on or below the header row: a merged
// header hides which column is which, merged data cells leave all but one
// of their cells empty. Merges in title rows above the header are fine.
func (s *xlsxSource) checkMerges(headerRow int) error {
	var header, data []string
	for _, m := range s.merges {
		switch {
		case m.lastRow < headerRow:
		case m.firstRow <= headerRow:
			header = append(header, m.ref)
		default:
			data = append(data, m.ref)
		}
	}
	if len(header) > 0 {
		return refuse(KeyMergedHeader, map[string]any{"Cells": firstFew(header)})
	}
	if len(data) > 0 {
		return refuse(KeyMergedCells, map[string]any{"Cells": firstFew(data), "Count": len(data)})
	}
	return nil
}

func firstFew(refs []string) string {
	if len(refs) > 5 {
		return strings.Join(refs[:5], ", ") + ", …"
	}
	return strings.Join(refs, ", ")
}

// excelDate converts an Excel serial date in the workbook's date system.
func excelDate(serial float64, date1904 bool) (time.Time, error) {
	return excelize.ExcelDateToTime(serial, date1904)
}
