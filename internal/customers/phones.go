package customers

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
)

// PhoneKind says what sort of number a Phone is.
type PhoneKind uint8

// The kinds of phone number Careloop accepts: all of them are Chinese
// mainland numbers.
const (
	PhoneMobile   PhoneKind = iota + 1 // 11 digits, 1[3-9]…
	PhoneLandline                      // area code + 7/8-digit local number
	PhoneService                       // 400/800 + 7 digits
)

// String returns "mobile", "landline" or "service".
func (k PhoneKind) String() string {
	switch k {
	case PhoneMobile:
		return "mobile"
	case PhoneLandline:
		return "landline"
	case PhoneService:
		return "service"
	}
	return "unknown"
}

// Phone is a valid Chinese mainland phone number in canonical form.
type Phone struct {
	Kind PhoneKind
	// Number is the canonical number without extension:
	// "13912345678", "010-12345678", "0755-1234567", "400-123-4567".
	Number string
	// Ext is the extension (digits only), "" when there is none. Mobiles
	// never have one.
	Ext string
}

// String returns the canonical form including the extension
// ("010-12345678-123"); ParsePhone accepts it back unchanged.
func (p Phone) String() string {
	if p.Ext == "" {
		return p.Number
	}
	return p.Number + "-" + p.Ext
}

// Masked returns the number for display to staff who may not see it in full:
// "139****5678", "010-****5678", "0755-***4567", "400-***-4567". The
// extension is left out.
func (p Phone) Masked() string {
	n := p.Number
	switch p.Kind {
	case PhoneMobile:
		if len(n) == 11 {
			return n[:3] + "****" + n[7:]
		}
	case PhoneLandline:
		if i := strings.IndexByte(n, '-'); i > 0 && len(n)-i-1 > 4 {
			return n[:i+1] + strings.Repeat("*", len(n)-i-5) + n[len(n)-4:]
		}
	case PhoneService:
		if len(n) == 12 {
			return n[:4] + "***" + n[7:]
		}
	}
	return maskAllButLast4(n)
}

// Last4 returns the last four digits of the number (not of the extension):
// the key staff search by when a customer reads out "尾号 5678".
func (p Phone) Last4() string { return PhoneLast4(p.Number) }

// PhoneLast4 returns the last four digits of s, ignoring everything that is
// not a digit and any extension written as "-ext" after a canonical landline;
// "" when s has fewer than four digits. Pass canonical numbers (Phone.Number).
func PhoneLast4(s string) string {
	var d [4]byte
	n := 0
	for i := len(s) - 1; i >= 0 && n < 4; i-- {
		if c := s[i]; c >= '0' && c <= '9' {
			n++
			d[4-n] = c
		}
	}
	if n < 4 {
		return ""
	}
	return string(d[:])
}

// MaskPhone masks a stored phone string for display. A valid number is
// masked as Phone.Masked does; anything else keeps only its last four digits.
func MaskPhone(s string) string {
	if p, err := ParsePhone(s); err == nil {
		return p.Masked()
	}
	return maskAllButLast4(s)
}

func maskAllButLast4(s string) string {
	if l4 := PhoneLast4(s); l4 != "" {
		return "****" + l4
	}
	return "****"
}

// phoneField is the field name of phone validation errors; callers that
// validate a differently named field re-label the FieldError.
const phoneField = "phone"

// Catalog keys of phone validation errors.
const (
	KeyPhoneEmpty        = "validation.phone_empty"
	KeyPhoneLetters      = "validation.phone_letters"
	KeyPhoneInvalidChars = "validation.phone_invalid_chars"
	KeyPhoneTooShort     = "validation.phone_too_short"
	KeyPhoneTooLong      = "validation.phone_too_long"
	KeyPhoneBadPrefix    = "validation.phone_bad_prefix"
	KeyPhoneAreaCode     = "validation.phone_area_code"
	KeyPhoneNoAreaCode   = "validation.phone_no_area_code"
	KeyPhoneForeign      = "validation.phone_foreign"
	KeyPhoneExtInvalid   = "validation.phone_ext_invalid"
	KeyPhoneExtMobile    = "validation.phone_ext_mobile"
)

func phoneErr(key string, params map[string]any) error {
	return domain.Invalid(phoneField, key, params)
}

// maxPhoneDigits bounds the digits kept while scanning; anything longer is
// too long whatever it is.
const maxPhoneDigits = 24

// phoneScan is the result of the lexical pass over a phone string.
type phoneScan struct {
	digits [maxPhoneDigits]byte
	n      int
	// seps are the digit counts at which a separator (space, dash, dot,
	// parenthesis) stood between two digits; dashes marks which were dashes.
	seps   [8]int
	dashes [8]bool
	nsep   int
	plus   bool
	ext    string
	hasExt bool
}

