package care

import (
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

// A team plan spreads its tasks over the team's active members; an owner
// plan falls back to the team for customers without an owner.
func TestAssigneeRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var users []int64
		for i, active := range []bool{true, true, false} {
			users = append(users, k.id(`INSERT INTO users (email, name, password_hash, active, created_at, updated_at) VALUES ($1, $2, 'x', $3, $4, $4)`,
				"u"+string(rune('a'+i))+"@example.com", "用户", active, at))
		}
		team := k.id(`INSERT INTO teams (name, created_at, updated_at) VALUES ('关怀组', $1, $1)`, at)
		for _, u := range users {
			k.exec(`INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)`, team, u)
		}
		for i := 0; i < 6; i++ {
			k.customer("", "", "")
		}
		owned := k.customer("", "", "")
		k.exec(`UPDATE customers SET owner_id = $1 WHERE id = $2`, users[2], owned)
		teamPlan, err := k.s.CreatePlan(k.ctx, Plan{Name: "团队春节", Kind: KindFestival, Params: Params{Festival: "spring_festival"},
			WindowStart: -5, WindowEnd: -3, AssigneeRule: AssignTeam, TeamID: &team, ChannelRule: "phone", Active: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.s.RunOn(k.ctx, date(t, "2027-02-01")); err != nil {
			t.Fatal(err)
		}
		counts := map[int64]int{}
		tasks, err := k.s.Tasks(k.ctx, TaskFilter{PlanID: teamPlan.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			if task.AssigneeID == nil || task.Channel != "phone" {
				t.Fatalf("task %+v", task)
			}
			counts[*task.AssigneeID]++
		}
		// 7 customers over the two active members; the inactive one gets none.
		if len(tasks) != 7 || counts[users[2]] != 0 || counts[users[0]]+counts[users[1]] != 7 || counts[users[0]] < 3 || counts[users[1]] < 3 {
			t.Fatalf("spread %v over %d tasks", counts, len(tasks))
		}
		// The default (owner) plan: the owned customer's task is the owner's,
		// the others have nobody (no team on the plan).
		spring, err := k.s.Tasks(k.ctx, TaskFilter{PlanID: 3, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range spring {
			if (task.CustomerID == owned) != (task.AssigneeID != nil && *task.AssigneeID == users[2]) {
				t.Fatalf("owner rule: %+v", task)
			}
		}
	})
}
