package surveys

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
)

// Ticket events the surveys write into the ticket's history.
const (
	EventAnswered       = "survey.answered"
	EventFollowUpOpened = "survey.follow_up_opened"
	EventFollowUpClosed = "survey.follow_up_closed"
)

// Roles a follow-up goes to: the team's supervisor, else a manager.
const (
	SupervisorRole = "supervisor"
	ManagerRole    = notify.ManagerRole
)

// States of a follow-up.
const (
	FollowUpOpen = "open"
	FollowUpDone = "done"
)

// MaxNote is the longest contact note or cause, in characters.
const MaxNote = 2000

// FollowUp is a supervisor's task after an unhappy answer.
type FollowUp struct {
	ID          int64      `json:"id"`
	SurveyID    int64      `json:"survey_id"`
	TicketID    int64      `json:"ticket_id,omitempty"`
	AssigneeID  int64      `json:"assignee_id,omitempty"`
	State       string     `json:"state"`
	DueAt       time.Time  `json:"due_at"`
	ContactNote string     `json:"contact_note"`
	Cause       string     `json:"cause"`
	CreatedAt   time.Time  `json:"created_at"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	ClosedBy    int64      `json:"closed_by,omitempty"`
}

const followUpCols = `id, survey_id, COALESCE(ticket_id, 0), COALESCE(assignee_id, 0), state, due_at, contact_note, cause, created_at,
	closed_at, COALESCE(closed_by, 0)`

func scanFollowUp(r scanner) (FollowUp, error) {
	var f FollowUp
	var closed sql.NullTime
	err := r.Scan(&f.ID, &f.SurveyID, &f.TicketID, &f.AssigneeID, &f.State, &f.DueAt, &f.ContactNote, &f.Cause, &f.CreatedAt, &closed, &f.ClosedBy)
	f.DueAt, f.CreatedAt, f.ClosedAt = f.DueAt.UTC(), f.CreatedAt.UTC(), tptr(closed)
	return f, err
}

// openFollowUp writes the follow-up of an unhappy answer (once per
// survey), its ticket event and the assignee's notice.
func (s *Store) openFollowUp(ctx context.Context, sv Survey, a Answer, st Settings, now time.Time) error {
	assignee, err := s.assignee(ctx, sv.TeamID)
	if err != nil {
		return err
	}
	var who, ticket any
	if assignee != 0 {
		who = assignee
	}
	if sv.TicketID != 0 {
		ticket = sv.TicketID
	}
	q := s.db.Q(ctx)
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO survey_follow_ups (survey_id, ticket_id, assignee_id, state, due_at, created_at)
		VALUES ($1, $2, $3, 'open', $4, $5) ON CONFLICT DO NOTHING RETURNING id`,
		sv.ID, ticket, who, now.Add(time.Duration(st.FollowUpHours)*time.Hour), now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // opened already
	}
	if err != nil {
		return fmt.Errorf("follow-up of survey %d: %w", sv.ID, err)
	}
	if err := s.audit.Record(ctx, "survey.follow_up_open", "survey_follow_up", fmt.Sprint(id), map[string]audit.Change{
		"survey_id": {After: sv.ID}, "assignee_id": {After: assignee}}); err != nil {
		return err
	}
	if sv.TicketID == 0 {
		return nil
	}
	if err := s.tickets.Record(ctx, sv.TicketID, EventFollowUpOpened, map[string]any{"survey_id": sv.ID, "follow_up_id": id,
		"assignee_id": assignee}); err != nil {
		return err
	}
	if assignee == 0 || s.staff == nil {
		return nil
	}
	var number, subject string
	if err := q.QueryRowContext(ctx, `SELECT number, subject FROM tickets WHERE id = $1`, sv.TicketID).Scan(&number, &subject); err != nil {
		return err
	}
	comment := a.Comment
	if utf8.RuneCountInString(comment) > 80 {
		comment = string([]rune(comment)[:80]) + "…"
	}
	return s.staff.Tell(ctx, []int64{assignee}, notify.Notice{Event: notify.EventSurveyUnhappy, Key: "survey_notice.unhappy",
		Params: map[string]any{"Number": number, "Subject": subject, "CSAT": a.CSAT, "Comment": comment},
		Link:   fmt.Sprintf("/tickets/%d", sv.TicketID), Entity: "ticket", ID: fmt.Sprint(sv.TicketID), TeamID: sv.TeamID,
		Dedupe: fmt.Sprintf("survey_unhappy:%d", sv.ID)})
}

