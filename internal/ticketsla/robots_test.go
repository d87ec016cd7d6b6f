package ticketsla_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// robotRows are the robot channel's outbox rows: "recipient|subject".
func (k *slaKit) robotRows(t *testing.T) []string {
	t.Helper()
	rows, err := k.App.DB.R.QueryContext(context.Background(), `SELECT recipient, subject FROM outbox WHERE channel = 'robot' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r, s string
		if err := rows.Scan(&r, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, r+"|"+s)
	}
	return out
}

// The real sweep (as the app wires it) tells the team's group robot of the
// warning, the breach and each escalation step once, in the robot's
// language, however often it sweeps; a robot of another team hears
// nothing.
func TestSweepTellsTheTeamsRobotOncePerStep(t *testing.T) {
	testkit.Each(t, func(t *testing.T, tk *testkit.Kit) {
		k := newSLAKit(t, tk)
		ctx := context.Background()
		other, err := k.App.Identity.CreateTeam(ctx, "安装组")
		if err != nil {
			t.Fatal(err)
		}
		l, err := k.App.Robots.Replace(ctx, robots.WeCom, robots.Config{Robots: []robots.Input{
			{Name: "售后群", Webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa",
				Events: []string{notify.EventSLAWarning, notify.EventSLABreach}, TeamID: &k.team.ID},
			{Name: "安装群", Webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=793a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa",
				Events: []string{notify.EventSLAWarning, notify.EventSLABreach}, TeamID: &other.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		ticket := k.create(t, cst(2026, 3, 6, 17, 55), tickets.Input{})
		mine := func(rows []string) {
			t.Helper()
			for _, r := range rows {
				if !strings.HasPrefix(r, strconv.FormatInt(l.Robots[0].ID, 10)+"|") || !strings.Contains(r, ticket.Number) || !strings.Contains(r, "「首次响应」") {
					t.Fatalf("robot rows %v", rows)
				}
			}
		}
		for _, at := range []struct {
			h, m int
			want []string
		}{{9, 3, []string{"【即将超时】"}}, {9, 6, []string{"【即将超时】", "【已超时】"}},
			{9, 36, []string{"【即将超时】", "【已超时】", "【超时升级】"}}} {
			k.Clock.Set(cst(2026, 3, 9, at.h, at.m))
			k.sweep(t)
			k.sweep(t)
			rows := k.robotRows(t)
			mine(rows)
			if len(rows) != len(at.want) {
				t.Fatalf("at %02d:%02d: %v", at.h, at.m, rows)
			}
			for i, w := range at.want {
				if !strings.Contains(rows[i], w) {
					t.Fatalf("at %02d:%02d row %d: %v", at.h, at.m, i, rows)
				}
			}
		}
	})
}
