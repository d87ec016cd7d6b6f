package surveys_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
)

func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) != 1 {
		t.Fatalf("want one field error, got %v", err)
	}
	return ve.Fields[0].Field
}

// The link answers once, within its time, only by its own whole token.
func TestLinkIsSingleUseBoundAndExpires(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newKit(t, tk)
		ctx := context.Background()
		sv, token := k.sentSurvey(t, k.customer)
		other, otherToken := k.sentSurvey(t, k.newCustomer(t, "张三", "zhang@example.com"))
		got, err := k.App.Surveys.ByToken(ctx, token)
		if err != nil || got.ID != sv.ID {
			t.Fatalf("by token: %+v %v", got, err)
		}
		for _, bad := range []string{token[:len(token)-1], token + "A", strings.Repeat("A", len(token)), "../../etc", ""} {
			if _, err := k.App.Surveys.ByToken(ctx, bad); !errors.Is(err, surveys.ErrNoSurvey) {
				t.Errorf("token %q: %v", bad, err)
			}
		}
		// Bad answers change nothing and name their field.
		nps11, nps := 11, 9
		for _, c := range []struct {
			a     surveys.Answer
			field string
		}{{surveys.Answer{CSAT: 6}, "csat"}, {surveys.Answer{CSAT: -1}, "csat"}, {surveys.Answer{CSAT: 4, NPS: &nps11}, "nps"},
			{surveys.Answer{CSAT: 4, Comment: strings.Repeat("长", 100<<10/3)}, "comment"}} {
			_, err := k.App.Surveys.AnswerByToken(ctx, token, c.a)
			if f := fieldOf(t, err); f != c.field {
				t.Errorf("%+v: field %s, want %s", c.a, f, c.field)
			}
		}
		for _, c := range [][4]string{{"6", "", "", "csat"}, {"", "", "", "csat"}, {"x", "", "", "csat"}, {"4", "-1", "", "nps"},
			{"4", "", strings.Repeat("a", 100<<10), "comment"}} {
			if _, err := surveys.ParseAnswer(c[0], c[1], c[2]); fieldOf(t, err) != c[3] {
				t.Errorf("parse %q %q: %v", c[0], c[1], err)
			}
		}
		script := `<script>alert(1)</script> 很好`
		ans, err := k.App.Surveys.AnswerByToken(ctx, token, surveys.Answer{CSAT: 5, NPS: &nps, Comment: script})
		if err != nil || ans.State != surveys.StateAnswered || *ans.CSAT != 5 || *ans.NPS != 9 || ans.Comment != script || ans.AnsweredVia != surveys.ViaLink {
			t.Fatalf("answer: %+v %v", ans, err)
		}
		if _, err := k.App.Surveys.AnswerByToken(ctx, token, surveys.Answer{CSAT: 1}); !errors.Is(err, surveys.ErrAnswered) {
			t.Fatalf("second answer: %v", err)
		}
		if _, err := k.App.Surveys.ByToken(ctx, token); !errors.Is(err, surveys.ErrAnswered) {
			t.Fatalf("link after answering: %v", err)
		}
		if o, _ := k.App.Surveys.Get(ctx, k.sup, other.ID); o.AnsweredAt != nil {
			t.Fatalf("the other survey changed: %+v", o)
		}
		// A happy answer opens no follow-up.
		if fus, _ := k.App.Surveys.FollowUps(ctx, k.sup, surveys.FollowUpFilter{}); len(fus) != 0 {
			t.Fatalf("follow-ups of a happy answer: %+v", fus)
		}
		// Fourteen days after sending, the other link is expired.
		k.Clock.Set(other.SentAt.Add(14 * 24 * time.Hour))
		if _, err := k.App.Surveys.ByToken(ctx, otherToken); !errors.Is(err, surveys.ErrExpired) {
			t.Fatalf("expired link: %v", err)
		}
		if _, err := k.App.Surveys.AnswerByToken(ctx, otherToken, surveys.Answer{CSAT: 4}); !errors.Is(err, surveys.ErrExpired) {
			t.Fatalf("answer of an expired link: %v", err)
		}
	})
}

