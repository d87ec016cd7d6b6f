package ui

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/web/httpx"
)

// SLA policies (/admin/sla), for those with settings.manage: the list in
// matching order with up/down, and one policy's page with its conditions,
// calendar, targets (duration, pause, warning, escalation) and a preview of
// the due times of a sample ticket created now, with the policy that would
// win for it. The API has the same at /api/v1/sla-policies.

func (u *UI) slaPolicyRoutes() []httpx.Route {
	m := identity.SettingsManage
	return []httpx.Route{
		{Method: "GET", Path: "/admin/sla", Perm: m, Handler: u.slaPolicies},
		{Method: "POST", Path: "/admin/sla", Perm: m, Handler: u.createSLAPolicy},
		{Method: "GET", Path: "/admin/sla/{id}", Perm: m, Handler: u.slaPolicyPage},
		{Method: "POST", Path: "/admin/sla/{id}", Perm: m, Handler: u.updateSLAPolicy},
		{Method: "POST", Path: "/admin/sla/{id}/move", Perm: m, Handler: u.moveSLAPolicy},
		{Method: "POST", Path: "/admin/sla/{id}/delete", Perm: m, Handler: u.deleteSLAPolicy},
	}
}

type slaListRow struct {
	sla.Policy
	Conditions string
	First      bool
	Last       bool
}

type slaOption struct {
	Value, Label string
	On           bool
}

// slaCondGroup is one list of condition checkboxes: Name is the form
// field, Field the store's field under conditions.
type slaCondGroup struct {
	Name, Field string
	Options     []slaOption
}

type slaPreviewRow struct {
	Label, Duration, Due, Warn string
	Recurring                  bool
}

type slaPage struct {
	List      []slaListRow
	Calendars []string
	Editing   bool
	Policy    sla.Policy
	// Condition choices, with the policy's marked.
	CondGroups []slaCondGroup
	Rows       []slaTargetRow
	// Every type and severity, for the overrides' choices.
	TypeOpts, SevOpts []slaOption
	NewKinds          []slaOption
	Actions           []string
	TeamList          []teamOption
	// The preview of a sample ticket created now.
	Sample                                        sla.TicketFacts
	SampleTypes, SampleSeverities, SampleChannels []slaOption
	SampleTiers                                   []slaOption
	Preview                                       []slaPreviewRow
	PreviewZone, PreviewAt, Winner, PreviewError  string
	WinnerID                                      int64
	Applies                                       bool
}

func (p *Page) slaLabel(kind, v string) string {
	switch kind {
	case "type":
		return p.T("tickets.type_" + v)
	case "severity":
		return p.T("tickets.severity_" + v)
	case "channel":
		return p.T("tickets.channel_" + v)
	case "tier":
		return p.T("customers.tier_" + v)
	}
	return v
}

func (p *Page) slaList(kind string, vs []string) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = p.slaLabel(kind, v)
	}
	return strings.Join(out, p.T("list.sep"))
}

func (p *Page) slaConditions(c sla.Conditions, teams map[int64]string) string {
	if c.Empty() {
		return p.T("slapol.cond.all")
	}
	var parts []string
	add := func(key, text string) {
		if text != "" {
			parts = append(parts, p.T(key)+": "+text)
		}
	}
	add("slapol.cond.types", p.slaList("type", c.Types))
	add("slapol.cond.severities", p.slaList("severity", c.Severities))
	add("slapol.cond.channels", p.slaList("channel", c.Channels))
	add("slapol.cond.tiers", p.slaList("tier", c.Tiers))
	var names []string
	for _, id := range c.TeamIDs {
		names = append(names, teams[id])
	}
	add("slapol.cond.teams", strings.Join(names, p.T("list.sep")))
	if len(c.CategoryIDs) > 0 {
		add("slapol.cond.categories", strconv.Itoa(len(c.CategoryIDs)))
	}
	return strings.Join(parts, " · ")
}

func options(p *Page, kind string, all, on []string) []slaOption {
	out := make([]slaOption, len(all))
	for i, v := range all {
		out[i] = slaOption{Value: v, Label: p.slaLabel(kind, v), On: slices.Contains(on, v)}
	}
	return out
}

