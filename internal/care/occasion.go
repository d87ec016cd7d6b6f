package care

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/sla"
)

// Occasion is one reason a plan owes a customer a contact: its key (unique
// per plan and customer: "spring_festival:2027", "purchase:42"), its date
// and the window that follows from the plan.
type Occasion struct {
	Key       string   `json:"occasion_key"`
	Date      sla.Date `json:"occasion_date"`
	Due       sla.Date `json:"due_on"`
	WindowEnd sla.Date `json:"window_end"`
}

// owned is a product a customer owns, as the scheduler needs it.
type owned struct {
	ID, ProductID         int64
	Purchase, WarrantyEnd sla.Date
	MaintenanceMonths     int
}

// contract is a service contract's end.
type contract struct {
	ID   int64
	Ends sla.Date
}

// facts are what the plans read of one customer.
type facts struct {
	ID                                     int64
	Type, Tier, Stage, Preferred, Birthday string
	LunarBirthday, CoopStart               string
	OwnerID                                int64
	Tags                                   []string
	Created                                sla.Date
	Products                               []owned
	Contracts                              []contract
}

// since is when the customer started cooperating: the cooperation start,
// else the registration (as customers.SegmentRules counts it).
func (f *facts) since() sla.Date {
	if d, err := sla.ParseDate(f.CoopStart); err == nil {
		return d
	}
	return f.Created
}

// occasions returns the plan's occasions for f whose task is visible on day:
// day falls between the window's start less the lead time and its end. A
// run after downtime therefore still serves a window that is open, and never
// one that has closed.
func (pl *Plan) occasions(f *facts, day sla.Date) []Occasion {
	// The occasion dates whose window is visible on day.
	lo, hi := day.AddDays(-pl.WindowEnd), day.AddDays(pl.LeadDays-pl.WindowStart)
	var out []Occasion
	// The key is made only for a visible date: most dates are not, and a
	// run asks about every customer.
	visible := func(d sla.Date) bool { return !d.IsZero() && !d.Before(lo) && !hi.Before(d) }
	add := func(key string, d sla.Date) {
		out = append(out, Occasion{Key: key, Date: d, Due: d.AddDays(pl.WindowStart), WindowEnd: d.AddDays(pl.WindowEnd)})
	}
	switch pl.Kind {
	case KindAfterPurchase:
		for _, p := range pl.products(f) {
			if visible(p.Purchase) {
				add(fmt.Sprintf("purchase:%d", p.ID), p.Purchase)
			}
		}
	case KindWarranty:
		for _, p := range pl.products(f) {
			if visible(p.WarrantyEnd) {
				add(fmt.Sprintf("warranty:%d", p.ID), p.WarrantyEnd)
			}
		}
	case KindMaintenance:
		for _, p := range pl.products(f) {
			months := pl.Params.Months
			if months == 0 {
				months = p.MaintenanceMonths
			}
			if months <= 0 || p.Purchase.IsZero() {
				continue
			}
			// The first interval that could reach lo, then on until hi.
			k := max(1, monthsBetween(p.Purchase, lo)/months-1)
			for ; ; k++ {
				d := addMonths(p.Purchase, k*months)
				if hi.Before(d) {
					break
				}
				if visible(d) {
					add(fmt.Sprintf("maintenance:%d:%d", p.ID, k), d)
				}
			}
		}
	case KindContract:
		for _, c := range f.Contracts {
			if visible(c.Ends) {
				add(fmt.Sprintf("contract:%d", c.ID), c.Ends)
			}
		}
	case KindFestival:
		for y := lo.Year; y <= hi.Year; y++ {
			if d, ok := festivalDate(pl.Params.Festival, y); ok {
				if visible(d) {
					add(fmt.Sprintf("%s:%d", pl.Params.Festival, y), d)
				}
			}
		}
	case KindBirthday:
		if m, d, leap, ok := parseLunarBirthday(f.LunarBirthday); ok {
			birth, _ := sla.ParseDate(f.Birthday)
			for y := lo.Year - 1; y <= hi.Year; y++ {
				if y < sla.MinFestivalYear || y > sla.MaxFestivalYear || (!birth.IsZero() && y <= birth.Year) {
					continue
				}
				if s, _, err := sla.LunarToSolar(y, m, d, leap); err == nil {
					if visible(s) {
						add(fmt.Sprintf("birthday:lunar:%d", y), s)
					}
				}
			}
			break
		}
		if b, err := sla.ParseDate(f.Birthday); err == nil {
			for y := max(lo.Year, b.Year+1); y <= hi.Year; y++ {
				if d := anniversaryIn(b, y); visible(d) {
					add(fmt.Sprintf("birthday:%d", y), d)
				}
			}
		}
	case KindAnniversary:
		if s, err := sla.ParseDate(f.CoopStart); err == nil {
			for y := max(lo.Year, s.Year+1); y <= hi.Year; y++ {
				if d := anniversaryIn(s, y); visible(d) {
					add(fmt.Sprintf("anniversary:%d", y), d)
				}
			}
		}
	case KindDeepTalk:
		years := max(pl.Params.MinYears, 1)
		since := f.since()
		for q := quarterStart(lo); !hi.Before(q); q = addMonths(q, 3) {
			// Old enough on the quarter's first day.
			if since.IsZero() || q.Before(addMonths(since, 12*years)) {
				continue
			}
			if visible(q) {
				add(fmt.Sprintf("deep_talk:%dQ%d", q.Year, (int(q.Month)-1)/3+1), q)
			}
		}
	}
	return out
}

