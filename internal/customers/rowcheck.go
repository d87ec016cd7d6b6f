package customers

import (
	"errors"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/sheets"
)

// RowError is one problem with one cell of an import file, for the per-row
// error report.
type RowError = sheets.RowError

// ImportRecord is a checked import row, normalised to the forms a customer
// record stores: canonical phones, dates as YYYY-MM-DD, type
// "individual"/"organization", tier "vip"/"normal"/"potential". Empty
// strings mean "not given" (the importer applies defaults and assigns a
// number).
type ImportRecord struct {
	Row              int
	Number           string
	Type             string
	Name             string
	Contact          string
	Phones           []string
	Email            string
	WeChat           string
	Industry         string
	Product          string
	Address          string
	Birthday         string
	CooperationStart string
	Tier             string
	Tags             []string
	Owner            string // as written; the importer resolves it to a user
	Remarks          string
}

// Catalog keys of import row checks beyond the phone and number keys.
const (
	KeyRequired        = "validation.required"
	KeyTooLong         = "validation.too_long"
	KeyTooMany         = "validation.too_many"
	KeyEmail           = "validation.email"
	KeyDate            = "validation.date"
	KeyDateFuture      = "validation.date_future"
	KeyTierInvalid     = "validation.tier_invalid"
	KeyTypeInvalid     = "validation.customer_type_invalid"
	KeyFormulaLike     = "validation.formula_like"
	KeyDuplicateNumber = "import.duplicate_number"
)

// Length limits (characters) of imported fields, the same as for records
// entered by hand.
const (
	maxNameLen     = 200
	maxContactLen  = 100
	maxWeChatLen   = 60
	maxIndustryLen = 60
	maxProductLen  = 100
	maxAddressLen  = 300
	maxOwnerLen    = 100
	maxRemarksLen  = 4000
	maxTagLen      = 30
	maxTags        = 30
	maxPhones      = 10
	maxEmailLen    = 254
)

// RowChecker validates the rows of one import file. It remembers the
// customer numbers it has seen, so one checker serves one file, rows in
// order. It is not safe for concurrent use.
type RowChecker struct {
	today   time.Time        // today's civil date in the business zone, at 00:00 UTC
	numbers map[string]int   // customer number → first row using it
	errs    []RowError       // scratch for the current row
	row     Row              // current row
	skip    [fieldCount]bool // fields refused as formula-like in this row
	cols    [fieldCount]int  // column of each field's first non-empty cell
	vals    [fieldCount]string
}

// NewRowChecker returns a checker for rows read at now; loc is the business
// time zone deciding what "today" is (nil: China Standard Time).
func NewRowChecker(now time.Time, loc *time.Location) *RowChecker {
	if loc == nil {
		loc = chinaStandardTime
	}
	t := now.In(loc)
	return &RowChecker{
		today:   time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC),
		numbers: make(map[string]int),
	}
}

// Check validates one row and returns the normalised record and every
// problem found in it (nil when the row is valid). Invalid fields are left
// empty in the record.
func (c *RowChecker) Check(r Row) (ImportRecord, []RowError) {
	c.row, c.errs = r, nil
	rec := ImportRecord{Row: r.Num}
	c.collect()
	xlsx := r.Header.Format == FormatXLSX

	c.checkNumber(&rec, xlsx)
	rec.Name = c.text(FieldName, maxNameLen)
	if rec.Name == "" && !c.skip[FieldName] && len(c.errsFor(FieldName)) == 0 {
		c.add(FieldName, KeyRequired, nil)
	}
	rec.Type = c.choice(FieldType, ParseCustomerType, KeyTypeInvalid)
	rec.Tier = c.choice(FieldTier, ParseTier, KeyTierInvalid)
	rec.Contact = c.text(FieldContact, maxContactLen)
	rec.Phones = c.phones(xlsx)
	rec.Email = c.email()
	rec.WeChat = c.text(FieldWeChat, maxWeChatLen)
	rec.Industry = c.text(FieldIndustry, maxIndustryLen)
	rec.Product = c.text(FieldProduct, maxProductLen)
	if both := c.text(FieldIndustryProduct, maxIndustryLen+maxProductLen+1); both != "" {
		ind, prod := splitIndustryProduct(both)
		if rec.Industry == "" {
			rec.Industry = ind
		}
		if rec.Product == "" {
			rec.Product = prod
		}
	}
	rec.Address = c.text(FieldAddress, maxAddressLen)
	rec.Birthday = c.date(FieldBirthday, true)
	rec.CooperationStart = c.date(FieldCoopStart, false)
	rec.Tags = c.tags()
	rec.Owner = c.text(FieldOwner, maxOwnerLen)
	rec.Remarks = c.text(FieldRemarks, maxRemarksLen)
	return rec, c.errs
}