func (u *UI) teamNames(r *http.Request) (map[int64]string, []teamOption, error) {
	teams, err := u.Identity.ListTeams(r.Context())
	if err != nil {
		return nil, nil, err
	}
	names := map[int64]string{}
	var list []teamOption
	for _, t := range teams {
		names[t.ID] = t.Name
		list = append(list, teamOption{ID: t.ID, Name: t.Name})
	}
	return names, list, nil
}

func (u *UI) slaPolicies(w http.ResponseWriter, r *http.Request) {
	u.slaListPage(w, r, http.StatusOK, nil)
}

func (u *UI) slaListPage(w http.ResponseWriter, r *http.Request, status int, formErr error) {
	list, err := u.SLAPolicies.List(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	names, _, err := u.teamNames(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	cals, err := u.Calendars.List(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := &slaPage{}
	for _, c := range cals {
		d.Calendars = append(d.Calendars, c.Name)
	}
	p := u.page(r, "slapol.title", d)
	for i, pol := range list {
		d.List = append(d.List, slaListRow{Policy: pol, Conditions: p.slaConditions(pol.Conditions, names), First: i == 0, Last: i == len(list)-1})
	}
	if formErr != nil && !u.fieldErrors(p, formErr) {
		u.fail(w, r, formErr)
		return
	}
	u.render(w, r, status, "sla", p)
}

// createSLAPolicy adds a policy with the name and calendar given, the
// default policy's targets to start from, checked before the default.
func (u *UI) createSLAPolicy(w http.ResponseWriter, r *http.Request) {
	list, err := u.SLAPolicies.List(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	in := sla.Policy{Name: r.PostFormValue("name"), Calendar: r.PostFormValue("calendar"), Active: true, Targets: sla.DefaultPolicy().Targets, Priority: 1}
	for _, p := range list {
		if p.Default {
			in.Targets = p.Targets
			if p.Priority > 1 {
				in.Priority = p.Priority - 1
			}
		}
	}
	created, err := u.SLAPolicies.Create(r.Context(), in)
	if err != nil {
		u.slaListPage(w, r, http.StatusBadRequest, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/admin/sla/%d?done=sla_created", created.ID))
}

// moveSLAPolicy moves a policy one place up or down in matching order by
// renumbering priorities 10, 20, 30, …
func (u *UI) moveSLAPolicy(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.SLAPolicies.Move(r.Context(), id, r.PostFormValue("dir") == "down"); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/sla?done=sla_moved")
}

func (u *UI) deleteSLAPolicy(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	if err := u.SLAPolicies.Delete(r.Context(), id, v); err != nil {
		u.fail(w, r, err)
		return
	}
	redirect(w, r, "/admin/sla?done=sla_deleted")
}

func (u *UI) slaPolicyPage(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	pol, err := u.SLAPolicies.Get(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.slaEditPage(w, r, http.StatusOK, pol, nil)
}

func (u *UI) slaEditPage(w http.ResponseWriter, r *http.Request, status int, pol sla.Policy, formErr error) {
	names, teamList, err := u.teamNames(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	cals, err := u.Calendars.List(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.SLAPolicies.Vocabulary()
	d := &slaPage{Editing: true, Policy: pol, Actions: sla.EscalationActions, TeamList: teamList}
	for _, c := range cals {
		d.Calendars = append(d.Calendars, c.Name)
	}
	p := u.page(r, "slapol.edit_title", d)
	p.TitleArgs = []any{"Name", pol.Name}
	c := pol.Conditions
	var teamOpts []slaOption
	for _, t := range teamList {
		teamOpts = append(teamOpts, slaOption{Value: strconv.FormatInt(t.ID, 10), Label: t.Name, On: slices.Contains(c.TeamIDs, t.ID)})
	}
	d.CondGroups = []slaCondGroup{
		{"types", "types", options(p, "type", v.Types, c.Types)},
		{"severities", "severities", options(p, "severity", v.Severities, c.Severities)},
		{"channels", "channels", options(p, "channel", v.Channels, c.Channels)},
		{"tiers", "tiers", options(p, "tier", v.Tiers, c.Tiers)},
		{"teams", "team_ids", teamOpts},
	}
	// After the field errors are known: each row shows its own.
	fieldsKnown := formErr == nil || u.fieldErrors(p, formErr)
	d.Rows = p.slaTargetRows(pol.Targets, v, names)
	d.TypeOpts, d.SevOpts = options(p, "type", v.Types, nil), options(p, "severity", v.Severities, nil)
	for _, k := range sla.TargetKinds {
		d.NewKinds = append(d.NewKinds, slaOption{Value: k, Label: p.T("slapol.kind." + k)})
	}
	u.slaPreview(r, p, d, pol, v, names)
	if !fieldsKnown {
		if errors.Is(formErr, domain.ErrStale) {
			p.Error = "slapol.stale"
		} else {
			u.fail(w, r, formErr)
			return
		}
	}
	u.render(w, r, status, "sla", p)
}

// slaPreview fills the preview box: a sample ticket from the query
// (sample_type, …; the first of each list by default) created now.
func (u *UI) slaPreview(r *http.Request, p *Page, d *slaPage, pol sla.Policy, v sla.Vocabulary, teams map[int64]string) {
	q := r.URL.Query()
	pick := func(key string, all []string, def string) string {
		if x := q.Get(key); slices.Contains(all, x) {
			return x
		}
		return def
	}
	d.Sample = sla.TicketFacts{Type: pick("sample_type", v.Types, "fault"), Severity: pick("sample_severity", v.Severities, "general"),
		Channel: pick("sample_channel", v.Channels, "phone"), Tier: pick("sample_tier", v.Tiers, "normal")}
	if t, err := strconv.ParseInt(q.Get("sample_team"), 10, 64); err == nil && teams[t] != "" {
		d.Sample.TeamID = t
	}
	d.SampleTypes = options(p, "type", v.Types, []string{d.Sample.Type})
	d.SampleSeverities = options(p, "severity", v.Severities, []string{d.Sample.Severity})
	d.SampleChannels = options(p, "channel", v.Channels, []string{d.Sample.Channel})
	d.SampleTiers = options(p, "tier", v.Tiers, []string{d.Sample.Tier})
	now := u.Clock.Now()
	due, cal, err := u.SLAPolicies.Preview(r.Context(), pol, d.Sample, now)
	if err != nil {
		d.PreviewError = p.T("slapol.preview_failed")
		return
	}
	loc := cal.Location()
	d.PreviewZone = loc.String()
	d.PreviewAt = now.In(loc).Format("2006-01-02 15:04")
	for _, x := range due {
		row := slaPreviewRow{Label: p.T("slapol.kind." + x.Kind), Duration: string(x.Duration), Due: x.DueAt.In(loc).Format("2006-01-02 15:04"), Recurring: x.Recurring}
		if !x.WarnAt.IsZero() {
			row.Warn = x.WarnAt.In(loc).Format("2006-01-02 15:04")
		}
		d.Preview = append(d.Preview, row)
	}
	d.Applies = pol.Active && pol.Matches(d.Sample)
	if win, ok, err := u.SLAPolicies.Match(r.Context(), d.Sample); err == nil && ok {
		d.Winner, d.WinnerID = win.Name, win.ID
	}
}

func (u *UI) updateSLAPolicy(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	cur, err := u.SLAPolicies.Get(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, domain.Invalid("body", "error.validation", nil))
		return
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	name, cal, active := r.PostFormValue("name"), r.PostFormValue("calendar"), r.PostFormValue("active") != ""
	prio, perr := strconv.Atoi(strings.TrimSpace(r.PostFormValue("priority")))
	if perr != nil {
		prio = 0 // the store names the field
	}
	conds := sla.Conditions{Types: r.PostForm["types"], Severities: r.PostForm["severities"], Channels: r.PostForm["channels"],
		Tiers: r.PostForm["tiers"], CategoryIDs: cur.Conditions.CategoryIDs}
	for _, s := range r.PostForm["teams"] {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			conds.TeamIDs = append(conds.TeamIDs, n)
		}
	}
	targets := targetsFromForm(r, cur.Targets)
	patch := sla.PolicyPatch{Name: &name, Priority: &prio, Active: &active, Calendar: &cal, Conditions: &conds, Targets: &targets}
	if _, err := u.SLAPolicies.Patch(r.Context(), id, patch, version); err != nil {
		edited := cur
		edited.Name, edited.Priority, edited.Active, edited.Calendar, edited.Conditions, edited.Targets = name, prio, active, cal, conds, targets
		status := http.StatusBadRequest
		if errors.Is(err, domain.ErrStale) {
			status = http.StatusConflict
		}
		u.slaEditPage(w, r, status, edited, err)
		return
	}
	redirect(w, r, fmt.Sprintf("/admin/sla/%d?done=sla_saved", id))
}
