package customers

import (
	"fmt"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/domain"
)

// Customer numbers are YYYYMM of the registration month in the business time
// zone followed by the serial within that month, zero-padded to at least
// three digits: 202405001, 202405002 … 202405999, 2024051000.
//
// Exactly one string denotes each (month, serial): "2024050001" is refused,
// not read as serial 1, so that uniqueness of the string is uniqueness of the
// number.

// Bounds of a customer number.
const (
	NumberMinYear      = 2000
	NumberMaxYear      = 2199
	numberMinSerialLen = 3
	numberMaxSerialLen = 9 // keeps serial well inside int
)

// Catalog keys of customer-number validation errors.
const (
	KeyNumberFormat = "validation.customer_number_format"
	KeyNumberDigits = "validation.customer_number_digits"
	KeyNumberYear   = "validation.customer_number_year"
	KeyNumberMonth  = "validation.customer_number_month"
	KeyNumberSerial = "validation.customer_number_serial"
)

const numberField = "number"

// chinaStandardTime is used when no business location is given: China has
// kept UTC+8 without daylight saving since 1991, so a fixed zone is exact
// for customer numbers even on hosts without tzdata.
var chinaStandardTime = time.FixedZone("CST", 8*60*60)

// FormatNumber returns the customer number for serial within month. month
// must already be in the business time zone (see MonthKey); only its year
// and month are used. serial < 1 or a year outside 2000–2199 is a programming
// error (serials come from a counter that starts at 1) and panics.
func FormatNumber(month time.Time, serial int) string {
	y, m := month.Year(), int(month.Month())
	if serial < 1 || y < NumberMinYear || y > NumberMaxYear {
		panic(fmt.Sprintf("customers: FormatNumber(%04d-%02d, %d) out of range", y, m, serial))
	}
	var buf [6 + 20]byte
	b := strconv.AppendInt(buf[:0], int64(y), 10)
	b = append(b, byte('0'+m/10), byte('0'+m%10))
	switch {
	case serial < 10:
		b = append(b, '0', '0')
	case serial < 100:
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(serial), 10)
	return string(b)
}

// ParseNumber validates a customer number and returns its parts. Errors are
// *domain.ValidationError for field "number" whose key says what is wrong:
// not digits, too short, year outside 2000–2199, month outside 01–12, serial
// 0 or padded beyond three digits.
func ParseNumber(s string) (year, month, serial int, err error) {
	if s == "" {
		return 0, 0, 0, numberErr(KeyNumberFormat, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, 0, numberErr(KeyNumberDigits, s)
		}
	}
	if len(s) < 6+numberMinSerialLen || len(s) > 6+numberMaxSerialLen {
		return 0, 0, 0, numberErr(KeyNumberFormat, s)
	}
	year = atoiDigits(s[:4])
	month = atoiDigits(s[4:6])
	serial = atoiDigits(s[6:])
	switch {
	case year < NumberMinYear || year > NumberMaxYear:
		return 0, 0, 0, numberErr(KeyNumberYear, s)
	case month < 1 || month > 12:
		return 0, 0, 0, numberErr(KeyNumberMonth, s)
	case serial < 1:
		return 0, 0, 0, numberErr(KeyNumberSerial, s)
	case len(s) > 6+numberMinSerialLen && s[6] == '0':
		// 2024050001: the canonical form of serial 1 is 202405001.
		return 0, 0, 0, numberErr(KeyNumberSerial, s)
	}
	return year, month, serial, nil
}

func numberErr(key, s string) error {
	return domain.Invalid(numberField, key, map[string]any{"Value": s})
}

// atoiDigits converts a string known to hold only ASCII digits (at most 9).
func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// MonthKey returns "YYYYMM" of t in loc, the prefix of the numbers of
// customers registered at t. A nil loc means China Standard Time (UTC+8).
func MonthKey(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = chinaStandardTime
	}
	t = t.In(loc)
	y, m := t.Year(), int(t.Month())
	var buf [8]byte
	b := strconv.AppendInt(buf[:0], int64(y), 10)
	b = append(b, byte('0'+m/10), byte('0'+m%10))
	return string(b)
}

// isNumberPrefix reports whether s begins with a plausible YYYYMM.
func isNumberPrefix(s string) bool {
	if len(s) < 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	y, m := atoiDigits(s[:4]), atoiDigits(s[4:6])
	return y >= NumberMinYear && y <= NumberMaxYear && m >= 1 && m <= 12
}