// An unhappy answer (3 or below) opens at once a follow-up for the team's
// supervisor, due in 24 hours, with the ticket's events and the
// supervisor's notice; the supervisor closes it with contact and cause.
func TestUnhappyAnswerOpensFollowUpForTheTeamSupervisor(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newKit(t, tk)
		ctx := context.Background()
		sv, token := k.sentSurvey(t, k.customer)
		if _, err := k.App.Surveys.AnswerByToken(ctx, token, surveys.Answer{CSAT: 2, Comment: "等了三天"}); err != nil {
			t.Fatal(err)
		}
		fus, err := k.App.Surveys.FollowUps(ctx, k.sup, surveys.FollowUpFilter{AssigneeID: k.sup.UserID, State: surveys.FollowUpOpen})
		if err != nil || len(fus) != 1 {
			t.Fatalf("follow-ups: %+v %v", fus, err)
		}
		fu := fus[0]
		if fu.SurveyID != sv.ID || fu.TicketID != sv.TicketID || fu.DueAt.Sub(fu.CreatedAt) != 24*time.Hour {
			t.Fatalf("follow-up: %+v", fu)
		}
		events, err := k.App.Tickets.Events(ctx, sv.TicketID)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range events {
			kinds = append(kinds, e.Kind)
		}
		if got := strings.Join(kinds, ","); !strings.HasSuffix(got, surveys.EventAnswered+","+surveys.EventFollowUpOpened) {
			t.Fatalf("ticket events: %s", got)
		}
		var subject string
		if err := k.App.DB.R.QueryRowContext(ctx, `SELECT subject FROM outbox WHERE user_id = $1 AND kind = 'staff.survey_unhappy' AND channel = 'inapp'`,
			k.sup.UserID).Scan(&subject); err != nil || !strings.Contains(subject, "2 分") {
			t.Fatalf("supervisor's notice: %q %v", subject, err)
		}
		if _, err := k.App.Surveys.CloseFollowUp(as(k.sup), k.sup, fu.ID, surveys.Close{Cause: "配件缺货"}); fieldOf(t, err) != "contact_note" {
			t.Fatalf("close without contact: %v", err)
		}
		done, err := k.App.Surveys.CloseFollowUp(as(k.sup), k.sup, fu.ID, surveys.Close{ContactNote: "已致电客户致歉", Cause: "配件缺货"})
		if err != nil || done.State != surveys.FollowUpDone || done.ClosedBy != k.sup.UserID || done.Cause != "配件缺货" {
			t.Fatalf("closed: %+v %v", done, err)
		}
		if _, err := k.App.Surveys.CloseFollowUp(as(k.sup), k.sup, fu.ID, surveys.Close{ContactNote: "x", Cause: "y"}); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("closing twice: %v", err)
		}
	})
}

// An agent records a phone answer; a ticket whose team has no supervisor
// sends the unhappy one's follow-up to a manager.
func TestPhoneAnswerAndManagerFallback(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newKit(t, tk)
		ctx := context.Background()
		if _, err := k.App.Identity.UpdateUser(ctx, k.sup.UserID, identityInactive()); err != nil {
			t.Fatal(err)
		}
		sv, _ := k.sentSurvey(t, k.customer)
		ans, err := k.App.Surveys.AnswerByPhone(as(k.agent), k.agent, sv.ID, surveys.Answer{CSAT: 3})
		if err != nil || ans.AnsweredVia != surveys.ViaPhone || ans.AnsweredBy != k.agent.UserID {
			t.Fatalf("phone answer: %+v %v", ans, err)
		}
		if _, err := k.App.Surveys.AnswerByPhone(as(k.agent), k.agent, sv.ID, surveys.Answer{CSAT: 4}); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("second phone answer: %v", err)
		}
		fus, err := k.App.Surveys.FollowUps(ctx, k.boss, surveys.FollowUpFilter{AssigneeID: k.boss.UserID})
		if err != nil || len(fus) != 1 {
			t.Fatalf("manager's follow-ups: %+v %v", fus, err)
		}
	})
}

func identityInactive() identity.UserPatch {
	off := false
	return identity.UserPatch{Active: &off}
}
