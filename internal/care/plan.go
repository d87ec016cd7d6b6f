package care

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/sla"
)

// Plan kinds: what makes an occasion.
const (
	KindAfterPurchase = "after_purchase" // days after an owned product's purchase date
	KindFestival      = "festival"       // a festival of the festival engine (sla.Festivals)
	KindBirthday      = "birthday"       // the birthday, lunar where the customer keeps one
	KindAnniversary   = "anniversary"    // the cooperation start's anniversary
	KindDeepTalk      = "deep_talk"      // once a quarter, customers cooperating ≥ MinYears
	KindMaintenance   = "maintenance"    // every N months after purchase (the product's interval)
	KindContract      = "contract_renewal"
	KindWarranty      = "warranty_expiry"
)

// Kinds lists the plan kinds.
var Kinds = []string{KindAfterPurchase, KindFestival, KindBirthday, KindAnniversary, KindDeepTalk,
	KindMaintenance, KindContract, KindWarranty}

// Assignee rules.
const (
	AssignOwner = "owner" // the customer's account manager (else the team, else nobody)
	AssignTeam  = "team"  // the team's members in turn
)

// ChannelPreference suggests the customer's preferred channel; any other
// channel rule is one of customers.Channels.
const ChannelPreference = "preference"

// Limits of a plan's days: an occasion is at most a year away.
const (
	MaxLeadDays   = 366
	MaxOffsetDays = 366
	maxScript     = 2000
	maxName       = 100
)

// Params are the kind's own settings.
type Params struct {
	// Festival is the sla festival key (festival plans).
	Festival string `json:"festival,omitempty"`
	// Months overrides the product's maintenance interval (maintenance
	// plans; 0: the product's maintenance_months).
	Months int `json:"months,omitempty"`
	// MinYears of cooperation (deep_talk plans; 0 means 1).
	MinYears int `json:"min_years,omitempty"`
}

// Target selects the customers of a plan; empty lists select everyone.
// Unsubscribed, merged and erased customers are never targets.
type Target struct {
	Types      []string `json:"types,omitempty"`    // individual, organization
	Segments   []string `json:"segments,omitempty"` // new, old, high_value (customers.SegmentRules)
	Tiers      []string `json:"tiers,omitempty"`
	Stages     []string `json:"stages,omitempty"` // effective lifecycle stage
	ProductIDs []int64  `json:"product_ids,omitempty"`
	Tags       []string `json:"tags,omitempty"` // any of
}