// ParsePhone validates a Chinese mainland phone number as a person typed it
// and returns it in canonical form. It accepts +86 / 0086 / 86 prefixes,
// full-width digits, spaces, dashes, dots and parentheses, and an extension
// after 转, 分机, ext, x or # (or "-123" after a complete landline number).
// Anything else is refused with a *domain.ValidationError for field "phone"
// whose key says what is wrong; digits are never added, dropped or guessed.
func ParsePhone(s string) (Phone, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Phone{}, phoneErr(KeyPhoneEmpty, nil)
	}
	var sc phoneScan
	if err := sc.scan(s); err != nil {
		return Phone{}, err
	}
	return sc.classify()
}

// scan splits s into digits, separator positions and extension.
func (sc *phoneScan) scan(s string) error {
	lastWasSep := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		switch {
		case r >= '0' && r <= '9':
			if sc.n == maxPhoneDigits {
				return phoneErr(KeyPhoneTooLong, map[string]any{"Digits": countDigits(s)})
			}
			if lastWasSep && sc.n > 0 && sc.nsep < len(sc.seps) {
				sc.seps[sc.nsep] = sc.n
				sc.nsep++
			}
			lastWasSep = false
			sc.digits[sc.n] = byte(r)
			sc.n++
		case r == ' ' || r == '\t' || r == '.' || r == '(' || r == ')' || r == 0xA0 || r == 0x3000 ||
			r == '\u2010' || r == '\u2013' || r == '\u2014' || r == '-':
			if r == '-' || r == '\u2010' || r == '\u2013' || r == '\u2014' {
				if sc.n > 0 && sc.nsep < len(sc.dashes) {
					sc.dashes[sc.nsep] = true
				}
			}
			lastWasSep = true
		case r == '+':
			if sc.n > 0 || sc.plus {
				return phoneErr(KeyPhoneInvalidChars, map[string]any{"Char": "+"})
			}
			sc.plus = true
		default:
			if m := extMarkerLen(s[i:]); m > 0 {
				if sc.n == 0 {
					return phoneErr(KeyPhoneTooShort, map[string]any{"Digits": 0})
				}
				return sc.scanExt(s[i+m:])
			}
			if unicode.IsLetter(r) {
				return phoneErr(KeyPhoneLetters, nil)
			}
			return phoneErr(KeyPhoneInvalidChars, map[string]any{"Char": string(r)})
		}
		i += size
	}
	// A trailing dash with no digits after it was recorded as a dash of the
	// next (absent) separator: forget it.
	if sc.nsep < len(sc.dashes) {
		sc.dashes[sc.nsep] = false
	}
	return nil
}

// extMarkerLen returns the length of an extension marker at the start of s:
// 转, 分机, ext, ext., x, X, #; 0 if there is none. A lone letter x counts
// only when a digit or space follows, so "xyz" is still letters.
func extMarkerLen(s string) int {
	switch {
	case strings.HasPrefix(s, "转"):
		return len("转")
	case strings.HasPrefix(s, "分机"):
		return len("分机")
	case strings.HasPrefix(s, "#"), strings.HasPrefix(s, "＃"):
		if s[0] == '#' {
			return 1
		}
		return len("＃")
	case len(s) >= 3 && strings.EqualFold(s[:3], "ext"):
		if len(s) > 3 && (s[3] == '.' || s[3] == ':') {
			return 4
		}
		return 3
	case len(s) >= 2 && (s[0] == 'x' || s[0] == 'X') && (s[1] == ' ' || (s[1] >= '0' && s[1] <= '9')):
		return 1
	}
	return 0
}

// scanExt validates the extension text after a marker: 1–6 digits, spaces
// and a colon allowed around them.
func (sc *phoneScan) scanExt(s string) error {
	s = strings.TrimLeft(strings.TrimSpace(s), ":：.")
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 6 {
		return phoneErr(KeyPhoneExtInvalid, nil)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return phoneErr(KeyPhoneExtInvalid, nil)
		}
	}
	sc.ext, sc.hasExt = s, true
	if sc.nsep < len(sc.dashes) {
		sc.dashes[sc.nsep] = false
	}
	return nil
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if (r >= '0' && r <= '9') || (r >= '０' && r <= '９') {
			n++
		}
	}
	return n
}

