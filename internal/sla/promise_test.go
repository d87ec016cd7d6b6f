package sla

import (
	"testing"
	"time"

	"github.com/careloop/careloop/internal/i18n"
)

func TestPromiseText(t *testing.T) {
	cat := i18n.MustLoad()
	sh := mustZone("Asia/Shanghai")
	berlin := mustZone("Europe/Berlin")
	def := Default()
	berlinOffice := MustNew(Definition{Name: "berlin", TimeZone: "Europe/Berlin", Hours: func() WeekHours {
		var w WeekHours
		for d := time.Monday; d <= time.Friday; d++ {
			w[d] = MustHours("09:00", "17:00")
		}
		return w
	}()})
	berlin247 := MustNew(TwentyFourSevenDefinition("berlin-24x7", "Europe/Berlin"))
	unnamed := MustNew(Definition{Name: "unnamed", Hours: StandardHours(), Exceptions: []Exception{
		{Date: Date{2027, time.March, 2}, Off: true},
	}})
	combined := MustNew(Definition{Name: "combined", Hours: StandardHours(), Exceptions: []Exception{
		{Date: Date{2027, time.October, 1}, Off: true, Name: "国庆节、中秋节"},
		{Date: Date{2027, time.September, 30}, Off: true, Name: "公司年会"},
		{Date: Date{2027, time.June, 1}, Off: true, Name: "公司年会"},
	}})

	cases := []struct {
		name     string
		cal      *Calendar
		received time.Time
		target   time.Duration
		due      time.Time
		kind     PromiseKind
		zh, en   string
	}{
		{"inside the Spring Festival break (the issue's example)", def,
			time.Date(2026, 2, 16, 20, 0, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 2, 24, 9, 10, 0, 0, sh), PromiseAfterHoliday,
			"2月24日 09:10 前（春节假期后的第一个工作日）",
			"by 09:10 on 24 February, the first working day after the Spring Festival holiday"},
		{"the same instant given in UTC", def,
			time.Date(2026, 2, 16, 12, 0, 0, 0, time.UTC), 10 * time.Minute,
			time.Date(2026, 2, 24, 9, 10, 0, 0, sh), PromiseAfterHoliday,
			"2月24日 09:10 前（春节假期后的第一个工作日）",
			"by 09:10 on 24 February, the first working day after the Spring Festival holiday"},
		{"Friday evening before the make-up Saturday (the issue's example)", def,
			time.Date(2026, 2, 13, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 2, 14, 9, 5, 0, 0, sh), PromiseMakeUpDay,
			"2月14日（周六，调休上班）09:05 前",
			"by 09:05 on Saturday 14 February (a make-up working day)"},
		{"the evening before the Spring Festival break", def,
			time.Date(2026, 2, 14, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 2, 24, 9, 5, 0, 0, sh), PromiseAfterHoliday,
			"2月24日 09:05 前（春节假期后的第一个工作日）",
			"by 09:05 on 24 February, the first working day after the Spring Festival holiday"},
		{"after the break, same day", def,
			time.Date(2026, 2, 24, 15, 10, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 2, 24, 15, 20, 0, 0, sh), PromiseToday,
			"今天 15:20 前", "today by 15:20"},
		{"after the break, next day", def,
			time.Date(2026, 2, 25, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 2, 26, 9, 5, 0, 0, sh), PromiseTomorrow,
			"明天 09:05 前", "tomorrow by 09:05"},
		{"over the lunch break", def,
			time.Date(2026, 3, 4, 11, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 3, 4, 13, 35, 0, 0, sh), PromiseToday,
			"今天 13:35 前", "today by 13:35"},
		{"over a weekend", def,
			time.Date(2026, 3, 6, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 3, 9, 9, 5, 0, 0, sh), PromiseWeekday,
			"周一 09:05 前", "by 09:05 on Monday"},
		{"later in the week", def,
			time.Date(2026, 3, 9, 9, 0, 0, 0, sh), 24 * time.Hour,
			time.Date(2026, 3, 12, 10, 30, 0, 0, sh), PromiseWeekday,
			"周四 10:30 前", "by 10:30 on Thursday"},
		{"more than six days ahead", def,
			time.Date(2026, 3, 9, 9, 0, 0, 0, sh), 40 * time.Hour,
			time.Date(2026, 3, 16, 11, 30, 0, 0, sh), PromiseDate,
			"3月16日 11:30 前", "by 11:30 on 16 March"},
		{"make-up Sunday before the Mid-Autumn and National Day breaks", def,
			time.Date(2026, 9, 19, 12, 0, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 9, 20, 9, 10, 0, 0, sh), PromiseMakeUpDay,
			"9月20日（周日，调休上班）09:10 前",
			"by 09:10 on Sunday 20 September (a make-up working day)"},
		{"before the Mid-Autumn break", def,
			time.Date(2026, 9, 24, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 9, 28, 9, 5, 0, 0, sh), PromiseAfterHoliday,
			"9月28日 09:05 前（中秋节假期后的第一个工作日）",
			"by 09:05 on 28 September, the first working day after the Mid-Autumn Festival holiday"},
		{"before the National Day break", def,
			time.Date(2026, 9, 30, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 10, 8, 9, 5, 0, 0, sh), PromiseAfterHoliday,
			"10月8日 09:05 前（国庆节假期后的第一个工作日）",
			"by 09:05 on 8 October, the first working day after the National Day holiday"},
		{"inside the National Day break", def,
			time.Date(2026, 10, 3, 10, 0, 0, 0, sh), 2 * time.Hour,
			time.Date(2026, 10, 8, 11, 0, 0, 0, sh), PromiseAfterHoliday,
			"10月8日 11:00 前（国庆节假期后的第一个工作日）",
			"by 11:00 on 8 October, the first working day after the National Day holiday"},
		{"last day of the National Day break", def,
			time.Date(2026, 10, 7, 23, 0, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 10, 8, 9, 10, 0, 0, sh), PromiseAfterHoliday,
			"10月8日 09:10 前（国庆节假期后的第一个工作日）",
			"by 09:10 on 8 October, the first working day after the National Day holiday"},
		{"make-up Saturday after the National Day break", def,
			time.Date(2026, 10, 9, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 10, 10, 9, 5, 0, 0, sh), PromiseMakeUpDay,
			"10月10日（周六，调休上班）09:05 前",
			"by 09:05 on Saturday 10 October (a make-up working day)"},
		{"New Year's Eve into the next year's make-up Sunday", def,
			time.Date(2025, 12, 31, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2026, 1, 4, 9, 5, 0, 0, sh), PromiseMakeUpDay,
			"2026年1月4日（周日，调休上班）09:05 前",
			"by 09:05 on Sunday 4 January 2026 (a make-up working day)"},
		{"a holiday without a name", unnamed,
			time.Date(2027, 3, 1, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2027, 3, 3, 9, 5, 0, 0, sh), PromiseAfterHoliday,
			"3月3日 09:05 前（假期后的第一个工作日）",
			"by 09:05 on 3 March, the first working day after the holiday"},
		{"a combined statutory name, the nearest holiday's", combined,
			time.Date(2027, 9, 29, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2027, 10, 4, 9, 5, 0, 0, sh), PromiseAfterHoliday,
			"10月4日 09:05 前（国庆节、中秋节假期后的第一个工作日）",
			"by 09:05 on 4 October, the first working day after the National Day and Mid-Autumn Festival holiday"},
		{"a company holiday's own name", combined,
			time.Date(2027, 5, 31, 17, 55, 0, 0, sh), 10 * time.Minute,
			time.Date(2027, 6, 2, 9, 5, 0, 0, sh), PromiseAfterHoliday,
			"6月2日 09:05 前（公司年会假期后的第一个工作日）",
			"by 09:05 on 2 June, the first working day after the 公司年会 holiday"},
		{"Berlin office hours over the spring DST change", berlinOffice,
			time.Date(2026, 3, 27, 16, 0, 0, 0, berlin), 2 * time.Hour,
			time.Date(2026, 3, 30, 10, 0, 0, 0, berlin), PromiseWeekday,
			"周一 10:00 前", "by 10:00 on Monday"},
		{"Berlin 24×7 over the spring DST change (an hour skipped)", berlin247,
			time.Date(2026, 3, 28, 23, 30, 0, 0, berlin), 4 * time.Hour,
			time.Date(2026, 3, 29, 4, 30, 0, 0, berlin), PromiseTomorrow,
			"明天 04:30 前", "tomorrow by 04:30"},
		{"Berlin 24×7 over the autumn DST change (an hour repeated)", berlin247,
			time.Date(2026, 10, 24, 23, 30, 0, 0, berlin), 4 * time.Hour,
			time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC).In(berlin), PromiseTomorrow,
			"明天 02:30 前", "tomorrow by 02:30"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.cal.Promise(tc.received, tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Due.Equal(tc.due) || p.Due.Location() != tc.cal.Location() {
				t.Errorf("due = %v, want %v in %v", p.Due, tc.due, tc.cal.Location())
			}
			if p.Kind != tc.kind {
				t.Errorf("kind = %q, want %q", p.Kind, tc.kind)
			}
			if p.MakeUpDay != (tc.kind == PromiseMakeUpDay) {
				t.Errorf("MakeUpDay = %v", p.MakeUpDay)
			}
			if got := p.Text(cat, "zh-CN"); got != tc.zh {
				t.Errorf("zh-CN = %q, want %q", got, tc.zh)
			}
			if got := p.Text(cat, "en"); got != tc.en {
				t.Errorf("en = %q, want %q", got, tc.en)
			}
		})
	}
}

func TestPromiseHolidayNameFromCalendar(t *testing.T) {
	p, err := Default().Promise(time.Date(2026, 2, 16, 20, 0, 0, 0, mustZone("Asia/Shanghai")), 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if p.HolidayName != "春节" {
		t.Errorf("HolidayName = %q, want 春节", p.HolidayName)
	}
	cat := i18n.MustLoad()
	for name, want := range map[string]string{
		"元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Qingming Festival",
		"劳动节": "Labour Day", "端午节": "Dragon Boat Festival", "中秋节": "Mid-Autumn Festival",
		"国庆节": "National Day", "公司年会": "公司年会",
	} {
		if got := HolidayDisplayName(cat, "en", name); got != want {
			t.Errorf("en %s = %q, want %q", name, got, want)
		}
		if got := HolidayDisplayName(cat, "zh-CN", name); got != name {
			t.Errorf("zh-CN %s = %q", name, got)
		}
	}
}

func TestPromiseErrors(t *testing.T) {
	if _, err := Default().Promise(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), -time.Minute); err == nil {
		t.Error("a negative target gave no error")
	}
}
