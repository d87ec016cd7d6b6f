package demo

import (
	"context"
	"fmt"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/tickets"
)

// SurveyStores are what the demo surveys are made with: the application's
// own tickets store, whose resolutions plan the surveys (the surveys
// store listens to it).
type SurveyStores struct {
	DB       *db.DB
	Identity *identity.Store
	Tickets  *tickets.Store
	Surveys  *surveys.Store
}

// demoSurveys are the cases the demo shows: a happy answer, an unhappy one
// with its follow-up for the service desk's supervisor, and one whose
// survey is still on its way (the survey job sends it after the delay).
var demoSurveys = []struct {
	subject, description string
	csat                 int // 0: not answered
	comment              string
}{
	{"洗衣机脱水时噪音大", "脱水时声音很大，机身有点晃。", 5, "师傅很耐心，讲得很清楚，调平以后安静多了，谢谢！"},
	{"空调遥控器失灵", "换了电池也没反应。", 2, "等了三天才有人回复，希望能快一点。"},
	{"咨询延保服务价格", "冰箱快过保修期了，想了解延保。", 0, ""},
}

// SeedSurveys resolves three tickets of the service desk and records the
// customers' answers given on the phone: 5 with a kind comment, 2 with an
// open follow-up for the desk's supervisor, and one not answered yet. Once
// any survey exists it does nothing.
func SeedSurveys(ctx context.Context, s SurveyStores) error {
	var n int
	if err := s.DB.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM surveys`).Scan(&n); err != nil || n > 0 {
		return err
	}
	staff, err := demoStaff(ctx, s.Identity)
	if err != nil {
		return err
	}
	agent := staff["agent"]
	if agent == nil {
		return fmt.Errorf("demo surveys: no agent")
	}
	who, err := s.Identity.GetUser(ctx, agent.UserID)
	if err != nil || len(who.TeamIDs) == 0 {
		return fmt.Errorf("demo surveys: the agent's team: %v", err)
	}
	rows, err := s.DB.R.QueryContext(ctx, `SELECT id FROM customers WHERE merged_into IS NULL AND erased_at IS NULL ORDER BY id LIMIT $1`, len(demoSurveys))
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) < len(demoSurveys) {
		return fmt.Errorf("demo surveys: %d customers, want %d", len(ids), len(demoSurveys))
	}
	actx := audit.WithActor(ctx, actor(agent))
	team := who.TeamIDs[0]
	for i, d := range demoSurveys {
		t, err := s.Tickets.Create(actx, agent, tickets.Input{CustomerID: ids[i], Type: "consultation", Channel: "phone",
			Subject: d.subject, Description: d.description})
		if err != nil {
			return fmt.Errorf("demo survey ticket: %w", err)
		}
		if _, err := s.Tickets.Assign(actx, agent, t.ID, tickets.AssignInput{OwnerID: &agent.UserID, TeamID: &team, Reason: "演示数据"}); err != nil {
			return err
		}
		if _, err := s.Tickets.Transition(actx, agent, t.ID, tickets.TransitionInput{To: tickets.StateResolved, Note: "已电话解答"}); err != nil {
			return err
		}
		if d.csat == 0 {
			continue
		}
		list, err := s.Surveys.List(ctx, agent, surveys.Filter{TicketID: t.ID})
		if err != nil || len(list) != 1 {
			return fmt.Errorf("demo survey of ticket %d: %d surveys, %v", t.ID, len(list), err)
		}
		if _, err := s.Surveys.AnswerByPhone(actx, agent, list[0].ID, surveys.Answer{CSAT: d.csat, Comment: d.comment}); err != nil {
			return fmt.Errorf("demo survey answer: %w", err)
		}
	}
	return nil
}
