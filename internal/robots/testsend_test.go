package robots_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/robots"
)

// A test message reaches the robot's group signed, through the outbox; a
// second click within the minute is the same row, a robot of the other
// kind or a switched-off one is refused.
func TestSendTestReachesTheRobotOnceAMinute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		ctx := context.Background()
		l := k.dingRobots(t, robots.Input{Name: "售后群", Events: []string{notify.EventSLABreach}},
			robots.Input{Name: "停用群", Events: []string{}, Active: ptr(false)})
		id, err := k.robots.SendTest(ctx, robots.DingTalk, l.Robots[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		again, err := k.robots.SendTest(ctx, robots.DingTalk, l.Robots[0].ID)
		if err != nil || again != id {
			t.Fatalf("second click: %d %v (first %d)", again, err, id)
		}
		k.drain(t)
		got := k.ding.accepted()
		if len(got) != 1 || got[0].Token != "dt0" || !strings.Contains(got[0].Text, "售后群") || !strings.Contains(got[0].Title, "测试") {
			t.Fatalf("DingTalk got %+v, refused %v", got, k.ding.refused)
		}
		if rows := k.robotRows(t); len(rows) != 1 || rows[0].State != notify.StateSent || rows[0].Kind != "robot.test" {
			t.Fatalf("rows %+v", rows)
		}
		k.clock.Advance(time.Minute)
		if next, err := k.robots.SendTest(ctx, robots.DingTalk, l.Robots[0].ID); err != nil || next == id {
			t.Fatalf("a minute later: %d %v", next, err)
		}
		if _, err := k.robots.SendTest(ctx, robots.WeCom, l.Robots[0].ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("as a WeCom robot: %v", err)
		}
		var v *domain.ValidationError
		if _, err := k.robots.SendTest(ctx, robots.DingTalk, l.Robots[1].ID); !errors.As(err, &v) || v.Fields[0].Field != "robots" {
			t.Fatalf("switched off: %v", err)
		}
	})
}
