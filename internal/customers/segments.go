package customers

import (
	"time"
)

// SegmentRules classify customers by value; they are computed when read,
// so they follow time and edits without a job.
type SegmentRules struct {
	OldAfter          time.Duration // cooperating at least this long: "old"
	HighValueProducts int           // owning at least this many products: "high_value" (VIP always is)
}

// DefaultSegments: old after one year of cooperation; high value from three
// products owned, or the VIP tier. Administrators may change them
// (Store.SetRules); Store.Rules gives the ones in force.
var DefaultSegments = DefaultRules.Segments()

// ValueSegments returns the customer's value segments: "new" or "old" by
// cooperation time (from the cooperation start, else the registration), and
// "high_value".
func (sr SegmentRules) ValueSegments(c Customer, productsOwned int, now time.Time) []string {
	since := c.CreatedAt
	if c.CooperationStart != "" {
		if t, err := time.ParseInLocation("2006-01-02", c.CooperationStart, BusinessZone); err == nil {
			since = t
		}
	}
	out := []string{"new"}
	if now.Sub(since) >= sr.OldAfter {
		out[0] = "old"
	}
	if c.Tier == "vip" || (sr.HighValueProducts > 0 && productsOwned >= sr.HighValueProducts) {
		out = append(out, "high_value")
	}
	return out
}
