package robots

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/careloop/careloop/internal/notify"
)

// Alert is the robots' notify.Alerter: each active robot routed the
// notice's event (and, when it names a team, only for that team's
// tickets) gets one message, in the notice's transaction.
func (s *Store) Alert(ctx context.Context, a notify.Alert) error {
	rs, err := s.query(ctx, `WHERE active = TRUE ORDER BY id`)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if !r.hears(a.Event, a.TeamID) {
			continue
		}
		title, text := s.render(ctx, r, a)
		if err := s.enqueue(ctx, r, a, title, text); err != nil {
			return err
		}
	}
	return nil
}

// hears tells whether r is routed event about a ticket of team.
func (r Robot) hears(event string, team int64) bool {
	return slices.Contains(r.Events, event) && (r.TeamID == nil || *r.TeamID == team)
}

func (s *Store) enqueue(ctx context.Context, r Robot, a notify.Alert, title, text string) error {
	data, _ := json.Marshal(map[string]any{"robot_id": r.ID, "robot_kind": r.Kind})
	_, err := s.Outbox.Enqueue(ctx, notify.Message{Channel: ChannelName, Kind: "robot." + a.Event, Recipient: fmt.Sprint(r.ID),
		Subject: title, Body: text, Entity: a.Entity, EntityID: a.ID, Data: data,
		DedupeKey: fmt.Sprintf("%s:robot:%d", a.Dedupe, r.ID)})
	if err != nil {
		return fmt.Errorf("robot %q: %w", r.Name, err)
	}
	return nil
}

// messageKey is the catalog key of a notice's robot message: SLA breaches
// say whether the step escalated or moved the ticket.
func messageKey(a notify.Alert) string {
	switch a.Key {
	case "sla_notice.escalated":
		return "robots.msg.sla_escalated"
	case "sla_notice.reassigned":
		return "robots.msg.sla_reassigned"
	}
	return "robots.msg." + a.Event
}

// render is the message in the robot's language: a markdown title and
// text. Words that came in another language (an SLA target's name) are
// rendered again from their codes.
func (s *Store) render(ctx context.Context, r Robot, a notify.Alert) (title, text string) {
	lang := r.Language
	p := map[string]any{}
	for k, v := range a.Params {
		p[k] = v
	}
	if code, ok := a.Params["TargetCode"].(string); ok && code != "" {
		p["Target"] = s.Catalog.T(lang, "slapol.kind."+code, nil)
	}
	if _, ok := a.Params["OwnerName"]; ok {
		p["Owner"] = a.Params["OwnerName"]
	}
	if o, _ := p["Owner"].(string); o == "" {
		p["Owner"] = s.Catalog.T(lang, "robots.nobody", nil)
	}
	if a, ok := p["Actor"].(string); ok && a == "" {
		p["Actor"] = s.Catalog.T(lang, "robots.system", nil) // raised at intake
	}
	for _, k := range []string{"Subject", "Owner", "Actor", "Team"} {
		if v, ok := p[k].(string); ok {
			p[k] = plain(v, 80)
		}
	}
	p["Team"] = s.teamName(ctx, lang, a.TeamID)
	key := messageKey(a)
	title = s.Catalog.T(lang, key+".title", p)
	text = "### " + title + "\n\n" + s.Catalog.T(lang, key+".text", p)
	if s.opts.BaseURL != "" && a.Link != "" {
		text += "\n\n" + s.Catalog.T(lang, "robots.msg.open", map[string]any{"URL": strings.TrimRight(s.opts.BaseURL, "/") + a.Link})
	}
	return title, cut(text, 4000)
}

func (s *Store) teamName(ctx context.Context, lang string, team int64) string {
	if team != 0 && s.Identity != nil {
		if t, err := s.Identity.GetTeam(ctx, team); err == nil {
			return plain(t.Name, 40)
		}
	}
	return s.Catalog.T(lang, "robots.no_team", nil)
}

// plain makes a customer's words safe in a markdown message: one line, at
// most n characters, and no link or markup of their own (brackets and
// angle brackets become full-width, emphasis and heading marks go).
var plainReplacer = strings.NewReplacer("\r", " ", "\n", " ", "\t", " ", "[", "［", "]", "］", "<", "＜", ">", "＞",
	"(", "（", ")", "）", "*", "＊", "_", "＿", "#", "＃", "`", "'", "!", "！", "|", "｜")

func plain(s string, n int) string {
	s = strings.Join(strings.Fields(plainReplacer.Replace(s)), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}

// cut keeps text within n bytes (WeCom's markdown takes 4,096) on a rune
// boundary.
func cut(text string, n int) string {
	if len(text) <= n {
		return text
	}
	i := n
	for i > 0 && text[i]&0xC0 == 0x80 {
		i--
	}
	return text[:i] + "…"
}