// products are the customer's products the plan is about: all, or those of
// the target's products.
func (pl *Plan) products(f *facts) []owned {
	if len(pl.Target.ProductIDs) == 0 {
		return f.Products
	}
	var out []owned
	for _, p := range f.Products {
		if slices.Contains(pl.Target.ProductIDs, p.ProductID) {
			out = append(out, p)
		}
	}
	return out
}

// anniversaryIn is d's month and day in year y; Feb 29 falls on Feb 28 in
// common years (the last day of February, the day before it would have been).
func anniversaryIn(d sla.Date, y int) sla.Date {
	if d.Month == time.February && d.Day == 29 && !isLeap(y) {
		return sla.Date{Year: y, Month: time.February, Day: 28}
	}
	return sla.Date{Year: y, Month: d.Month, Day: d.Day}
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// addMonths adds n months, keeping the day where the month has it and
// falling back to the month's last day (Aug 31 + 6 months = Feb 28/29).
func addMonths(d sla.Date, n int) sla.Date {
	m := int(d.Month) - 1 + n
	y := d.Year + m/12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	last := time.Date(y, time.Month(m+2), 0, 0, 0, 0, 0, time.UTC).Day()
	return sla.Date{Year: y, Month: time.Month(m + 1), Day: min(d.Day, last)}
}

func monthsBetween(a, b sla.Date) int {
	return (b.Year-a.Year)*12 + int(b.Month) - int(a.Month)
}

func quarterStart(d sla.Date) sla.Date {
	return sla.Date{Year: d.Year, Month: time.Month((int(d.Month)-1)/3*3 + 1), Day: 1}
}

// festivalMemo keeps festivalDate's answers: sla.Festivals copies a year's
// list on every call, and a run asks for every customer.
var festivalMemo sync.Map // festivalYear → sla.Date (zero: none)

type festivalYear struct {
	key  string
	year int
}

// festivalDate is the festival's date in year y, from the festival engine.
func festivalDate(key string, y int) (sla.Date, bool) {
	if v, ok := festivalMemo.Load(festivalYear{key, y}); ok {
		d := v.(sla.Date)
		return d, !d.IsZero()
	}
	var d sla.Date
	if fs, err := sla.Festivals(y); err == nil {
		for _, f := range fs {
			if f.Key == key {
				d = f.Date
			}
		}
	}
	festivalMemo.Store(festivalYear{key, y}, d)
	return d, !d.IsZero()
}
