package ui

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/sla"
)

// The targets table of an SLA policy's page: one row per target (in the
// order of sla.TargetKinds), and an "off" row for every kind the policy
// lacks, so that an administrator sees all ten at a glance and switches one
// on in place. Each row posts every field of its target under t{i}.… (i is
// the target's index in the policy; off rows come after), so a row stands on
// its own; markers (t{i}.kind, t{i}.scope, t{i}.ov) say which parts a form
// posted, and what a form leaves out keeps its stored value.

// Escalation and override slots: at least these many, and one more than
// the target has, so a step can always be added; never more than the most
// the parser reads.
const (
	slaMinSteps     = 3
	slaMinOverrides = 2
	slaMaxSlots     = 12
)

type slaStepForm struct {
	After, Action string
	TeamID        int64
	Err           string // the step's field errors, joined
}

type slaOverrideForm struct {
	Severity, Type, Duration string
	Err                      string
}

// slaTargetRow is one row of the targets table, with its errors by cell.
type slaTargetRow struct {
	Index     int
	Kind      string
	Label     string
	On        bool
	Recurring bool
	Duration  string
	// Which tickets: the summary's items and the editor's checkboxes.
	Applies           []slaSummaryGroup
	Types, Sevs       []slaOption
	Overrides         []slaOverrideForm
	OverrideSummary   [][2]string // who, how long
	PauseCustomer     bool
	PauseThirdParty   bool
	WarnPercent       string
	WarnLead          string
	Steps             []slaStepForm
	Chain             []string
	KindErr, DurErr   string
	ScopeErr, WarnErr string
	OverridesOpen     bool
	ChainOpen         bool
	HasErr            bool
}

// slaSummaryGroup is one list of a summary cell: at most two names (each
// kept on one line) and how many more there are, so the cell stays narrow.
type slaSummaryGroup struct {
	Items []string
	More  string
}

func (p *Page) slaSummary(kind string, vs []string) slaSummaryGroup {
	var g slaSummaryGroup
	for i, v := range vs {
		if i == 2 {
			g.More = p.T("slapol.summary_more", "N", len(vs), "More", len(vs)-2)
			break
		}
		g.Items = append(g.Items, p.slaLabel(kind, v))
	}
	return g
}

// slaTargetRows builds the table for targets (the policy's, or the ones
// just posted when the form comes back with errors, whose indices the
// field errors use).
func (p *Page) slaTargetRows(targets []sla.Target, v sla.Vocabulary, teams map[int64]string) []slaTargetRow {
	defaults := map[string]sla.Target{}
	for _, t := range sla.DefaultPolicy().Targets {
		defaults[t.Kind] = t
	}
	var rows []slaTargetRow
	next := len(targets)
	for _, kind := range sla.TargetKinds {
		found := false
		for i, t := range targets {
			if t.Kind == kind {
				rows = append(rows, p.slaTargetRow(i, t, true, v, teams))
				found = true
			}
		}
		if !found {
			// Switched on, the kind starts from the default policy's target.
			rows = append(rows, p.slaTargetRow(next, defaults[kind], false, v, teams))
			next++
		}
	}
	// Kinds the page does not know (none today) still show, so a save keeps them.
	for i, t := range targets {
		if !slices.Contains(sla.TargetKinds, t.Kind) {
			rows = append(rows, p.slaTargetRow(i, t, true, v, teams))
		}
	}
	return rows
}

func (p *Page) slaTargetRow(i int, t sla.Target, on bool, v sla.Vocabulary, teams map[int64]string) slaTargetRow {
	f := fmt.Sprintf("targets[%d]", i)
	errs := func(fields ...string) string {
		var out []string
		for _, x := range fields {
			if e := p.FieldError(f + x); e != "" {
				out = append(out, e)
			}
		}
		return strings.Join(out, " ")
	}
	label := p.T("slapol.kind." + t.Kind)
	row := slaTargetRow{Index: i, Kind: t.Kind, Label: label, On: on, Recurring: t.Recurring(), Duration: string(t.Duration),
		Types: options(p, "type", v.Types, t.Types), Sevs: options(p, "severity", v.Severities, t.Severities),
		PauseCustomer: t.PauseWaitingCustomer, PauseThirdParty: t.PauseWaitingThirdParty, WarnLead: string(t.Warning.Lead),
		KindErr: errs(".kind"), DurErr: errs(".duration"), ScopeErr: errs(".types", ".severities"),
		WarnErr: errs(".warning", ".warning.percent", ".warning.lead")}
	if t.Warning.Percent != 0 {
		row.WarnPercent = strconv.Itoa(t.Warning.Percent)
	}
	if len(t.Types) > 0 {
		row.Applies = append(row.Applies, p.slaSummary("type", t.Types))
	}
	if len(t.Severities) > 0 {
		row.Applies = append(row.Applies, p.slaSummary("severity", t.Severities))
	}
	for j := 0; j < min(slaMaxSlots, max(slaMinOverrides, len(t.Overrides)+1)); j++ {
		var o slaOverrideForm
		if j < len(t.Overrides) {
			x := t.Overrides[j]
			o = slaOverrideForm{Severity: x.Severity, Type: x.Type, Duration: string(x.Duration)}
			var who []string
			if x.Severity != "" {
				who = append(who, p.slaLabel("severity", x.Severity))
			}
			if x.Type != "" {
				who = append(who, p.slaLabel("type", x.Type))
			}
			row.OverrideSummary = append(row.OverrideSummary, [2]string{strings.Join(who, "+"), p.slaSpan(x.Duration)})
		}
		of := fmt.Sprintf(".overrides[%d]", j)
		o.Err = errs(of+".severity", of+".type", of+".duration")
		row.OverridesOpen = row.OverridesOpen || o.Err != ""
		row.Overrides = append(row.Overrides, o)
	}
	for j := 0; j < min(slaMaxSlots, max(slaMinSteps, len(t.Escalation)+1)); j++ {
		var s slaStepForm
		if j < len(t.Escalation) {
			x := t.Escalation[j]
			s = slaStepForm{After: string(x.After), Action: x.Action, TeamID: x.TeamID}
			step := p.T("slapol.action_short." + x.Action)
			if x.Action == sla.ActionReassign && teams[x.TeamID] != "" {
				step += " " + teams[x.TeamID]
			}
			if d := x.After.Duration(); d > 0 {
				step = "+" + string(sla.SpanOf(d)) + " " + step
			}
			row.Chain = append(row.Chain, step)
		}
		sf := fmt.Sprintf(".escalation[%d]", j)
		s.Err = errs(sf+".after", sf+".action", sf+".team_id")
		row.ChainOpen = row.ChainOpen || s.Err != ""
		row.Steps = append(row.Steps, s)
	}
	prefix := f + "."
	for k := range p.Fields {
		if strings.HasPrefix(k, prefix) {
			row.HasErr = true
		}
	}
	return row
}

