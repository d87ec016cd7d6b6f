package sheets

import (
	"fmt"
	"strings"
	"unicode"
)

// Field is what a domain's column identifiers are: a small integer type
// whose zero value means "no column of the schema" and whose String is the
// name a report shows ("name", "care_date").
type Field interface {
	~uint8 | ~uint16 | ~int
	String() string
}

// Column declares one column a domain reads: the header texts that name it
// (Chinese and English, as people write them; see FieldFor for what is
// ignored when matching), whether several columns may hold it, and the
// catalog key that refuses a file without it.
type Column[F Field] struct {
	Field   F
	Aliases []string
	// Multi lets several columns hold the field (a customer's phones);
	// otherwise a second column naming it refuses the file.
	Multi bool
	// Missing, when set, is the catalog key (field "file") of the refusal
	// of a header without this column; "" makes the column optional.
	Missing string
}

// Schema is the set of columns a domain reads from a spreadsheet.
type Schema[F Field] struct {
	cols    []Column[F]
	aliases map[string]F
	multi   []bool // by field
}

// NewSchema builds a schema. Two columns naming the same header text, or a
// column of the zero field, are a programming error: it panics.
func NewSchema[F Field](cols ...Column[F]) *Schema[F] {
	s := &Schema[F]{cols: cols, aliases: map[string]F{}}
	for _, c := range cols {
		if c.Field == 0 {
			panic("sheets: a column of the zero field")
		}
		if int(c.Field) >= len(s.multi) {
			s.multi = append(s.multi, make([]bool, int(c.Field)+1-len(s.multi))...)
		}
		s.multi[c.Field] = c.Multi
		for _, a := range c.Aliases {
			k := normHeader(a)
			if other, ok := s.aliases[k]; ok && other != c.Field {
				panic(fmt.Sprintf("sheets: header %q names %v and %v", a, other, c.Field))
			}
			s.aliases[k] = c.Field
		}
	}
	return s
}

// FieldFor returns the field a header cell names, the zero field if none.
// It ignores case, spaces, full-width forms, required-markers (*), "_",
// "-", "." and ":" and a parenthesised hint: "客户名称*", "联系方式（手机）",
// "Customer_Number", "E-mail" all match their plain forms.
func (s *Schema[F]) FieldFor(text string) F {
	return s.aliases[normHeader(text)]
}

// normHeader folds a header text for lookup in a schema's aliases.
func normHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	depth := 0
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		switch {
		case r == '(' || r == '[' || r == '【':
			depth++
		case r == ')' || r == ']' || r == '】':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case unicode.IsSpace(r), r == '*', r == '_', r == '-', r == '.', r == ':', r == '：', r == '\ufeff':
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Header is the mapping of a file's header row.
type Header[F Field] struct {
	// Row is the spreadsheet row number of the header (1 unless title rows
	// precede it).
	Row int
	// Texts are the header cells as written in the file, by column index.
	Texts []string
	// Fields are the field of each column, the zero field when not
	// recognised.
	Fields []F
	// Unknown lists the non-empty header texts that name no field, in
	// column order.
	Unknown []string
	// Missing lists the schema's fields no column holds, in schema order.
	Missing []F
	// Format is the file's format; Date1904 is the XLSX date system (dates
	// in raw XLSX cells are serial numbers).
	Format   Format
	Date1904 bool
	cols     [][]int // by field
}

// Columns returns the column indexes that hold f, in file order.
func (h *Header[F]) Columns(f F) []int {
	if int(f) >= len(h.cols) {
		return nil
	}
	return h.cols[f]
}

// Has reports whether some column holds f.
func (h *Header[F]) Has(f F) bool { return len(h.Columns(f)) > 0 }

// ColumnName returns the header text of column i as written in the file.
func (h *Header[F]) ColumnName(i int) string {
	if i >= 0 && i < len(h.Texts) {
		return strings.TrimSpace(h.Texts[i])
	}
	return ""
}

// FieldColumn returns the header text of the first column holding f, ""
// when none does: the column a row's problem with f is reported under.
func (h *Header[F]) FieldColumn(f F) string {
	if cs := h.Columns(f); len(cs) > 0 {
		return h.ColumnName(cs[0])
	}
	return ""
}

// ColumnUse is how one column of a file was understood, for a report.
type ColumnUse struct {
	Column string `json:"column"`
	Field  string `json:"field"` // "" when the domain does not read the column
}

// Uses lists the non-empty header cells with the field each names.
func (h *Header[F]) Uses() []ColumnUse {
	out := []ColumnUse{}
	for i, t := range h.Texts {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, ColumnUse{Column: t, Field: h.Fields[i].String()})
		}
	}
	return out
}

// Match maps the header cells of a row. It returns the pairs of texts of
// columns that name the same single-column field twice.
func (s *Schema[F]) Match(row int, cells []string) (*Header[F], [][2]string) {
	h := &Header[F]{Row: row, Texts: cells, Fields: make([]F, len(cells)), cols: make([][]int, len(s.multi))}
	var dups [][2]string
	for i, text := range cells {
		if strings.TrimSpace(text) == "" {
			continue
		}
		f := s.FieldFor(text)
		if f == 0 {
			h.Unknown = append(h.Unknown, strings.TrimSpace(text))
			continue
		}
		if len(h.cols[f]) > 0 && !s.multi[f] {
			dups = append(dups, [2]string{h.ColumnName(h.cols[f][0]), h.ColumnName(i)})
			continue
		}
		h.Fields[i] = f
		h.cols[f] = append(h.cols[f], i)
	}
	for _, c := range s.cols {
		if !h.Has(c.Field) {
			h.Missing = append(h.Missing, c.Field)
		}
	}
	return h, dups
}

// missingKey returns the refusal key of the first required column the
// header lacks, "" when it has them all.
func (s *Schema[F]) missingKey(h *Header[F]) string {
	for _, c := range s.cols {
		if c.Missing != "" && !h.Has(c.Field) {
			return c.Missing
		}
	}
	return ""
}

// recognised counts the cells of a row that name a field.
func (s *Schema[F]) recognised(cells []string) int {
	n := 0
	for _, c := range cells {
		if s.FieldFor(c) != 0 {
			n++
		}
	}
	return n
}

// Row is one data row of a file.
type Row[F Field] struct {
	// Num is the row number as the spreadsheet shows it (header = 1).
	Num int
	// Cells are the raw cell values by column index; a row may be shorter
	// than the header. XLSX values are raw: dates are serial numbers.
	Cells []string
	// Header maps the columns.
	Header *Header[F]
}

// Cell returns the raw value of column i, "" when the row is shorter.
func (r Row[F]) Cell(i int) string {
	if i >= 0 && i < len(r.Cells) {
		return r.Cells[i]
	}
	return ""
}

// Value returns the trimmed value of the first non-empty column holding f.
func (r Row[F]) Value(f F) string {
	for _, i := range r.Header.Columns(f) {
		if v := strings.TrimSpace(r.Cell(i)); v != "" {
			return v
		}
	}
	return ""
}
