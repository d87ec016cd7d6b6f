package care

import (
	"slices"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/sla"
)

// selects tells whether the plan's target takes f on day. rules are the
// segment rules in force (customers.Store.Rules), read once per run.
func (pl *Plan) selects(f *facts, day sla.Date, rules customers.Rules) bool {
	t := &pl.Target
	if f.Stage == "unsubscribed" {
		return false
	}
	if len(t.Types) > 0 && !slices.Contains(t.Types, f.Type) ||
		len(t.Tiers) > 0 && !slices.Contains(t.Tiers, f.Tier) ||
		len(t.Stages) > 0 && !slices.Contains(t.Stages, f.Stage) {
		return false
	}
	if len(t.Tags) > 0 && !slices.ContainsFunc(f.Tags, func(x string) bool { return slices.Contains(t.Tags, x) }) {
		return false
	}
	if len(t.ProductIDs) > 0 && !slices.ContainsFunc(f.Products, func(p owned) bool { return slices.Contains(t.ProductIDs, p.ProductID) }) {
		return false
	}
	for _, s := range t.Segments {
		if !f.inSegment(s, day, rules) {
			return false
		}
	}
	return true
}

// inSegment follows customers.SegmentRules.ValueSegments, by calendar day.
func (f *facts) inSegment(seg string, day sla.Date, rules customers.Rules) bool {
	switch seg {
	case "old", "new":
		since := f.since()
		old := !since.IsZero() && !day.Before(since.AddDays(rules.OldAfterDays))
		return old == (seg == "old")
	case "high_value":
		return f.Tier == "vip" || rules.HighValueProducts > 0 && len(f.Products) >= rules.HighValueProducts
	}
	return false
}
