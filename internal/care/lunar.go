package care

import (
	"strconv"
	"strings"
)

// parseLunarBirthday reads customers.lunar_birthday: "MM-DD" of the lunar
// calendar, with "闰" or "L" in front for a leap month ("闰04-15"). A leap
// month's birthday falls in the regular month of that number in the years
// without the leap month, and day 30 on the 29th in a short month
// (sla.LunarToSolar's fallbacks).
func parseLunarBirthday(s string) (month, day int, leap, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, 0, false, false
	}
	for _, p := range []string{"闰", "L", "l"} {
		if rest, found := strings.CutPrefix(s, p); found {
			s, leap = rest, true
			break
		}
	}
	ms, ds, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false, false
	}
	m, err1 := strconv.Atoi(ms)
	d, err2 := strconv.Atoi(ds)
	if err1 != nil || err2 != nil || m < 1 || m > 12 || d < 1 || d > 30 {
		return 0, 0, false, false
	}
	return m, d, leap, true
}
