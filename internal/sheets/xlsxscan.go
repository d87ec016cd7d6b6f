package sheets

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// cellRange is a merged range of a worksheet.
type cellRange struct {
	ref               string // as written: "A1:D1"
	firstRow, lastRow int
}

// sheetScan is what one pass over a worksheet's XML found.
type sheetScan struct {
	cells        bool // some cell has a value, inline string or formula
	formulas     int
	firstFormula string // reference of the first formula cell, e.g. "C5"
	merges       []cellRange
}

// scanSheetPart reads a worksheet part once, as bytes, looking only at tag
// names: <v>, <is> and <f> inside <sheetData>, and <mergeCell ref>.
// excelize's streaming Rows does not expose formulas, and GetMergeCells
// loads the whole sheet; this pass costs a fraction of reading the rows. It
// also enforces the limits that excelize's reader does not have (xlsxlimits.go):
// the length of one text or tag and the filled cells of one row. A refusal is
// an import error; any other error means the part cannot be read.
func (l xlsxLimits) scanSheetPart(zf *zip.File) (sheetScan, error) {
	var sc sheetScan
	rc, err := zf.Open()
	if err != nil {
		return sc, err
	}
	defer rc.Close()
	tr := newTokenReader(rc)
	var (
		inData        bool
		row, col      int
		rowCells      int
		ref           []byte
		refBuf        [16]byte
		commentOrData = []byte("!--")
	)
	end := func(err error) (sheetScan, error) {
		if errors.Is(err, io.EOF) {
			return sc, nil
		}
		if errors.Is(err, errTokenTooLong) {
			return sc, l.textTooLong(zf.Name)
		}
		return sc, err
	}
	for {
		if _, err := tr.until('<'); err != nil {
			return end(err)
		}
		tag, err := tr.until('>')
		if err != nil {
			return end(err)
		}
		if bytes.HasPrefix(tag, commentOrData) || bytes.HasPrefix(tag, []byte("![CDATA[")) {
			// A comment or CDATA section may hold '>'; excelize's decoder
			// keeps it whole, so its whole length counts.
			closing := []byte("-->")
			if tag[1] == '[' {
				closing = []byte("]]>")
			}
			n := len(tag)
			for !bytes.HasSuffix(tag, closing) {
				if tag, err = tr.until('>'); err != nil {
					return end(err)
				}
				if n += len(tag); n > xlsxMaxToken {
					return end(errTokenTooLong)
				}
			}
			continue
		}
		name, closing := tagName(tag)
		if closing {
			if string(name) == "sheetData" {
				inData = false
			}
			continue
		}
		switch string(name) {
		case "sheetData":
			inData = !bytes.HasSuffix(tag, []byte("/>"))
		case "row":
			if !inData {
				continue
			}
			if r, ok := attr(tag, "r"); ok {
				row, _ = strconv.Atoi(string(r))
			} else {
				row++
			}
			col, rowCells = 0, 0
		case "c":
			if !inData {
				continue
			}
			col++
			ref = ref[:0]
			if r, ok := attr(tag, "r"); ok && len(r) <= len(refBuf) {
				ref = append(refBuf[:0], r...)
			}
		case "v", "is":
			if !inData {
				continue
			}
			sc.cells = true
			if rowCells++; rowCells > xlsxMaxRowCells {
				return sc, refuse(KeyRowTooWide, map[string]any{"Row": max(row, 1), "Max": xlsxMaxRowCells})
			}
		case "f":
			if !inData {
				continue
			}
			sc.cells = true
			sc.formulas++
			if sc.formulas == 1 {
				sc.firstFormula = string(ref)
				if len(ref) == 0 {
					sc.firstFormula, _ = excelize.CoordinatesToCellName(max(col, 1), max(row, 1))
				}
			}
		case "mergeCell":
			if r, ok := attr(tag, "ref"); ok {
				sc.merges = append(sc.merges, parseRange(string(r)))
			}
		}
	}
}

// tagName returns the local name of the tag whose text (after '<') is tag,
// and whether it is a closing tag.
func tagName(tag []byte) ([]byte, bool) {
	closing := len(tag) > 0 && tag[0] == '/'
	if closing {
		tag = tag[1:]
	}
	end := 0
	for end < len(tag) {
		c := tag[end]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/' || c == '>' {
			break
		}
		end++
	}
	name := tag[:end]
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	return name, closing
}

// attr returns the value of the attribute called name in a tag's text.
func attr(tag []byte, name string) ([]byte, bool) {
	for i := 0; i < len(tag); {
		j := bytes.Index(tag[i:], []byte(name))
		if j < 0 {
			return nil, false
		}
		j += i
		k := j + len(name)
		if j > 0 && isXMLSpace(tag[j-1]) && k+1 < len(tag) && tag[k] == '=' && (tag[k+1] == '"' || tag[k+1] == '\'') {
			q := tag[k+1]
			v := tag[k+2:]
			if e := bytes.IndexByte(v, q); e >= 0 {
				return v[:e], true
			}
			return nil, false
		}
		i = k
	}
	return nil, false
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// parseRange reads the rows of a range reference like "A1:D2" or "B3".
func parseRange(ref string) cellRange {
	cr := cellRange{ref: ref}
	first, last := ref, ref
	for i := 0; i < len(ref); i++ {
		if ref[i] == ':' {
			first, last = ref[:i], ref[i+1:]
			break
		}
	}
	cr.firstRow, cr.lastRow = refRow(first), refRow(last)
	if cr.lastRow < cr.firstRow {
		cr.firstRow, cr.lastRow = cr.lastRow, cr.firstRow
	}
	return cr
}

// refRow returns the row number of a cell reference ("$C$12" → 12).
func refRow(ref string) int {
	n := 0
	for i := 0; i < len(ref); i++ {
		if c := ref[i]; c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
		}
	}
	return n
}
