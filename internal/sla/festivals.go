package sla

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/6tail/lunar-go/calendar"
)

// The years for which festival dates and lunar conversions are offered.
// lunar-go computes the Chinese calendar astronomically (寿星万年历) and is
// correct well beyond this range; 1900–2100 is the range it is tested
// against in its own suite and in ours (the lunar years 1899 and 2100 are
// needed at the edges: 除夕 1900 is lunar 1899-12-30, and a date late in
// lunar 2100 falls in January 2101).
const (
	MinFestivalYear = 1900
	MaxFestivalYear = 2100
)

// Festival keys, stable identifiers for templates and the message catalog.
const (
	FestivalNewYearsDay  = "new_years_day"         // 元旦, 01-01
	FestivalNewYearsEve  = "new_years_eve"         // 除夕, last day of the lunar year
	FestivalSpring       = "spring_festival"       // 春节, lunar 1-1
	FestivalLantern      = "lantern_festival"      // 元宵, lunar 1-15
	FestivalWomensDay    = "womens_day"            // 妇女节, 03-08
	FestivalQingming     = "qingming_festival"     // 清明, solar term
	FestivalLabourDay    = "labour_day"            // 劳动节, 05-01
	FestivalChildrensDay = "childrens_day"         // 儿童节, 06-01
	FestivalDragonBoat   = "dragon_boat_festival"  // 端午, lunar 5-5
	FestivalQixi         = "qixi_festival"         // 七夕, lunar 7-7
	FestivalMidAutumn    = "mid_autumn_festival"   // 中秋, lunar 8-15
	FestivalNationalDay  = "national_day"          // 国庆节, 10-01
	FestivalDoubleNinth  = "double_ninth_festival" // 重阳, lunar 9-9
	festivalCount        = 13
	lunarMonthMaxDays    = 30
	lunarMonthsInYear    = 12
)

// Festival is one dated festival of a year.
type Festival struct {
	Key    string `json:"key"`
	NameZh string `json:"name_zh"`
	NameEn string `json:"name_en"`
	Date   Date   `json:"date"` // marshals as "2006-01-02"
}

// festivalRule describes one festival: a solar month/day, a lunar
// month/day, or (neither) a special rule in Festivals.
type festivalRule struct {
	key, zh, en  string
	solar, lunar [2]int
}

// festivalRules is also the tie-break order when two festivals share a date
// (端午 can fall on 06-01).
var festivalRules = [festivalCount]festivalRule{
	{key: FestivalNewYearsDay, zh: "元旦", en: "New Year's Day", solar: [2]int{1, 1}},
	{key: FestivalNewYearsEve, zh: "除夕", en: "Chinese New Year's Eve"},
	{key: FestivalSpring, zh: "春节", en: "Spring Festival", lunar: [2]int{1, 1}},
	{key: FestivalLantern, zh: "元宵节", en: "Lantern Festival", lunar: [2]int{1, 15}},
	{key: FestivalWomensDay, zh: "妇女节", en: "International Women's Day", solar: [2]int{3, 8}},
	{key: FestivalQingming, zh: "清明节", en: "Qingming Festival"},
	{key: FestivalLabourDay, zh: "劳动节", en: "Labour Day", solar: [2]int{5, 1}},
	{key: FestivalChildrensDay, zh: "儿童节", en: "Children's Day", solar: [2]int{6, 1}},
	{key: FestivalDragonBoat, zh: "端午节", en: "Dragon Boat Festival", lunar: [2]int{5, 5}},
	{key: FestivalQixi, zh: "七夕节", en: "Qixi Festival", lunar: [2]int{7, 7}},
	{key: FestivalMidAutumn, zh: "中秋节", en: "Mid-Autumn Festival", lunar: [2]int{8, 15}},
	{key: FestivalNationalDay, zh: "国庆节", en: "National Day", solar: [2]int{10, 1}},
	{key: FestivalDoubleNinth, zh: "重阳节", en: "Double Ninth Festival", lunar: [2]int{9, 9}},
}

// festivalCache memoizes Festivals per year: lunar-go computes a whole
// lunar year (new moons, solar terms) for each question, which is far
// slower than a map lookup, and the answer never changes.
var festivalCache sync.Map // int → []Festival