// slaSpan shows a duration, "0" as "at once".
func (p *Page) slaSpan(s sla.Span) string {
	if s == "0" {
		return p.T("slapol.immediately")
	}
	return string(s)
}

// targetsFromForm reads the targets table. Rows are t0 … t{rows-1}; a row
// that posts its kind is on only when its on box is ticked. A form that
// does not post a part of a stored target (its kind, which tickets, its
// overrides) keeps that part: API-era forms and scripts post only what
// they change.
func targetsFromForm(r *http.Request, cur []sla.Target) []sla.Target {
	n := len(cur)
	if m, err := strconv.Atoi(r.PostFormValue("rows")); err == nil && m > n {
		n = min(m, 200) // a table is at most a few dozen rows
	}
	form := r.PostForm
	out := []sla.Target{}
	for i := 0; i < n; i++ {
		pre := fmt.Sprintf("t%d.", i)
		var t sla.Target
		if i < len(cur) {
			t = cur[i]
		}
		if kind, ok := form[pre+"kind"]; ok {
			if form.Get(pre+"on") == "" {
				continue
			}
			if kind[0] != t.Kind {
				t = sla.Target{Kind: kind[0]} // another row than the stored one: nothing carries over
			}
		} else if i >= len(cur) {
			continue
		}
		if form.Get(pre+"remove") != "" {
			continue
		}
		t.Duration = sla.Span(strings.TrimSpace(form.Get(pre + "duration")))
		if _, ok := form[pre+"scope"]; ok {
			t.Types, t.Severities = form[pre+"types"], form[pre+"severities"]
		}
		if _, ok := form[pre+"ov"]; ok {
			t.Overrides = overridesFromForm(form, pre)
		}
		t.PauseWaitingCustomer = form.Get(pre+"pause_customer") != ""
		t.PauseWaitingThirdParty = form.Get(pre+"pause_third_party") != ""
		_, p := form[pre+"warn_percent"]
		_, l := form[pre+"warn_lead"]
		if p || l {
			t.Warning = warningFromFields(form.Get(pre+"warn_percent"), form.Get(pre+"warn_lead"))
		} else {
			t.Warning = warningFromForm(form.Get(pre + "warning"))
		}
		t.Escalation = nil
		for j := 0; j < slaMaxSlots; j++ {
			sp := fmt.Sprintf("%sesc%d.", pre, j)
			action := form.Get(sp + "action")
			if action == "" {
				continue
			}
			step := sla.EscalationStep{After: sla.Span(strings.TrimSpace(form.Get(sp + "after"))), Action: action}
			if step.After == "" {
				step.After = "0"
			}
			if action == sla.ActionReassign {
				step.TeamID, _ = strconv.ParseInt(form.Get(sp+"team"), 10, 64)
			}
			t.Escalation = append(t.Escalation, step)
		}
		out = append(out, t)
	}
	if k := form.Get("new_kind"); k != "" {
		out = append(out, sla.Target{Kind: k, Duration: sla.Span(strings.TrimSpace(form.Get("new_duration")))})
	}
	return out
}

// overridesFromForm reads the override slots t{i}.ov{j}.…; a slot with
// nothing in it is skipped, a half-filled one is kept so the store names
// what is missing.
func overridesFromForm(form map[string][]string, pre string) []sla.Override {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	var out []sla.Override
	for j := 0; j < slaMaxSlots; j++ {
		op := fmt.Sprintf("%sov%d.", pre, j)
		o := sla.Override{Severity: get(op + "severity"), Type: get(op + "type"), Duration: sla.Span(get(op + "duration"))}
		if o.Severity == "" && o.Type == "" && o.Duration == "" {
			continue
		}
		out = append(out, o)
	}
	return out
}

// warningFromFields reads the table's two warning inputs: a share ("80",
// "80%") and a lead ("30m"). Both given is kept as both, for the store to
// refuse naming the field; a share that is not a number becomes -1.
func warningFromFields(percent, lead string) sla.TargetWarning {
	var w sla.TargetWarning
	if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(percent), "%")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = -1
		}
		w.Percent = n
	}
	w.Lead = sla.Span(strings.TrimSpace(lead))
	return w
}

// warningFromForm reads the older single field: "80%" (a share) or "30m"
// (a lead); a share that is not a number becomes -1 so that the store
// names the field.
func warningFromForm(s string) sla.TargetWarning {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return sla.TargetWarning{}
	case strings.HasSuffix(s, "%"):
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(s, "%")))
		if err != nil {
			n = -1
		}
		return sla.TargetWarning{Percent: n}
	}
	return sla.TargetWarning{Lead: sla.Span(s)}
}
