package sla

import (
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/i18n"
)

// PromiseKind says how a promised time is best put in words: relative to
// the day of the request, by weekday, by date, or with the reason the day is
// special (the first working day after a holiday, a make-up working day).
type PromiseKind string

// The kinds of promise, in the order Promise picks them: a make-up working
// day is always said as such (a customer does not expect an answer on a
// Saturday), then a due day right after a holiday, then today, tomorrow, a
// weekday within the coming six days, and otherwise the date.
const (
	PromiseMakeUpDay    PromiseKind = "make_up_day"
	PromiseAfterHoliday PromiseKind = "after_holiday"
	PromiseToday        PromiseKind = "today"
	PromiseTomorrow     PromiseKind = "tomorrow"
	PromiseWeekday      PromiseKind = "weekday"
	PromiseDate         PromiseKind = "date"
)

// Promise is the time a customer is told they will hear back by, with what
// is needed to say it in plain words. Promise is pure data; Text renders it.
type Promise struct {
	Received time.Time     `json:"received"` // the request, in the calendar's zone
	Target   time.Duration `json:"target"`   // business time promised
	Due      time.Time     `json:"due"`      // Calendar.Add(Received, Target), in the calendar's zone
	Kind     PromiseKind   `json:"kind"`
	// HolidayName is the calendar's name of the holiday the due day follows
	// ("春节", "国庆节、中秋节") for PromiseAfterHoliday; "" when the
	// calendar's exception carries no name.
	HolidayName string `json:"holiday_name,omitempty"`
	// MakeUpDay is true when the due day is a make-up working day (调休上班):
	// a day the regular week closes that an exception opens.
	MakeUpDay bool `json:"make_up_day"`
	// OtherYear is true when the due day is in another year than the request
	// (the date is then said with its year).
	OtherYear bool `json:"other_year"`
}

// Promise computes when a request received at received will be answered
// under a business-time target and classifies the due day for Text. All
// dates are local dates of the calendar's zone.
func (c *Calendar) Promise(received time.Time, target time.Duration) (Promise, error) {
	due, err := c.Add(received, target)
	if err != nil {
		return Promise{}, err
	}
	recv := received.In(c.loc)
	p := Promise{Received: recv, Target: target, Due: due}
	rd, dd := DateOf(recv), DateOf(due)
	p.OtherYear = rd.Year != dd.Year
	if e, ok := c.exceptionOn(dd); ok && !e.Off && c.week[dd.Weekday()].total == 0 {
		p.MakeUpDay = true
		p.Kind = PromiseMakeUpDay
		return p, nil
	}
	// Walk back from the day before the due day over closed days, as far as
	// the day of the request: a holiday among them makes the due day "the
	// first working day after" it.
	for d := dd.AddDays(-1); !d.Before(rd) && !c.IsWorkingDay(d); d = d.AddDays(-1) {
		if e, ok := c.exceptionOn(d); ok && e.Off {
			p.Kind = PromiseAfterHoliday
			p.HolidayName = e.Name
			return p, nil
		}
	}
	switch days := dd.days() - rd.days(); {
	case days <= 0:
		p.Kind = PromiseToday
	case days == 1:
		p.Kind = PromiseTomorrow
	case days <= 6:
		p.Kind = PromiseWeekday
	default:
		p.Kind = PromiseDate
	}
	return p, nil
}

// exceptionOn returns the calendar's exception for date d, with its name.
func (c *Calendar) exceptionOn(d Date) (Exception, bool) {
	if _, found := c.planOf(d.days()); !found {
		return Exception{}, false
	}
	for _, e := range c.def.Exceptions {
		if e.Date == d {
			return e, true
		}
	}
	return Exception{}, false
}

// holidaySlugs maps the holiday names of the State Council notices (as the
// built-in data and holiday-cn imports carry them) to catalog keys.
var holidaySlugs = map[string]string{
	"元旦":  "new_year",
	"春节":  "spring_festival",
	"清明节": "qingming",
	"劳动节": "labour_day",
	"端午节": "dragon_boat",
	"中秋节": "mid_autumn",
	"国庆节": "national_day",
}

// HolidayDisplayName translates a calendar's holiday name into lang. Known
// statutory names (also combined ones such as "国庆节、中秋节") come from
// the catalog; any other name (an imported company holiday) is shown as
// written.
func HolidayDisplayName(cat *i18n.Catalog, lang, name string) string {
	parts := strings.Split(name, "、")
	out := make([]string, len(parts))
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if slug, ok := holidaySlugs[part]; ok {
			out[i] = cat.T(lang, "sla_promise.holiday."+slug, nil)
		} else {
			out[i] = part
		}
	}
	if len(out) == 1 {
		return out[0]
	}
	return strings.Join(out[:len(out)-1], cat.T(lang, "sla_promise.list_sep", nil)) +
		cat.T(lang, "sla_promise.list_and", nil) + out[len(out)-1]
}

var weekdaySlugs = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Text says the promise in lang ("zh-CN" or "en"), e.g. "2月24日 09:10 前
// （春节假期后的第一个工作日）" or "by 09:10 on 24 February, the first working
// day after the Spring Festival holiday". Times are the calendar's wall
// clock (24-hour).
func (p Promise) Text(cat *i18n.Catalog, lang string) string {
	due := p.Due
	dateKey := "sla_promise.date_format"
	if p.OtherYear {
		dateKey = "sla_promise.date_format_year"
	}
	params := map[string]any{
		"Time":    due.Format("15:04"),
		"Weekday": cat.T(lang, "sla_promise.weekday."+weekdaySlugs[due.Weekday()], nil),
	}
	params["Date"] = cat.T(lang, dateKey, map[string]any{
		"Year":      strconv.Itoa(due.Year()),
		"Month":     strconv.Itoa(int(due.Month())),
		"MonthName": cat.T(lang, "sla_promise.month."+strconv.Itoa(int(due.Month())), nil),
		"Day":       strconv.Itoa(due.Day()),
	})
	key := "sla_promise." + string(p.Kind)
	if p.Kind == PromiseAfterHoliday {
		if p.HolidayName == "" {
			key = "sla_promise.after_unnamed_holiday"
		} else {
			params["Holiday"] = HolidayDisplayName(cat, lang, p.HolidayName)
		}
	}
	return cat.T(lang, key, params)
}