// Plan is a care plan.
type Plan struct {
	ID   int64  `json:"id"`
	Key  string `json:"key,omitempty"` // the shipped plan's identifier, '' for others
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Params are the kind's settings.
	Params Params `json:"params"`
	// LeadDays is how many days before the window opens its task appears
	// (as upcoming).
	LeadDays int `json:"lead_days"`
	// WindowStart and WindowEnd are days from the occasion's date (negative:
	// before): the task is due at the start and should be done by the end.
	WindowStart  int       `json:"window_start"`
	WindowEnd    int       `json:"window_end"`
	Target       Target    `json:"target"`
	AssigneeRule string    `json:"assignee_rule"`
	TeamID       *int64    `json:"team_id"`
	ChannelRule  string    `json:"channel_rule"`
	Script       string    `json:"script"`
	Active       bool      `json:"active"`
	Version      int       `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// PlanPatch changes the fields named; nil fields stay.
type PlanPatch struct {
	Name         *string `json:"name,omitempty"`
	Kind         *string `json:"kind,omitempty"`
	Params       *Params `json:"params,omitempty"`
	LeadDays     *int    `json:"lead_days,omitempty"`
	WindowStart  *int    `json:"window_start,omitempty"`
	WindowEnd    *int    `json:"window_end,omitempty"`
	Target       *Target `json:"target,omitempty"`
	AssigneeRule *string `json:"assignee_rule,omitempty"`
	TeamID       *int64  `json:"team_id,omitempty"`
	ChannelRule  *string `json:"channel_rule,omitempty"`
	Script       *string `json:"script,omitempty"`
	Active       *bool   `json:"active,omitempty"`
}

func (p PlanPatch) apply(pl *Plan) {
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	if p.Name != nil {
		pl.Name = strings.TrimSpace(*p.Name)
	}
	if p.Kind != nil {
		pl.Kind = *p.Kind
	}
	if p.Params != nil {
		pl.Params = *p.Params
	}
	set(&pl.LeadDays, p.LeadDays)
	set(&pl.WindowStart, p.WindowStart)
	set(&pl.WindowEnd, p.WindowEnd)
	if p.Target != nil {
		pl.Target = *p.Target
	}
	if p.AssigneeRule != nil {
		pl.AssigneeRule = *p.AssigneeRule
	}
	if p.TeamID != nil {
		// 0 clears the team.
		pl.TeamID = p.TeamID
		if *p.TeamID == 0 {
			pl.TeamID = nil
		}
	}
	if p.ChannelRule != nil {
		pl.ChannelRule = *p.ChannelRule
	}
	if p.Script != nil {
		pl.Script = *p.Script
	}
	if p.Active != nil {
		pl.Active = *p.Active
	}
}

// Vocabulary is what a plan may name besides its own constants; the store
// fills it from customers so the two never drift.
type Vocabulary struct {
	Types, Tiers, Stages, Channels []string
}

var segmentNames = []string{"new", "old", "high_value"}

// Validate checks a plan; every error names its field.
func (pl *Plan) Validate(voc Vocabulary) error {
	var v domain.ValidationError
	switch n := utf8.RuneCountInString(pl.Name); {
	case n == 0:
		v.Add("name", "validation.required", nil)
	case n > maxName:
		v.Add("name", "validation.too_long", map[string]any{"Max": maxName})
	}
	if !slices.Contains(Kinds, pl.Kind) {
		v.Add("kind", "validation.care_kind", map[string]any{"Value": pl.Kind})
	}
	if pl.Kind == KindFestival && !festivalKnown(pl.Params.Festival) {
		v.Add("params.festival", "validation.care_festival", map[string]any{"Value": pl.Params.Festival})
	}
	if pl.Params.Months < 0 || pl.Params.Months > 120 {
		v.Add("params.months", "validation.range", map[string]any{"Min": 0, "Max": 120})
	}
	if pl.Params.MinYears < 0 || pl.Params.MinYears > 50 {
		v.Add("params.min_years", "validation.range", map[string]any{"Min": 0, "Max": 50})
	}
	if pl.LeadDays < 0 || pl.LeadDays > MaxLeadDays {
		v.Add("lead_days", "validation.range", map[string]any{"Min": 0, "Max": MaxLeadDays})
	}
	for _, f := range []struct {
		name string
		val  int
	}{{"window_start", pl.WindowStart}, {"window_end", pl.WindowEnd}} {
		if f.val < -MaxOffsetDays || f.val > MaxOffsetDays {
			v.Add(f.name, "validation.range", map[string]any{"Min": -MaxOffsetDays, "Max": MaxOffsetDays})
		}
	}
	if pl.WindowEnd < pl.WindowStart {
		v.Add("window_end", "validation.care_window", map[string]any{"Start": pl.WindowStart, "End": pl.WindowEnd})
	}
	pl.Target.check(&v, voc)
	switch pl.AssigneeRule {
	case AssignOwner:
	case AssignTeam:
		if pl.TeamID == nil {
			v.Add("team_id", "validation.required", nil)
		}
	default:
		v.Add("assignee_rule", "validation.care_assignee", map[string]any{"Value": pl.AssigneeRule})
	}
	if pl.ChannelRule != ChannelPreference && !slices.Contains(voc.Channels, pl.ChannelRule) {
		v.Add("channel_rule", "validation.care_channel", map[string]any{"Value": pl.ChannelRule})
	}
	if utf8.RuneCountInString(pl.Script) > maxScript {
		v.Add("script", "validation.too_long", map[string]any{"Max": maxScript})
	} else if err := CheckScript(pl.Script); err != nil {
		v.Add("script", err.Key, err.Params)
	}
	return v.Err()
}

func (t *Target) check(v *domain.ValidationError, voc Vocabulary) {
	each := func(field string, vals, known []string) {
		for _, x := range vals {
			if !slices.Contains(known, x) {
				v.Add("target."+field, "validation.care_target", map[string]any{"Value": x})
				return
			}
		}
	}
	each("types", t.Types, voc.Types)
	each("segments", t.Segments, segmentNames)
	each("tiers", t.Tiers, voc.Tiers)
	each("stages", t.Stages, voc.Stages)
	for _, id := range t.ProductIDs {
		if id <= 0 {
			v.Add("target.product_ids", "validation.care_target", map[string]any{"Value": id})
			break
		}
	}
	for _, tag := range t.Tags {
		if strings.TrimSpace(tag) == "" {
			v.Add("target.tags", "validation.required", nil)
			break
		}
	}
}

func festivalKnown(key string) bool {
	fs, err := sla.Festivals(2026)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(fs, func(f sla.Festival) bool { return f.Key == key })
}
