// Package xlsxbomb builds spreadsheet bombs for tests and the bench: small
// .xlsx files whose worksheet or shared-strings part unpacks to a great deal
// of text. They are written with archive/zip so that the caller owns their
// exact shape (excelize would refuse to write some of them).
package xlsxbomb

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"strings"
)

// Head and Tail enclose the rows of a worksheet.
const (
	Head = `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	Tail = `</sheetData></worksheet>`
)

// SheetBomb is a workbook whose one data cell, inline in the sheet, is n
// bytes of repeated text.
func SheetBomb(n int) []byte {
	return Workbook(InlineSheet(func(w io.Writer) { Repeat(w, "客户关怀", n) }), nil)
}

// StringsBomb is a workbook whose second shared string is n bytes of
// repeated text.
func StringsBomb(n int) []byte {
	return Workbook(SharedSheet, SharedStrings(func(w io.Writer) { Repeat(w, "客户关怀", n) }))
}

// Workbook returns a workbook whose xl/worksheets/sheet1.xml is written
// by sheet and, when sst is not nil, whose xl/sharedStrings.xml is written
// by sst.
func Workbook(sheet, sst func(w io.Writer)) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	part := func(name string, write func(w io.Writer)) {
		w, err := zw.Create(name)
		if err != nil {
			panic(err) // writing to memory does not fail
		}
		write(w)
	}
	text := func(s string) func(w io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }
	overrides := `<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`
	rels := `<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`
	if sst != nil {
		overrides += `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`
		rels += `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
	}
	part("[Content_Types].xml", text(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">`+
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>`+
		overrides+`</Types>`))
	part("_rels/.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	part("xl/workbook.xml", text(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" `+
		`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`))
	part("xl/_rels/workbook.xml.rels", text(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`+rels+`</Relationships>`))
	part("xl/worksheets/sheet1.xml", sheet)
	if sst != nil {
		part("xl/sharedStrings.xml", sst)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Repeat writes n bytes of s repeated: text that deflates about 1,000 to 1.
func Repeat(w io.Writer, s string, n int) {
	chunk := strings.Repeat(s, (64<<10)/len(s))
	for n > 0 {
		m := min(n, len(chunk))
		io.WriteString(w, chunk[:m])
		n -= m
	}
}

// Noise writes n letters that compress poorly (about 1.6 to 1).
func Noise(w io.Writer, n int) {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(r.IntN(26))
	}
	w.Write(b)
}

// InlineSheet is a header row "name" and one data row whose name cell's text
// is written by cell.
func InlineSheet(cell func(w io.Writer)) func(w io.Writer) {
	return func(w io.Writer) {
		io.WriteString(w, Head+`<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>`)
		cell(w)
		io.WriteString(w, `</t></is></c></row>`+Tail)
	}
}

// SharedSheet is the same two rows with the texts in the shared strings.
func SharedSheet(w io.Writer) {
	io.WriteString(w, Head+`<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>`+Tail)
}

// SharedStrings is a shared-strings table of "name" and the text second
// writes.
func SharedStrings(second func(w io.Writer)) func(w io.Writer) {
	return func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>name</t></si><si><t>`)
		second(w)
		io.WriteString(w, `</t></si></sst>`)
	}
}
