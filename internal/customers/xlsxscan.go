package customers

import (
	"archive/zip"
	"bufio"
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
// loads the whole sheet; this pass costs a fraction of reading the rows.
func scanSheetPart(zf *zip.File) (sheetScan, error) {
	var sc sheetScan
	rc, err := zf.Open()
	if err != nil {
		return sc, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	var (
		inData   bool
		row, col int
		ref      []byte
		refBuf   [16]byte
	)
	for {
		if _, err := br.ReadSlice('<'); err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if errors.Is(err, io.EOF) {
				return sc, nil
			}
			return sc, err
		}
		tag, err := br.ReadSlice('>')
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) { // a huge tag: skip it
				_, err = br.ReadSlice('>')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return sc, err
			}
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return sc, nil
			}
			return sc, err
		}
		if bytes.HasPrefix(tag, []byte("!--")) || bytes.HasPrefix(tag, []byte("![CDATA[")) {
			end := []byte("-->")
			if tag[1] == '[' {
				end = []byte("]]>")
			}
			for !bytes.HasSuffix(tag, end) {
				if tag, err = br.ReadSlice('>'); err != nil && !errors.Is(err, bufio.ErrBufferFull) {
					return sc, nil
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
			col = 0
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
			if inData {
				sc.cells = true
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
