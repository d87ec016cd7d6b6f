package sheets

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// excelMaxSerial is 9999-12-31 as an Excel serial.
const excelMaxSerial = 2958465

// ParseDate reads a date cell: an Excel serial (XLSX raw values),
// YYYY-M-D with -, / or . separators, YYYY年M月D日 or YYYYMMDD, optionally
// followed by a time that is ignored. Day-first and month-first forms are
// refused: 03/04/2024 is ambiguous. Years run 1900–2199.
func ParseDate(s string, xlsx, date1904 bool) (time.Time, bool) {
	if len(s) == 8 && isDigits(s) {
		return validDate(atoiDigits(s[:4]), atoiDigits(s[4:6]), atoiDigits(s[6:]))
	}
	if xlsx && isSerial(s) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 1 || v > excelMaxSerial {
			return time.Time{}, false
		}
		t, err := excelDate(v, date1904)
		if err != nil {
			return time.Time{}, false
		}
		return validDate(t.Year(), int(t.Month()), t.Day())
	}
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(s, "日")
	var parts [3]int
	n := 0
	start := 0
	for i := 0; i <= len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if i == len(s) || r == '-' || r == '/' || r == '.' || r == '年' || r == '月' {
			if n == 3 || !isDigits(s[start:i]) || i-start > 4 || i == start {
				return time.Time{}, false
			}
			parts[n] = atoiDigits(s[start:i])
			if n == 0 && i-start != 4 {
				return time.Time{}, false // year first, four digits
			}
			n++
			if i == len(s) {
				break
			}
			start = i + size
		}
		i += size
	}
	if n != 3 {
		return time.Time{}, false
	}
	return validDate(parts[0], parts[1], parts[2])
}

// isSerial reports whether s is a non-negative decimal number that is not a
// lone four-digit integer (a year, not the serial of a day in 1905).
func isSerial(s string) bool {
	if s == "" || (len(s) == 4 && isDigits(s)) {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validDate returns the civil date y-m-d at 00:00 UTC if it exists and its
// year is 1900–2199.
func validDate(y, m, d int) (time.Time, bool) {
	if y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false // 2月30日
	}
	return t, true
}

// atoiDigits converts a string of at most nine ASCII digits.
func atoiDigits(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
