package ticketsla_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// cst is a wall-clock time in Shanghai.
func cst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, shanghai)
}

// slaKit is a Careloop with an agent (the owner) and a supervisor in one
// team, a manager, and a customer.
type slaKit struct {
	*testkit.Kit
	agent, sup, boss *identity.Principal
	team             identity.Team
	customer         customers.Customer
}

func newSLAKit(t *testing.T, k *testkit.Kit) *slaKit {
	t.Helper()
	ctx := context.Background()
	sk := &slaKit{Kit: k}
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
	name := "李小红"
	if sk.customer, err = k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13800138000"}}); err != nil {
		t.Fatal(err)
	}
	return sk
}

func as(p *identity.Principal) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{UserID: p.UserID, Label: p.Email})
}

// create makes a ticket at instant at, owned by the agent.
func (k *slaKit) create(t *testing.T, at time.Time, in tickets.Input) tickets.Ticket {
	t.Helper()
	k.Clock.Set(at)
	in.CustomerID = k.customer.ID
	if in.Type == "" {
		in.Type = "fault"
	}
	if in.Channel == "" {
		in.Channel = "web"
	}
	if in.Subject == "" {
		in.Subject = "打印机黑屏"
	}
	tk, err := k.App.Tickets.Create(as(k.agent), k.agent, in)
	if err != nil {
		t.Fatal(err)
	}
	if tk, err = k.App.Tickets.Assign(as(k.agent), k.agent, tk.ID, tickets.AssignInput{OwnerID: &k.agent.UserID, TeamID: &k.team.ID, Reason: "分配"}); err != nil {
		t.Fatal(err)
	}
	return tk
}

// timers returns the ticket's newest timer per target.
func (k *slaKit) timers(t *testing.T, ticketID int64) map[string]sla.StoredTimer {
	t.Helper()
	all, err := k.App.SLATimers.ForTicket(context.Background(), ticketID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sla.StoredTimer{}
	for _, st := range all {
		if cur, ok := out[st.Target]; !ok || st.Cycle > cur.Cycle {
			out[st.Target] = st
		}
	}
	return out
}

func (k *slaKit) sweep(t *testing.T) {
	t.Helper()
	if _, err := k.App.SLA.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// notices returns the SLA notices enqueued for a user: "kind|subject".
func (k *slaKit) notices(t *testing.T, userID int64) []string {
	t.Helper()
	rows, err := k.App.DB.R.QueryContext(context.Background(), `SELECT kind, subject FROM outbox
		WHERE user_id = $1 AND kind LIKE 'staff.sla%' AND channel = 'inapp' ORDER BY id`, userID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, subject string
		if err := rows.Scan(&kind, &subject); err != nil {
			t.Fatal(err)
		}
		out = append(out, kind+"|"+subject)
	}
	return out
}

// due is the ticket's next due target as the queues read it.
func (k *slaKit) due(t *testing.T, ticketID int64) (*time.Time, string) {
	t.Helper()
	var at *time.Time
	var target string
	if err := k.App.DB.R.QueryRowContext(context.Background(), `SELECT sla_due_at, sla_due_target FROM tickets WHERE id = $1`, ticketID).
		Scan(&at, &target); err != nil {
		t.Fatal(err)
	}
	return at, target
}

func dueOf(t *testing.T, st sla.StoredTimer) time.Time {
	t.Helper()
	d, ok := st.Timer.DueAt()
	if !ok {
		t.Fatalf("%s has no due time (state %s)", st.Target, st.Timer.State)
	}
	return d
}

func sameInstant(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s: %s, want %s", what, got.In(want.Location()).Format(time.RFC3339), want.Format(time.RFC3339))
	}
}