// collect picks each field's value and refuses formula-like cells.
func (c *RowChecker) collect() {
	h := c.row.Header
	c.skip = [fieldCount]bool{}
	c.vals = [fieldCount]string{}
	for f := Field(1); f < fieldCount; f++ {
		c.cols[f] = -1
		for _, i := range h.Columns(f) {
			v := strings.TrimSpace(c.row.Cell(i))
			if v == "" {
				continue
			}
			if c.cols[f] < 0 {
				c.cols[f] = i
				c.vals[f] = v
			}
			if looksLikeFormula(f, v) {
				c.skip[f] = true
				c.errs = append(c.errs, RowError{Row: c.row.Num, Column: h.ColumnName(i), Key: KeyFormulaLike})
			}
		}
		if c.cols[f] < 0 && len(h.Columns(f)) > 0 {
			c.cols[f] = h.Columns(f)[0]
		}
	}
}

// looksLikeFormula reports whether an input cell would be a formula in a
// spreadsheet. A phone may begin with + (+86…); whether the rest is a
// phone is then up to ParsePhone.
func looksLikeFormula(f Field, v string) bool {
	switch v[0] {
	case '=', '@':
		return true
	case '+', '-':
		return f != FieldPhone
	}
	return false
}

func (c *RowChecker) add(f Field, key string, params map[string]any) {
	c.errs = append(c.errs, RowError{Row: c.row.Num, Column: c.row.Header.ColumnName(c.cols[f]), Key: key, Params: params})
}

func (c *RowChecker) errsFor(f Field) []RowError {
	var out []RowError
	col := c.row.Header.ColumnName(c.cols[f])
	for _, e := range c.errs {
		if e.Column == col {
			out = append(out, e)
		}
	}
	return out
}

// text returns the field's value, refusing one longer than max characters.
func (c *RowChecker) text(f Field, max int) string {
	v := c.vals[f]
	if v == "" || c.skip[f] {
		return ""
	}
	if utf8.RuneCountInString(v) > max {
		c.add(f, KeyTooLong, map[string]any{"Max": max})
		return ""
	}
	return v
}

func (c *RowChecker) choice(f Field, parse func(string) (string, bool), key string) string {
	v := c.text(f, 50)
	if v == "" {
		return ""
	}
	out, ok := parse(v)
	if !ok {
		c.add(f, key, map[string]any{"Value": v})
	}
	return out
}

func (c *RowChecker) checkNumber(rec *ImportRecord, xlsx bool) {
	v := c.text(FieldNumber, 20)
	if v == "" {
		return
	}
	if xlsx {
		v = sheets.PlainNumber(v)
	}
	if _, _, _, err := ParseNumber(v); err != nil {
		c.addValidation(FieldNumber, err)
		return
	}
	if first, ok := c.numbers[v]; ok {
		c.add(FieldNumber, KeyDuplicateNumber, map[string]any{"Number": v, "FirstRow": first})
		return
	}
	c.numbers[v] = c.row.Num
	rec.Number = v
}

// addValidation reports the keys of a *domain.ValidationError on field f.
func (c *RowChecker) addValidation(f Field, err error) {
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Fields {
			c.add(f, fe.Key, fe.Params)
		}
		return
	}
	c.add(f, KeyPhoneInvalidChars, nil)
}

// validationKey returns the key of the first field of a validation error.
func validationKey(err error) string {
	var ve *domain.ValidationError
	if errors.As(err, &ve) && len(ve.Fields) > 0 {
		return ve.Fields[0].Key
	}
	return ""
}

// phoneSeparators split a cell that lists several numbers.
func isPhoneSeparator(r rune) bool {
	switch r {
	case ',', '，', ';', '；', '、', '/', '／', '|', '\n', '\r':
		return true
	}
	return false
}