// Festivals returns the festivals of the Gregorian year in date order: 元旦,
// 除夕, 春节, 元宵, 妇女节, 清明, 劳动节, 儿童节, 端午, 七夕, 中秋, 国庆节, 重阳.
// 除夕 is the last day of the twelfth lunar month (the 29th or the 30th),
// the day before 春节, so it always falls in the same Gregorian year. 清明 is
// the day of the 清明 solar term in China (UTC+8). Years outside
// MinFestivalYear..MaxFestivalYear give ErrYearOutOfRange. The slice is a
// fresh copy.
func Festivals(year int) ([]Festival, error) {
	if year < MinFestivalYear || year > MaxFestivalYear {
		return nil, fmt.Errorf("%w: %d", ErrYearOutOfRange, year)
	}
	if v, ok := festivalCache.Load(year); ok {
		return slices.Clone(v.([]Festival)), nil
	}
	out := make([]Festival, 0, festivalCount)
	err := catchLunar(func() {
		for _, r := range festivalRules {
			var d Date
			switch {
			case r.solar[0] != 0:
				d = Date{year, time.Month(r.solar[0]), r.solar[1]}
			case r.lunar[0] != 0:
				d = solarOf(calendar.NewLunarFromYmd(year, r.lunar[0], r.lunar[1]))
			case r.key == FestivalNewYearsEve:
				d = lastDayOfLunarYear(year - 1)
			case r.key == FestivalQingming:
				s := calendar.NewLunarFromYmd(year, 1, 1).GetJieQiTable()["清明"]
				d = Date{s.GetYear(), time.Month(s.GetMonth()), s.GetDay()}
			}
			out = append(out, Festival{Key: r.key, NameZh: r.zh, NameEn: r.en, Date: d})
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Festival) int { return a.Date.Compare(b.Date) })
	festivalCache.Store(year, out)
	return slices.Clone(out), nil
}

// lastDayOfLunarYear returns the solar date of the last day of the twelfth
// month of lunar year y (its 29th or 30th). A leap twelfth month, which
// would follow it, does not occur in 1899–2100.
func lastDayOfLunarYear(y int) Date {
	m := calendar.NewLunarYear(y).GetMonth(12)
	return solarOf(calendar.NewLunarFromYmd(y, 12, m.GetDayCount()))
}

func solarOf(l *calendar.Lunar) Date {
	s := l.GetSolar()
	return Date{s.GetYear(), time.Month(s.GetMonth()), s.GetDay()}
}

// LunarToSolar returns the Gregorian date of lunar month/day in lunar year
// lunarYear (the year that starts at that year's 春节; lunar 12-20 of 2025
// falls in January 2026). leap asks for the leap month of that number. For
// recurring dates such as lunar birthdays, which must land somewhere every
// year, two fallbacks apply, and adjusted reports whether either did:
//   - leap is true but lunarYear has no leap month of that number: the
//     regular month is used;
//   - day 30 in a month of 29 days: the last day (29th) is used.
//
// Month must be 1–12 and day 1–30 (else ErrBadLunarDate); lunarYear must be
// within MinFestivalYear..MaxFestivalYear (else ErrYearOutOfRange).
func LunarToSolar(lunarYear, month, day int, leap bool) (d Date, adjusted bool, err error) {
	if lunarYear < MinFestivalYear || lunarYear > MaxFestivalYear {
		return Date{}, false, fmt.Errorf("%w: %d", ErrYearOutOfRange, lunarYear)
	}
	if month < 1 || month > lunarMonthsInYear || day < 1 || day > lunarMonthMaxDays {
		return Date{}, false, fmt.Errorf("%w: month %d day %d", ErrBadLunarDate, month, day)
	}
	err = catchLunar(func() {
		ly := calendar.NewLunarYear(lunarYear)
		m := month
		if leap {
			if ly.GetLeapMonth() == month {
				m = -month // lunar-go numbers a leap month negatively
			} else {
				adjusted = true
			}
		}
		if n := ly.GetMonth(m).GetDayCount(); day > n {
			day, adjusted = n, true
		}
		d = solarOf(calendar.NewLunarFromYmd(lunarYear, m, day))
	})
	return d, adjusted, err
}

// NextLunarAnniversary returns the first date on or after from that is lunar
// month/day (a lunar birthday, say), with LunarToSolar's fallbacks. The
// search covers the lunar years around from's year, so it also finds a
// twelfth-month date that falls in January.
func NextLunarAnniversary(from Date, month, day int, leap bool) (Date, error) {
	for y := from.Year - 1; y <= from.Year+1; y++ {
		if y < MinFestivalYear || y > MaxFestivalYear {
			continue
		}
		d, _, err := LunarToSolar(y, month, day, leap)
		if err != nil {
			return Date{}, err
		}
		if !d.Before(from) {
			return d, nil
		}
	}
	return Date{}, fmt.Errorf("%w: no lunar %d-%d on or after %v", ErrYearOutOfRange, month, day, from)
}

// catchLunar runs f and turns a lunar-go panic (it panics on impossible
// dates instead of returning errors) into an error.
func catchLunar(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrBadLunarDate, r)
		}
	}()
	f()
	return nil
}
