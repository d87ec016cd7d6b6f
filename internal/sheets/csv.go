package sheets

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Text encodings of CSV files, as Excel and WPS write them in China.
const (
	encUTF8 = iota + 1
	encGB18030
	encUTF16
)

// csvSource reads delimited text as spreadsheet rows.
type csvSource struct {
	r        *csv.Reader
	sniff    *sniffReader // nil when the encoding was fixed by a BOM
	lr       *limitReader
	maxBytes int64
	lineOff  int // physical lines before the csv.Reader's first line
	row      int // spreadsheet row number of the last record
	prevEnd  int // csv.Reader line on which the last record ended
	utf8     bool
}

// openCSV detects encoding and delimiter of the text in br.
func openCSV(br *bufio.Reader, lr *limitReader, maxBytes int64) (*csvSource, error) {
	src := &csvSource{lr: lr, maxBytes: maxBytes}
	var text io.Reader
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		text, src.utf8 = br, true
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		// Excel's "Unicode text" is UTF-16 with a BOM, tab separated.
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		text = transform.NewReader(br, unicode.BOMOverride(dec))
	default:
		if looksBinary(br) {
			return nil, refuse(KeyNotSpreadsheet, nil)
		}
		src.sniff = &sniffReader{br: br}
		text = src.sniff
	}
	tr := bufio.NewReaderSize(text, 64<<10)
	comma, sepLine := sniffDelimiter(tr)
	if sepLine > 0 {
		_, _ = tr.Discard(sepLine)
		src.lineOff = 1
	}
	src.r = csv.NewReader(tr)
	src.r.Comma = comma
	src.r.FieldsPerRecord = -1
	return src, nil
}

// looksBinary reports whether the start of the file holds control bytes no
// spreadsheet text has (PDFs, images, executables, UTF-16 without BOM).
func looksBinary(br *bufio.Reader) bool {
	b, _ := br.Peek(8 << 10)
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != 0x0C {
			return true
		}
	}
	return false
}

// sniffDelimiter picks the delimiter that occurs most often outside quotes
// on the header line: comma, tab or semicolon (comma on a tie or none). A
// first line "sep=;" (Excel's hint) decides instead; its length is returned
// so the caller skips it.
func sniffDelimiter(tr *bufio.Reader) (rune, int) {
	b, _ := tr.Peek(64 << 10)
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = b[:i+1]
	}
	trimmed := bytes.TrimRight(line, "\r\n")
	if len(trimmed) == 5 && bytes.HasPrefix(bytes.ToLower(trimmed), []byte("sep=")) {
		if c := rune(trimmed[4]); c == ',' || c == '\t' || c == ';' || c == '|' {
			return c, len(line)
		}
	}
	var counts [3]int
	quoted := false
	for _, c := range trimmed {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == ',':
			counts[0]++
		case c == '\t':
			counts[1]++
		case c == ';':
			counts[2]++
		}
	}
	best, comma := counts[0], ','
	if counts[1] > best {
		best, comma = counts[1], '\t'
	}
	if counts[2] > best {
		comma = ';'
	}
	return comma, 0
}

func (s *csvSource) next() (int, []string, error) {
	rec, err := s.r.Read()
	if err != nil {
		return 0, nil, s.readErr(err)
	}
	// Excel shows blank lines as rows; encoding/csv skips them. Count them
	// back from the line numbers so rows match what the user sees.
	start, _ := s.r.FieldPos(0)
	if s.row == 0 {
		s.row = start
	} else {
		s.row += 1 + max(0, start-s.prevEnd-1)
	}
	last := len(rec) - 1
	endLine, _ := s.r.FieldPos(last)
	s.prevEnd = endLine + strings.Count(rec[last], "\n")
	if s.utf8 || (s.sniff != nil && s.sniff.enc == encUTF8) {
		for _, f := range rec {
			if !utf8.ValidString(f) {
				return 0, nil, refuse(KeyEncoding, map[string]any{"Row": s.row})
			}
		}
	}
	return s.row, rec, nil
}

func (s *csvSource) readErr(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	if errors.Is(err, errTooLarge) {
		return s.lr.wrap(err, s.maxBytes)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			return refuse(KeyCSVQuote, map[string]any{"Line": pe.StartLine + s.lineOff, "ErrorLine": pe.Line + s.lineOff})
		}
		if errors.Is(pe.Err, errTooLarge) {
			return s.lr.wrap(pe.Err, s.maxBytes)
		}
		return refuse(KeyCSVInvalid, map[string]any{"Line": pe.Line + s.lineOff})
	}
	return fmt.Errorf("sheets: read csv: %w", err)
}

func (s *csvSource) close() error { return nil }

// sniffReader passes ASCII through and decides the encoding at the first
// non-ASCII byte: UTF-8 if the bytes from there on (up to 4 KiB) are valid
// UTF-8, or begin with at least two valid three-byte runes (a file mixing
// encodings, refused later row by row); GB18030 (a superset of GBK and
// GB2312) otherwise. ASCII is the same in both, so nothing read before the
// decision changes meaning.
type sniffReader struct {
	br  *bufio.Reader
	enc int
	gb  io.Reader
}

const sniffWindow = 4 << 10

func (s *sniffReader) Read(p []byte) (int, error) {
	switch s.enc {
	case encUTF8:
		return s.br.Read(p)
	case encGB18030:
		return s.gb.Read(p)
	}
	if _, err := s.br.Peek(1); err != nil {
		return 0, err
	}
	buf, _ := s.br.Peek(s.br.Buffered())
	i := 0
	for i < len(buf) && buf[i] < utf8.RuneSelf {
		i++
	}
	if i > 0 {
		n := copy(p, buf[:i])
		_, _ = s.br.Discard(n)
		return n, nil
	}
	w, err := s.br.Peek(sniffWindow)
	if validUTF8Prefix(w, err != nil) {
		s.enc = encUTF8
	} else {
		s.enc = encGB18030
		s.gb = transform.NewReader(s.br, simplifiedchinese.GB18030.NewDecoder())
	}
	return s.Read(p)
}

// validUTF8Prefix reports whether b looks like UTF-8: valid (allowing a
// rune cut off at the end unless atEOF), or starting with at least two
// valid three-byte runes before the first invalid byte. GBK text almost
// never forms even one three-byte UTF-8 sequence.
func validUTF8Prefix(b []byte, atEOF bool) bool {
	runes3 := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size <= 1 {
			if !atEOF && !utf8.FullRune(b) {
				return true // cut off at the end of the window
			}
			return runes3 >= 2
		}
		if size == 3 {
			runes3++
		}
		b = b[size:]
	}
	return true
}
