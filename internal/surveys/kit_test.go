package surveys_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// kit is a Careloop with an agent and a supervisor in one team, a manager,
// and a customer reached by email (the channel every test server has).
type kit struct {
	*testkit.Kit
	agent, sup, boss *identity.Principal
	team             identity.Team
	customer         customers.Customer
}

func newKit(t *testing.T, k *testkit.Kit) *kit {
	t.Helper()
	ctx := context.Background()
	sk := &kit{Kit: k}
	var err error
	if sk.team, err = k.App.Identity.CreateTeam(ctx, "售后组"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		email, role string
		dst         **identity.Principal
	}{{"agent@example.com", "agent", &sk.agent}, {"sup@example.com", "supervisor", &sk.sup}, {"boss@example.com", "manager", &sk.boss}} {
		created, err := k.App.Identity.CreateUser(ctx, identity.NewUser{Email: u.email, Name: strings.Split(u.email, "@")[0],
			Password: testkit.Password, Roles: []string{u.role}, TeamIDs: []int64{sk.team.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if *u.dst, err = k.App.Identity.PrincipalFor(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
	}
	sk.customer = sk.newCustomer(t, "李小红", "li@example.com")
	return sk
}

func (k *kit) newCustomer(t *testing.T, name, email string) customers.Customer {
	t.Helper()
	c, err := k.App.Customers.Create(context.Background(), customers.Input{Name: &name, Email: &email})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func as(p *identity.Principal) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{UserID: p.UserID, Label: p.Email})
}

// resolved makes a ticket of customer c in the team, owned by the agent,
// and resolves it at the clock's time.
func (k *kit) resolved(t *testing.T, c customers.Customer) tickets.Ticket {
	t.Helper()
	tk, err := k.App.Tickets.Create(as(k.agent), k.agent, tickets.Input{CustomerID: c.ID, Type: "fault", Channel: "web", Subject: "打印机黑屏"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = k.App.Tickets.Assign(as(k.agent), k.agent, tk.ID, tickets.AssignInput{OwnerID: &k.agent.UserID, TeamID: &k.team.ID, Reason: "分配"}); err != nil {
		t.Fatal(err)
	}
	return k.move(t, tk.ID, tickets.StateResolved)
}

func (k *kit) move(t *testing.T, id int64, to string) tickets.Ticket {
	t.Helper()
	tk, err := k.App.Tickets.Transition(as(k.agent), k.agent, id, tickets.TransitionInput{To: to, Note: "已更换电源"})
	if err != nil {
		t.Fatalf("ticket %d to %s: %v", id, to, err)
	}
	return tk
}

func (k *kit) send(t *testing.T) surveys.Report {
	t.Helper()
	rep, err := k.App.Surveys.SendDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (k *kit) surveysOf(t *testing.T, ticketID int64) []surveys.Survey {
	t.Helper()
	list, err := k.App.Surveys.List(context.Background(), k.sup, surveys.Filter{TicketID: ticketID})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// outboxSurveys counts the survey messages in the outbox.
func (k *kit) outboxSurveys(t *testing.T) int {
	t.Helper()
	var n int
	if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE kind = 'survey'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var linkRe = regexp.MustCompile(`/s/([A-Za-z0-9_-]+)`)

// token is the link's token in survey id's message.
func (k *kit) token(t *testing.T, id int64) string {
	t.Helper()
	var body string
	if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT body FROM outbox WHERE dedupe_key = $1`, surveys.DedupeKey(id)).Scan(&body); err != nil {
		t.Fatalf("message of survey %d: %v", id, err)
	}
	m := linkRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link in %q", body)
	}
	return m[1]
}

// sentSurvey resolves a ticket of the customer and sends its survey; it
// returns the survey and its token.
func (k *kit) sentSurvey(t *testing.T, c customers.Customer) (surveys.Survey, string) {
	t.Helper()
	tk := k.resolved(t, c)
	k.Clock.Advance(3 * time.Hour)
	k.send(t)
	list := k.surveysOf(t, tk.ID)
	if len(list) != 1 || list[0].State != surveys.StateSent {
		t.Fatalf("surveys of %s: %+v", tk.Number, list)
	}
	return list[0], k.token(t, list[0].ID)
}
