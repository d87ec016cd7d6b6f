package sheets

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/testkit/xlsxbomb"
)

// refusedWith checks that opening data fails for field "file" with key, and
// that the refusal allocated at most maxAlloc bytes in all.
func refusedWith(t *testing.T, data []byte, opts Options, key string, maxAlloc uint64) {
	t.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ir, err := Open(bytes.NewReader(data), opts, testSchema)
	runtime.ReadMemStats(&after)
	if err == nil {
		_ = ir.Close()
		t.Fatalf("want %s, the workbook was opened", key)
	}
	var v *domain.ValidationError
	if !errors.As(err, &v) || v.Fields[0].Field != "file" || v.Fields[0].Key != key {
		t.Fatalf("want %s for file, got %v", key, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxAlloc {
		t.Fatalf("%s: refusing a %d KB workbook allocated %d MB", key, len(data)>>10, alloc>>20)
	}
}

// TestXLSXBombsWellFormed: the generator builds workbooks that import, so
// the refusals below are the bombs' doing.
func TestXLSXBombsWellFormed(t *testing.T) {
	for name, data := range map[string][]byte{
		"inline": xlsxbomb.Workbook(xlsxbomb.InlineSheet(func(w io.Writer) { io.WriteString(w, "张伟") }), nil),
		"shared": xlsxbomb.Workbook(xlsxbomb.SharedSheet, xlsxbomb.SharedStrings(func(w io.Writer) { io.WriteString(w, "张伟") })),
	} {
		ir, err := Open(bytes.NewReader(data), Options{MaxRows: 100}, testSchema)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		row, err := ir.Next()
		ir.Close()
		if err != nil || row.Value(colName) != "张伟" {
			t.Fatalf("%s: row %+v %v", name, row, err)
		}
	}
}

// TestXLSXSheetBomb: a sheet of 24 MB of repeated text in 25 KB.
func TestXLSXSheetBomb(t *testing.T) {
	const size = 24 << 20
	bomb := xlsxbomb.Workbook(xlsxbomb.InlineSheet(func(w io.Writer) { xlsxbomb.Repeat(w, "客户关怀", size) }), nil)
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb of %d bytes: not a bomb", len(bomb))
	}
	// With 100 rows allowed, the sheet may unpack to about 4 MB.
	refusedWith(t, bomb, Options{MaxRows: 100}, KeyPartTooLarge, 4<<20)
	// With the default 200,000 rows the size is allowed, the ratio is not.
	refusedWith(t, bomb, Options{}, KeyCompression, 4<<20)
	// Text that compresses as text does: one cell longer than Excel allows.
	long := xlsxbomb.Workbook(xlsxbomb.InlineSheet(func(w io.Writer) { xlsxbomb.Noise(w, 400<<10) }), nil)
	refusedWith(t, long, Options{}, KeyTextTooLong, 4<<20)
	// A cell within the limit is read (and then reported by the row check).
	ok := xlsxbomb.Workbook(xlsxbomb.InlineSheet(func(w io.Writer) { xlsxbomb.Noise(w, xlsxMaxTextChars) }), nil)
	ir, err := Open(bytes.NewReader(ok), Options{}, testSchema)
	if err != nil {
		t.Fatalf("a cell of %d characters: %v", xlsxMaxTextChars, err)
	}
	ir.Close()
	// A row of many filled cells.
	wide := xlsxbomb.Workbook(func(w io.Writer) {
		io.WriteString(w, xlsxbomb.Head+`<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row><row r="2">`)
		for i := range xlsxMaxRowCells + 1 {
			fmt.Fprintf(w, `<c t="inlineStr"><is><t>%d</t></is></c>`, i)
		}
		io.WriteString(w, `</row>`+xlsxbomb.Tail)
	}, nil)
	refusedWith(t, wide, Options{}, KeyRowTooWide, 4<<20)
}

// TestXLSXSharedStringsBomb: the same text in the shared-strings table.
func TestXLSXSharedStringsBomb(t *testing.T) {
	const size = 24 << 20
	bomb := xlsxbomb.Workbook(xlsxbomb.SharedSheet, xlsxbomb.SharedStrings(func(w io.Writer) { xlsxbomb.Repeat(w, "客户关怀", size) }))
	if len(bomb) > 1<<20 {
		t.Fatalf("bomb of %d bytes: not a bomb", len(bomb))
	}
	refusedWith(t, bomb, Options{MaxRows: 100}, KeyPartTooLarge, 4<<20)
	refusedWith(t, bomb, Options{}, KeyCompression, 4<<20)
	long := xlsxbomb.Workbook(xlsxbomb.SharedSheet, xlsxbomb.SharedStrings(func(w io.Writer) { xlsxbomb.Noise(w, 400<<10) }))
	refusedWith(t, long, Options{}, KeyTextTooLong, 4<<20)
	// Many short strings: excelize keeps an offset pair for each.
	many := xlsxbomb.Workbook(xlsxbomb.SharedSheet, func(w io.Writer) {
		io.WriteString(w, `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>name</t></si>`)
		for i := range limitsFor(10).sharedStrings {
			fmt.Fprintf(w, `<si><t>%d</t></si>`, i)
		}
		io.WriteString(w, `</sst>`)
	})
	refusedWith(t, many, Options{MaxRows: 10}, KeyTooManyStrings, 4<<20)
}

// TestXLSXPartLyingAboutItsSize: a part that declares 1 KB and unpacks to
// 24 MB is cut where it lied (archive/zip checks the declared size), and the
// scan never holds more than its buffer.
func TestXLSXPartLyingAboutItsSize(t *testing.T) {
	honest := xlsxbomb.Workbook(xlsxbomb.InlineSheet(func(w io.Writer) { xlsxbomb.Repeat(w, "客户关怀 ", 24<<20) }), nil)
	zr, err := zip.NewReader(bytes.NewReader(honest), int64(len(honest)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		raw, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		h := f.FileHeader
		if f.Name == "xl/worksheets/sheet1.xml" {
			h.UncompressedSize64 = 1 << 10
		}
		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	refusedWith(t, buf.Bytes(), Options{}, KeyUnreadable, 4<<20)
}
