package sla

import "slices"

// ExceptionChange is one date whose rule differs between two lists.
type ExceptionChange struct {
	Date Date      `json:"date"`
	Old  Exception `json:"old"`
	New  Exception `json:"new"`
}

// ExceptionDiff is the preview of what replacing one list of exceptions by
// another changes, each part in date order.
type ExceptionDiff struct {
	Added   []Exception       `json:"added"`
	Changed []ExceptionChange `json:"changed"`
	Removed []Exception       `json:"removed"`
}

// Empty reports whether nothing changes.
func (d ExceptionDiff) Empty() bool {
	return len(d.Added) == 0 && len(d.Changed) == 0 && len(d.Removed) == 0
}

// DiffExceptions compares two lists by date: a date only in next is added,
// only in prev removed, in both with a different rule (off, own hours or
// make-up day) changed. Names are labels and are not compared. Neither input
// is modified; if a list holds a date twice the last entry counts.
func DiffExceptions(prev, next []Exception) ExceptionDiff {
	old := byDate(prev)
	cur := byDate(next)
	diff := ExceptionDiff{Added: []Exception{}, Changed: []ExceptionChange{}, Removed: []Exception{}}
	for _, e := range cur {
		o, ok := findDate(old, e.Date)
		switch {
		case !ok:
			diff.Added = append(diff.Added, e)
		case !o.sameRule(e):
			diff.Changed = append(diff.Changed, ExceptionChange{Date: e.Date, Old: o, New: e})
		}
	}
	for _, o := range old {
		if _, ok := findDate(cur, o.Date); !ok {
			diff.Removed = append(diff.Removed, o)
		}
	}
	return diff
}

// MergeExceptions returns base with overlay applied: a date in overlay
// replaces the same date in base, others are added. The result is a new
// slice in date order; a date is never listed twice.
func MergeExceptions(base, overlay []Exception) []Exception {
	out := byDate(base)
	for _, e := range byDate(overlay) {
		i, found := slices.BinarySearchFunc(out, e.Date, func(x Exception, d Date) int { return x.Date.Compare(d) })
		if found {
			out[i] = e
		} else {
			out = slices.Insert(out, i, e)
		}
	}
	return out
}

// byDate returns a date-ordered copy of ex with one entry per date (the last
// one given wins).
func byDate(ex []Exception) []Exception {
	out := slices.Clone(ex)
	slices.SortStableFunc(out, func(a, b Exception) int { return a.Date.Compare(b.Date) })
	uniq := out[:0]
	for _, e := range out {
		if n := len(uniq); n > 0 && uniq[n-1].Date == e.Date {
			uniq[n-1] = e
			continue
		}
		uniq = append(uniq, e)
	}
	return uniq
}

func findDate(sorted []Exception, d Date) (Exception, bool) {
	i, found := slices.BinarySearchFunc(sorted, d, func(x Exception, d Date) int { return x.Date.Compare(d) })
	if !found {
		return Exception{}, false
	}
	return sorted[i], true
}
