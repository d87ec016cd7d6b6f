package ticketsla

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/sla"
)

// Roles whose holders an escalation reaches.
const (
	SupervisorRole = "supervisor"
	ManagerRole    = notify.ManagerRole
)

// tell sends one notice per recipient in their language: the target's name
// and the times are rendered for each (the catalog renders the rest).
func (s *Service) tell(ctx context.Context, to []int64, w *work, r *row, event, key string, step int, moment, now time.Time, extra map[string]any) error {
	if s.quiet {
		return nil
	}
	cal, err := s.calendar(ctx, r.Timer.Calendar)
	if err != nil {
		cal = sla.CalendarTime()
	}
	due, _ := r.Timer.DueAt()
	if due.IsZero() {
		due = r.Timer.Due
	}
	var team int64
	if w.t.TeamID != nil {
		team = *w.t.TeamID
	}
	ids := dedupeIDs(to)
	if len(ids) == 0 {
		// Nobody to tell in person: the team's group robots (notify's
		// Alerter) still hear of it.
		ids = []int64{0}
	}
	for _, id := range ids {
		lang := i18n.Default
		var tell []int64
		if id != 0 {
			u, err := s.identity.GetUser(ctx, id)
			if err != nil {
				continue // removed meanwhile: nobody to tell
			}
			lang, tell = i18n.Normalize(u.Locale), []int64{id}
		}
		params := map[string]any{"Number": w.t.Number, "Subject": w.t.Subject,
			"Target": s.catalog.T(lang, "slapol.kind."+r.Target, nil),
			"Due":    due.In(cal.Location()).Format("2006-01-02 15:04"), "Zone": cal.Location().String(),
			"Owner": w.t.OwnerName, "Late": "",
			// Language-neutral, for a group robot that speaks its own.
			"TargetCode": r.Target, "OwnerName": w.t.OwnerName}
		if w.t.OwnerName == "" {
			params["Owner"] = s.catalog.T(lang, "sla_notice.nobody", nil)
		}
		if late := now.Sub(moment); late > LateAfter {
			params["Late"] = s.catalog.T(lang, "sla_notice.late", map[string]any{
				"At": moment.In(cal.Location()).Format("2006-01-02 15:04"), "Minutes": int(late / time.Minute)})
		}
		for k, v := range extra {
			params[k] = v
		}
		if err := s.staff.Tell(ctx, tell, notify.Notice{Event: event, Key: key, Params: params, TeamID: team,
			Link: fmt.Sprintf("/tickets/%d", w.t.ID), Entity: "ticket", ID: fmt.Sprint(w.t.ID),
			Dedupe: fmt.Sprintf("sla:%d:%s:%d:%d", r.TicketID, r.Target, r.Cycle, step)}); err != nil {
			return err
		}
	}
	return nil
}

func dedupeIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// tellWarning tells the owner (a ticket nobody owns: its team's
// supervisors) that a target is due soon.
func (s *Service) tellWarning(ctx context.Context, w *work, r *row, now time.Time) error {
	to, err := s.ownerOrSupervisors(ctx, w)
	if err != nil {
		return err
	}
	return s.tell(ctx, to, w, r, notify.EventSLAWarning, "sla_notice.warning", 0, r.Timer.WarnAt, now, nil)
}

// runStep does one escalation step: tells its people or moves the ticket.
func (s *Service) runStep(ctx context.Context, w *work, r *row, st sla.EscalationStep, step int, moment, now time.Time) error {
	var to []int64
	var err error
	key := "sla_notice.breach"
	switch st.Action {
	case sla.ActionNotifyOwner:
		to, err = s.ownerOrSupervisors(ctx, w)
	case sla.ActionNotifySupervisor:
		to, err = s.supervisors(ctx, w)
		key = "sla_notice.escalated"
	case sla.ActionNotifyManagement:
		to, err = s.holders(ctx, ManagerRole, 0)
		key = "sla_notice.escalated"
	case sla.ActionReassign:
		if st.TeamID == 0 || (w.t.TeamID != nil && *w.t.TeamID == st.TeamID && w.t.OwnerID == nil) {
			return nil
		}
		// The reason is stored as words, as an agent's typed reason is: in
		// the company's default language.
		reason := s.catalog.T(i18n.Default, "sla_notice.reassign_reason", map[string]any{
			"Target": s.catalog.T(i18n.Default, "slapol.kind."+r.Target, nil)})
		if err := s.tickets.EscalateToTeam(ctx, w.t, st.TeamID, reason); err != nil {
			return fmt.Errorf("reassign on SLA breach: %w", err)
		}
		w.t.TeamID, w.t.OwnerID = &st.TeamID, nil
		to, err = s.supervisors(ctx, w)
		key = "sla_notice.reassigned"
	}
	if err != nil {
		return err
	}
	return s.tell(ctx, to, w, r, notify.EventSLABreach, key, step, moment, now, nil)
}

func (s *Service) ownerOrSupervisors(ctx context.Context, w *work) ([]int64, error) {
	if w.t.OwnerID != nil {
		return []int64{*w.t.OwnerID}, nil
	}
	return s.supervisors(ctx, w)
}

// supervisors are the active supervisors of the ticket's team (every
// supervisor when it has no team or its team has none).
func (s *Service) supervisors(ctx context.Context, w *work) ([]int64, error) {
	var team int64
	if w.t.TeamID != nil {
		team = *w.t.TeamID
	}
	ids, err := s.holders(ctx, SupervisorRole, team)
	if err != nil || len(ids) > 0 || team == 0 {
		return ids, err
	}
	return s.holders(ctx, SupervisorRole, 0)
}

// holders are the active users with role (in team, when team is not 0).
func (s *Service) holders(ctx context.Context, role string, team int64) ([]int64, error) {
	users, err := s.identity.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, u := range users {
		if u.Active && slices.Contains(u.Roles, role) && (team == 0 || slices.Contains(u.TeamIDs, team)) {
			out = append(out, u.ID)
		}
	}
	return out, nil
}
