package sheets

import (
	"archive/zip"
	"bufio"
	"errors"
	"io"
	"strings"
)

// Limits that keep a small workbook from unpacking into gigabytes (a
// "zip bomb": an .xlsx under 1 MB whose sheet or shared strings hold 900 MB
// of repeated text once made the server grow to 4 GB for a minute). The work
// is bounded by what the import can use: the parts that carry rows may
// unpack to an amount proportional to the import's row limit, nothing may be
// compressed far beyond what spreadsheets reach, and no single text may be
// longer than Excel allows in a cell. Every check runs before excelize
// unpacks anything; the size checks read only the zip directory, whose sizes
// archive/zip enforces while reading (a part that unpacks to more than it
// declares is an error, not more data).
const (
	// xlsxSheetBytesPerRow is the worksheet XML one data row may take: a
	// wide customer row (30 cells of markup and inline text) is under 2 KiB.
	xlsxSheetBytesPerRow = 2 << 10
	// xlsxStringsBytesPerRow and xlsxStringsPerRow bound the shared-strings
	// table: excelize keeps an offset pair (about 48 bytes) per string.
	xlsxStringsBytesPerRow = 1 << 10
	xlsxStringsPerRow      = 16
	// xlsxPartSlack lets small imports have title rows, styles on empty
	// cells and the like.
	xlsxPartSlack = 4 << 20
	// xlsxOtherXMLLimit is any other XML part (workbook, styles, themes):
	// excelize unmarshals those whole, at several times their size.
	xlsxOtherXMLLimit = 16 << 20
	// xlsxOtherLimit is any other part (pictures, printer settings).
	xlsxOtherLimit = 32 << 20
	// xlsxMaxRatio is the largest compression ratio of a part above
	// xlsxRatioFloor; spreadsheets' XML compresses 5–30 to 1, repeated
	// text in a bomb about 1,000 to 1.
	xlsxMaxRatio   = 100
	xlsxRatioFloor = 1 << 20
	// xlsxMaxTextChars is Excel's limit of a cell's text; xlsxMaxToken is
	// that in bytes (UTF-8 and XML escapes), the longest run of text or tag
	// markup the readers accept.
	xlsxMaxTextChars = 32767
	xlsxMaxToken     = 4 * xlsxMaxTextChars
	// xlsxMaxRowCells bounds the filled cells of one row: excelize builds
	// a row's cells at once, a customer sheet has a few dozen columns.
	xlsxMaxRowCells = 256
)

// Catalog keys of the workbook limits (field "file").
const (
	KeyPartTooLarge          = "import.part_too_large"
	KeyUnpackedTooBig        = "import.unpacked_too_large"
	KeyCompression           = "import.compression_ratio"
	KeyTextTooLong           = "import.text_too_long"
	KeyRowTooWide            = "import.row_too_wide"
	KeyTooManyStrings        = "import.too_many_strings"
	xlsxSharedStringsPart    = "xl/sharedstrings.xml"
	xlsxWorksheetsPartPrefix = "xl/worksheets/"
)

// xlsxLimits are the limits for one file's row limit.
type xlsxLimits struct {
	maxRows               int
	sheet, strings, total int64
	sharedStrings         int
}

func limitsFor(maxRows int) xlsxLimits {
	rows := int64(maxRows + maxLeadRows)
	l := xlsxLimits{
		maxRows:       maxRows,
		sheet:         rows*xlsxSheetBytesPerRow + xlsxPartSlack,
		strings:       rows*xlsxStringsBytesPerRow + xlsxPartSlack,
		sharedStrings: (maxRows+maxLeadRows)*xlsxStringsPerRow + 10_000,
	}
	l.total = l.sheet + l.strings + 2*xlsxOtherLimit
	return l
}