// phones parses every phone cell; one cell may list several numbers
// separated by , ; / 、 | or line breaks.
func (c *RowChecker) phones(xlsx bool) []string {
	if c.skip[FieldPhone] {
		return nil
	}
	var out []string
	h := c.row.Header
	for _, i := range h.Columns(FieldPhone) {
		cell := strings.TrimSpace(c.row.Cell(i))
		if cell == "" {
			continue
		}
		if xlsx {
			cell = sheets.PlainNumber(cell)
		}
		for part := range strings.FieldsFuncSeq(cell, isPhoneSeparator) {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			p, err := ParsePhone(part)
			if err != nil {
				var ve *domain.ValidationError
				if cell[0] == '+' || cell[0] == '-' {
					// "+cmd|' /C calc'!A0" is no phone with a typo.
					if k := validationKey(err); k == KeyPhoneLetters || k == KeyPhoneInvalidChars {
						c.errs = append(c.errs, RowError{Row: c.row.Num, Column: h.ColumnName(i), Key: KeyFormulaLike})
						break
					}
				}
				if errors.As(err, &ve) {
					for _, fe := range ve.Fields {
						params := map[string]any{"Value": part}
						for k, v := range fe.Params {
							params[k] = v
						}
						c.errs = append(c.errs, RowError{Row: c.row.Num, Column: h.ColumnName(i), Key: fe.Key, Params: params})
					}
				}
				continue
			}
			if s := p.String(); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) > maxPhones {
		c.add(FieldPhone, KeyTooMany, map[string]any{"Max": maxPhones})
		return out[:maxPhones]
	}
	return out
}

func (c *RowChecker) email() string {
	v := strings.ToLower(c.text(FieldEmail, maxEmailLen))
	if v == "" {
		return ""
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || strings.IndexByte(v[strings.LastIndexByte(v, '@')+1:], '.') < 0 {
		c.add(FieldEmail, KeyEmail, map[string]any{"Value": v})
		return ""
	}
	return v
}

// date parses a date cell; a birthday may not be after today.
func (c *RowChecker) date(f Field, notFuture bool) string {
	v := c.text(f, 40)
	if v == "" {
		return ""
	}
	d, ok := sheets.ParseDate(v, c.row.Header.Format == FormatXLSX, c.row.Header.Date1904)
	switch {
	case !ok:
		c.add(f, KeyDate, map[string]any{"Value": v})
		return ""
	case notFuture && d.After(c.today):
		c.add(f, KeyDateFuture, map[string]any{"Value": d.Format(time.DateOnly)})
		return ""
	}
	return d.Format(time.DateOnly)
}

// tagSeparators split the tags cell.
func isTagSeparator(r rune) bool {
	switch r {
	case ',', '，', ';', '；', '、', '|', '\n', '\r':
		return true
	}
	return false
}

func (c *RowChecker) tags() []string {
	v := c.vals[FieldTags]
	if v == "" || c.skip[FieldTags] {
		return nil
	}
	var out []string
	for t := range strings.FieldsFuncSeq(v, isTagSeparator) {
		t = strings.TrimSpace(t)
		if t == "" || slices.Contains(out, t) {
			continue
		}
		if utf8.RuneCountInString(t) > maxTagLen {
			c.add(FieldTags, KeyTooLong, map[string]any{"Max": maxTagLen, "Value": t})
			continue
		}
		out = append(out, t)
	}
	if len(out) > maxTags {
		c.add(FieldTags, KeyTooMany, map[string]any{"Max": maxTags})
		return out[:maxTags]
	}
	return out
}

// splitIndustryProduct splits the template's "所属行业/产品类型" cell at its
// first slash: "电子/路由器" → 电子, 路由器; without a slash it is all
// industry.
func splitIndustryProduct(s string) (string, string) {
	i := strings.IndexAny(s, "/／")
	if i < 0 {
		return s, ""
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+size:])
}

// foldChoice lower-cases s and drops spaces, for matching choice words.
func foldChoice(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

var tierWords = map[string]string{
	"vip": "vip", "vip客户": "vip", "贵宾": "vip", "贵宾客户": "vip", "重要客户": "vip",
	"normal": "normal", "普通": "normal", "普通客户": "normal", "一般": "normal",
	"一般客户": "normal", "regular": "normal", "standard": "normal",
	"potential": "potential", "潜在": "potential", "潜在客户": "potential",
	"意向": "potential", "意向客户": "potential", "prospect": "potential",
}

// ParseTier reads a tier as people write it ("VIP客户", "普通", "潜在客户",
// "normal") and returns "vip", "normal" or "potential".
func ParseTier(s string) (string, bool) {
	t, ok := tierWords[foldChoice(s)]
	return t, ok
}

var typeWords = map[string]string{
	"个人": "individual", "个人客户": "individual", "私人": "individual", "自然人": "individual",
	"individual": "individual", "person": "individual", "personal": "individual",
	"企业": "organization", "单位": "organization", "公司": "organization", "企业客户": "organization",
	"单位客户": "organization", "组织": "organization", "机构": "organization",
	"organization": "organization", "organisation": "organization", "company": "organization",
	"enterprise": "organization", "business": "organization", "corporate": "organization",
}

// ParseCustomerType reads a customer type ("个人", "企业", "单位",
// "individual", "organisation") and returns "individual" or "organization".
func ParseCustomerType(s string) (string, bool) {
	t, ok := typeWords[foldChoice(s)]
	return t, ok
}
