package surveys

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Answer is what the customer says.
type Answer struct {
	CSAT    int    `json:"csat"`
	NPS     *int   `json:"nps,omitempty"`
	Comment string `json:"comment"`
}

// Check names each field that is out of range.
func (a Answer) Check() error {
	var ve domain.ValidationError
	if a.CSAT < 1 || a.CSAT > 5 {
		ve.Add("csat", "validation.range", map[string]any{"Min": 1, "Max": 5})
	}
	if a.NPS != nil && (*a.NPS < 0 || *a.NPS > 10) {
		ve.Add("nps", "validation.range", map[string]any{"Min": 0, "Max": 10})
	}
	if utf8.RuneCountInString(a.Comment) > MaxComment || !utf8.ValidString(a.Comment) {
		ve.Add("comment", "validation.too_long", map[string]any{"Max": MaxComment})
	}
	return ve.Err()
}

// ParseAnswer reads the page's form values: csat required, nps optional
// (empty: not given), the comment as typed. Each bad field is named.
func ParseAnswer(csat, nps, comment string) (Answer, error) {
	var a Answer
	var ve domain.ValidationError
	if c := strings.TrimSpace(csat); c == "" {
		ve.Add("csat", "validation.required", nil)
	} else if v, err := strconv.Atoi(c); err != nil || v < 1 || v > 5 {
		ve.Add("csat", "validation.range", map[string]any{"Min": 1, "Max": 5})
	} else {
		a.CSAT = v
	}
	if n := strings.TrimSpace(nps); n != "" {
		if v, err := strconv.Atoi(n); err != nil || v < 0 || v > 10 {
			ve.Add("nps", "validation.range", map[string]any{"Min": 0, "Max": 10})
		} else {
			a.NPS = &v
		}
	}
	a.Comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(a.Comment) > MaxComment || !utf8.ValidString(a.Comment) {
		ve.Add("comment", "validation.too_long", map[string]any{"Max": MaxComment})
	}
	return a, ve.Err()
}

// linkState says whether a link can still be answered.
func linkState(sv Survey, now time.Time) error {
	switch {
	case sv.AnsweredAt != nil:
		return ErrAnswered
	case sv.State != StateSent || sv.ExpiresAt == nil:
		return ErrNoSurvey
	case !now.Before(*sv.ExpiresAt):
		return ErrExpired
	}
	return nil
}

// Throttle counts one post of the public page, forged tokens' included:
// a *identity.ThrottledError past AnswerLimit's tries per token and per
// address.
func (s *Store) Throttle(token, ip string) error {
	if wait, _ := s.AnswerLimit.Begin(tokenHash(token), ip); wait > 0 {
		return &identity.ThrottledError{RetryAfter: wait}
	}
	return nil
}

// AnswerByToken records the customer's answer through the link: once
// (the statement requires no answer yet), within the link's time. The page
// calls Throttle first.
func (s *Store) AnswerByToken(ctx context.Context, token string, a Answer) (Survey, error) {
	if err := a.Check(); err != nil {
		return Survey{}, err
	}
	var out Survey
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		sv, err := s.ByToken(ctx, token)
		if err != nil {
			out = sv
			return err
		}
		out, err = s.record(ctx, sv, a, ViaLink, 0)
		return err
	})
	return out, err
}

// AnswerByPhone records an answer an agent took on the phone, for a
// survey of a ticket p may see that has no answer yet (a sent link is
// spent by it; a planned or suppressed survey may be answered too).
func (s *Store) AnswerByPhone(ctx context.Context, p *identity.Principal, id int64, a Answer) (Survey, error) {
	if err := a.Check(); err != nil {
		return Survey{}, err
	}
	var out Survey
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		sv, err := s.Get(ctx, p, id)
		if err != nil {
			return err
		}
		if sv.AnsweredAt != nil {
			return domain.Conflict("surveys.conflict.answered", nil, map[string]any{"answered_at": sv.AnsweredAt})
		}
		out, err = s.record(ctx, sv, a, ViaPhone, p.UserID)
		return err
	})
	return out, err
}

// record writes the answer, the ticket's event, and for an unhappy one the
// follow-up with its notice, all in ctx's transaction.
func (s *Store) record(ctx context.Context, sv Survey, a Answer, via string, by int64) (Survey, error) {
	now := db.Now(s.clock.Now())
	var nps, byID any
	if a.NPS != nil {
		nps = *a.NPS
	}
	if by != 0 {
		byID = by
	}
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE surveys SET state = 'answered', csat = $2, nps = $3, comment = $4, answered_at = $5,
		answered_via = $6, answered_by = $7 WHERE id = $1 AND answered_at IS NULL`, sv.ID, a.CSAT, nps, a.Comment, now, via, byID)
	if err != nil {
		return sv, fmt.Errorf("answer survey %d: %w", sv.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sv, ErrAnswered // a second submission raced this one
	}
	if err := s.audit.Record(ctx, "survey.answer", "survey", fmt.Sprint(sv.ID), map[string]audit.Change{
		"csat": {After: a.CSAT}, "via": {After: via}}); err != nil {
		return sv, err
	}
	if sv.TicketID != 0 {
		if err := s.tickets.Record(ctx, sv.TicketID, EventAnswered, map[string]any{"survey_id": sv.ID, "csat": a.CSAT, "via": via}); err != nil {
			return sv, err
		}
	}
	if st := s.current(ctx); st.UnhappyAt > 0 && a.CSAT <= st.UnhappyAt {
		if err := s.openFollowUp(ctx, sv, a, st, now); err != nil {
			return sv, err
		}
	}
	return s.get(ctx, sv.ID)
}