// partLimit is the largest uncompressed size of the part called name (lower
// case). A worksheet stored outside xl/worksheets/ gets the stricter limit
// of other XML.
func (l xlsxLimits) partLimit(name string) int64 {
	switch {
	case name == xlsxSharedStringsPart:
		return l.strings
	case strings.HasPrefix(name, xlsxWorksheetsPartPrefix) && strings.HasSuffix(name, ".xml"):
		return l.sheet
	case strings.HasSuffix(name, ".xml") || strings.HasSuffix(name, ".rels") || strings.HasSuffix(name, ".vml"):
		return xlsxOtherXMLLimit
	}
	return xlsxOtherLimit
}

// checkSizes refuses a workbook by its zip directory alone: a part larger
// than its limit, a part compressed beyond xlsxMaxRatio, or parts that
// unpack to more than the total.
func (l xlsxLimits) checkSizes(zr *zip.Reader) error {
	var total uint64
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		size := f.UncompressedSize64
		if limit := l.partLimit(name); size > uint64(limit) {
			return refuse(KeyPartTooLarge, map[string]any{
				"Part": f.Name, "MB": size >> 20, "MaxMB": limit >> 20, "MaxRows": l.maxRows,
			})
		}
		if size > xlsxRatioFloor && size/max(f.CompressedSize64, 1) > xlsxMaxRatio {
			return refuse(KeyCompression, map[string]any{
				"Part": f.Name, "Ratio": size / max(f.CompressedSize64, 1), "Max": xlsxMaxRatio,
			})
		}
		total += size
		if total > uint64(l.total) {
			return refuse(KeyUnpackedTooBig, map[string]any{"MaxMB": l.total >> 20, "MaxRows": l.maxRows})
		}
	}
	return nil
}

func (l xlsxLimits) textTooLong(part string) error {
	return refuse(KeyTextTooLong, map[string]any{"Part": part, "Max": xlsxMaxTextChars})
}

// errTokenTooLong ends a scan at a text or tag longer than xlsxMaxToken.
var errTokenTooLong = errors.New("xlsx: token too long")

// tokenReader reads an XML part as runs separated at '<' and '>', failing
// with errTokenTooLong on a run longer than xlsxMaxToken instead of
// skipping it: the readers after this scan (excelize's decoder) would hold
// such a run in memory whole.
type tokenReader struct {
	br *bufio.Reader
}

func newTokenReader(r io.Reader) *tokenReader {
	return &tokenReader{br: bufio.NewReaderSize(r, 64<<10)}
}

// until returns the bytes up to and including delim (valid until the next
// call, possibly only the tail of a run that did not fit the buffer).
func (t *tokenReader) until(delim byte) ([]byte, error) {
	var run int
	for {
		b, err := t.br.ReadSlice(delim)
		run += len(b)
		if run > xlsxMaxToken {
			return nil, errTokenTooLong
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return b, err
	}
}

// scanStringsPart checks the shared-strings table: no text longer than a
// cell may hold, no more strings than the import's rows could use.
func (l xlsxLimits) scanStringsPart(zf *zip.File) error {
	rc, err := zf.Open()
	if err != nil {
		return refuse(KeyUnreadable, nil)
	}
	defer rc.Close()
	tr := newTokenReader(rc)
	count := 0
	for {
		if _, err := tr.until('<'); err != nil {
			return l.scanEnd(err, zf.Name)
		}
		tag, err := tr.until('>')
		if err != nil {
			return l.scanEnd(err, zf.Name)
		}
		if name, closing := tagName(tag); !closing && string(name) == "si" {
			if count++; count > l.sharedStrings {
				return refuse(KeyTooManyStrings, map[string]any{"Max": l.sharedStrings, "MaxRows": l.maxRows})
			}
		}
	}
}

// scanEnd maps the error that ended a scan: the end of the part is fine.
func (l xlsxLimits) scanEnd(err error, part string) error {
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case errors.Is(err, errTokenTooLong):
		return l.textTooLong(part)
	}
	return refuse(KeyUnreadable, nil)
}