// assignee is the first active supervisor of team, else the first active
// manager, else nobody (0).
func (s *Store) assignee(ctx context.Context, team int64) (int64, error) {
	users, err := s.identity.ListUsers(ctx)
	if err != nil {
		return 0, err
	}
	pick := func(role string, team int64) int64 {
		var best int64
		for _, u := range users {
			if u.Active && slices.Contains(u.Roles, role) && (team == 0 || slices.Contains(u.TeamIDs, team)) && (best == 0 || u.ID < best) {
				best = u.ID
			}
		}
		return best
	}
	if team != 0 {
		if id := pick(SupervisorRole, team); id != 0 {
			return id, nil
		}
	}
	return pick(ManagerRole, 0), nil
}

// FollowUpFilter narrows FollowUps.
type FollowUpFilter struct {
	AssigneeID int64
	State      string
	TicketID   int64
	Limit      int
}

// FollowUps lists follow-ups, newest first, of tickets p may see.
func (s *Store) FollowUps(ctx context.Context, p *identity.Principal, f FollowUpFilter) ([]FollowUp, error) {
	if f.State != "" && f.State != FollowUpOpen && f.State != FollowUpDone {
		return nil, domain.Invalid("state", "validation.one_of", map[string]any{"Values": "open, done"})
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.AssigneeID != 0 {
		add("assignee_id = $%d", f.AssigneeID)
	}
	if f.State != "" {
		add("state = $%d", f.State)
	}
	if f.TicketID != 0 {
		add("ticket_id = $%d", f.TicketID)
	}
	args = append(args, f.Limit)
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+followUpCols+` FROM survey_follow_ups WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list follow-ups: %w", err)
	}
	var all []FollowUp
	for rows.Next() {
		fu, err := scanFollowUp(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, fu)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []FollowUp{}
	for _, fu := range all {
		if fu.TicketID == 0 || s.tickets.Visible(ctx, p, fu.TicketID) == nil {
			out = append(out, fu)
		}
	}
	return out, nil
}

// Close is what the supervisor found.
type Close struct {
	ContactNote string `json:"contact_note"`
	Cause       string `json:"cause"`
}

// CloseFollowUp records the contact and the cause and closes the task
// (once: a closed one is a conflict).
func (s *Store) CloseFollowUp(ctx context.Context, p *identity.Principal, id int64, in Close) (FollowUp, error) {
	in.ContactNote, in.Cause = strings.TrimSpace(in.ContactNote), strings.TrimSpace(in.Cause)
	var ve domain.ValidationError
	for _, f := range []struct{ name, v string }{{"contact_note", in.ContactNote}, {"cause", in.Cause}} {
		switch {
		case f.v == "":
			ve.Add(f.name, "validation.required", nil)
		case utf8.RuneCountInString(f.v) > MaxNote:
			ve.Add(f.name, "validation.too_long", map[string]any{"Max": MaxNote})
		}
	}
	if err := ve.Err(); err != nil {
		return FollowUp{}, err
	}
	var out FollowUp
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		fu, err := scanFollowUp(q.QueryRowContext(ctx, `SELECT `+followUpCols+` FROM survey_follow_ups WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && fu.TicketID != 0 && s.tickets.Visible(ctx, p, fu.TicketID) != nil) {
			return fmt.Errorf("follow-up %d: %w", id, domain.ErrNotFound)
		} else if err != nil {
			return err
		}
		now := db.Now(s.clock.Now())
		res, err := q.ExecContext(ctx, `UPDATE survey_follow_ups SET state = 'done', contact_note = $2, cause = $3, closed_at = $4, closed_by = $5
			WHERE id = $1 AND state = 'open'`, id, in.ContactNote, in.Cause, now, p.UserID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return domain.Conflict("surveys.conflict.closed", nil, nil)
		}
		if err := s.audit.Record(ctx, "survey.follow_up_close", "survey_follow_up", fmt.Sprint(id), map[string]audit.Change{
			"state": {Before: FollowUpOpen, After: FollowUpDone}, "cause": {After: in.Cause}}); err != nil {
			return err
		}
		if fu.TicketID != 0 {
			if err := s.tickets.Record(ctx, fu.TicketID, EventFollowUpClosed, map[string]any{"survey_id": fu.SurveyID, "follow_up_id": id}); err != nil {
				return err
			}
		}
		out, err = scanFollowUp(q.QueryRowContext(ctx, `SELECT `+followUpCols+` FROM survey_follow_ups WHERE id = $1`, id))
		return err
	})
	return out, err
}