// classify decides the kind of number from its digits (the Chinese
// numbering plan fixes the area-code length by its second digit) and checks
// lengths and prefixes.
func (sc *phoneScan) classify() (Phone, error) {
	d := string(sc.digits[:sc.n])
	off := 0 // digits removed from the front (country code)
	intl := false
	switch {
	case sc.plus:
		if !strings.HasPrefix(d, "86") {
			return Phone{}, phoneErr(KeyPhoneForeign, nil)
		}
		off, intl = 2, true
	case strings.HasPrefix(d, "0086"):
		off, intl = 4, true
	case strings.HasPrefix(d, "00"):
		return Phone{}, phoneErr(KeyPhoneForeign, nil)
	case len(d) == 13 && strings.HasPrefix(d, "86") && d[2] == '1':
		off = 2
	}
	d = d[off:]
	// seps relative to d; a separator right after the country code is not
	// a grouping of the national number.
	var seps [8]int
	var dashes [8]bool
	ns := 0
	for i := 0; i < sc.nsep; i++ {
		if p := sc.seps[i] - off; p > 0 && p < len(d) {
			seps[ns], dashes[ns] = p, sc.dashes[i]
			ns++
		}
	}
	if intl {
		switch {
		case len(d) > 0 && d[0] == '0':
			// "+86 (0)10 …": the trunk zero is written; keep it, and its
			// parenthesis is no grouping of the area code.
			if ns > 0 && seps[0] == 1 {
				copy(seps[:], seps[1:ns])
				copy(dashes[:], dashes[1:ns])
				ns--
			}
		case len(d) > 1 && d[0] == '1' && d[1] != '0':
			// mobile
		case strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800"):
		case len(d) > 0:
			d = "0" + d
			for i := 0; i < ns; i++ {
				seps[i]++
			}
		}
	}
	if len(d) == 0 {
		return Phone{}, phoneErr(KeyPhoneTooShort, map[string]any{"Digits": 0})
	}
	if (strings.HasPrefix(d, "400") || strings.HasPrefix(d, "800")) && len(d) >= 9 {
		return sc.service(d, seps[:ns], dashes[:ns])
	}
	switch {
	case d[0] == '1':
		return sc.mobile(d)
	case d[0] == '0':
		return sc.landline(d, seps[:ns], dashes[:ns])
	case len(d) < 7:
		return Phone{}, phoneErr(KeyPhoneTooShort, map[string]any{"Digits": len(d)})
	case len(d) <= 8:
		return Phone{}, phoneErr(KeyPhoneNoAreaCode, nil)
	}
	return Phone{}, phoneErr(KeyPhoneBadPrefix, nil)
}

func (sc *phoneScan) mobile(d string) (Phone, error) {
	switch {
	case len(d) < 11:
		return Phone{}, phoneErr(KeyPhoneTooShort, map[string]any{"Digits": len(d)})
	case len(d) > 11:
		return Phone{}, phoneErr(KeyPhoneTooLong, map[string]any{"Digits": len(d)})
	case d[1] < '3':
		return Phone{}, phoneErr(KeyPhoneBadPrefix, nil)
	case sc.hasExt:
		return Phone{}, phoneErr(KeyPhoneExtMobile, nil)
	}
	return Phone{Kind: PhoneMobile, Number: d}, nil
}

// dashExt splits off an extension written as a last dash group ("-123")
// when the digits before it already form a complete number of length want.
func (sc *phoneScan) dashExt(d string, seps []int, dashes []bool, want func(int) bool) (string, string) {
	if sc.hasExt || len(seps) == 0 {
		return d, sc.ext
	}
	last := len(seps) - 1
	p := seps[last]
	if dashes[last] && want(p) && len(d)-p >= 1 && len(d)-p <= 6 {
		return d[:p], d[p:]
	}
	return d, sc.ext
}

func (sc *phoneScan) service(d string, seps []int, dashes []bool) (Phone, error) {
	d, ext := sc.dashExt(d, seps, dashes, func(p int) bool { return p == 10 })
	switch {
	case len(d) < 10:
		return Phone{}, phoneErr(KeyPhoneTooShort, map[string]any{"Digits": len(d)})
	case len(d) > 10:
		return Phone{}, phoneErr(KeyPhoneTooLong, map[string]any{"Digits": len(d)})
	}
	return Phone{Kind: PhoneService, Number: d[:3] + "-" + d[3:6] + "-" + d[6:], Ext: ext}, nil
}

func (sc *phoneScan) landline(d string, seps []int, dashes []bool) (Phone, error) {
	if len(d) < 3 {
		return Phone{}, phoneErr(KeyPhoneTooShort, map[string]any{"Digits": len(d)})
	}
	var area int
	switch {
	case d[1] == '1' && d[2] == '0':
		area = 3 // 010 Beijing
	case d[1] == '2':
		area = 3 // 020–029
	case d[1] >= '3' && d[1] <= '9':
		area = 4
	default: // 01x other than 010
		return Phone{}, phoneErr(KeyPhoneAreaCode, nil)
	}
	// If the writer grouped the area code, the grouping must agree.
	if len(seps) > 0 && seps[0] <= 4 && seps[0] != area {
		return Phone{}, phoneErr(KeyPhoneAreaCode, nil)
	}
	minLocal, maxLocal := 7, 8
	if area == 3 {
		minLocal = 8
	}
	d, ext := sc.dashExt(d, seps, dashes, func(p int) bool {
		return p-area >= minLocal && p-area <= maxLocal
	})
	local := d[area:]
	switch {
	case len(local) < minLocal:
		return Phone{}, phoneErr(KeyPhoneTooShort, map[string]any{"Digits": len(d)})
	case len(local) > maxLocal:
		return Phone{}, phoneErr(KeyPhoneTooLong, map[string]any{"Digits": len(d)})
	case local[0] == '0':
		return Phone{}, phoneErr(KeyPhoneBadPrefix, nil)
	}
	return Phone{Kind: PhoneLandline, Number: d[:area] + "-" + local, Ext: ext}, nil
}
