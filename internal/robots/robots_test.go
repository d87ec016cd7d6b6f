package robots_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/tickets"
)

// TestSignMatchesDingTalksDocumentedAlgorithm: the value below is what
// DingTalk's documented Python example (hmac.new(secret, timestamp + "\n"
// + secret, sha256), base64, quote_plus) prints for this timestamp and
// secret.
func TestSignMatchesDingTalksDocumentedAlgorithm(t *testing.T) {
	const secret = "SEC3c1e1f2b6a8b1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5"
	if got := robots.Sign(secret, 1577262236757); got != "3dxlAdwKlXsYOg7/ZVFEXtNnss7O0TE6ke4C/mv97Ls=" {
		t.Fatalf("sign %q", got)
	}
}

// dingRobot configures a DingTalk robot on the fake, routed events.
func (k *kit) dingRobots(t *testing.T, in ...robots.Input) robots.List {
	t.Helper()
	for i := range in {
		token := fmt.Sprintf("dt%d", i)
		if in[i].Webhook == "" {
			in[i].Webhook = k.ding.srv.URL + "/robot/send?access_token=" + token
		}
		if in[i].Secret == "" {
			in[i].Secret = fmt.Sprintf("SECsecret%d", i)
		}
		in[i].Endpoint = k.ding.srv.URL
		k.ding.mu.Lock()
		k.ding.tokens[token] = in[i].Secret
		k.ding.mu.Unlock()
	}
	l, err := k.robots.Replace(context.Background(), robots.DingTalk, robots.Config{Robots: in})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (k *kit) wecomRobots(t *testing.T, in ...robots.Input) robots.List {
	t.Helper()
	for i := range in {
		key := fmt.Sprintf("wk%d", i)
		if in[i].Webhook == "" {
			in[i].Webhook = k.wecom.srv.URL + "/cgi-bin/webhook/send?key=" + key
			k.wecom.mu.Lock()
			k.wecom.keys[key] = true
			k.wecom.mu.Unlock()
		}
		in[i].Endpoint = k.wecom.srv.URL
	}
	l, err := k.robots.Replace(context.Background(), robots.WeCom, robots.Config{Robots: in})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (k *kit) majorComplaint(t *testing.T) tickets.Ticket {
	t.Helper()
	tk, err := k.tickets.Create(as(k.alice), k.alice, tickets.Input{CustomerID: k.customer.ID, Type: "complaint", Channel: "phone", Severity: "urgent",
		Subject: "服务态度差 [点我](http://evil.example)", Description: "客户很生气", Complaint: &tickets.Complaint{Against: "上门师傅", Place: "家里", WantedRemedy: "道歉"}})
	if err != nil {
		t.Fatal(err)
	}
	if !tk.MajorComplaint {
		t.Fatal("not a major complaint")
	}
	return tk
}

func TestMajorComplaintReachesTheSubscribedDingTalkRobotOnceSigned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		l := k.dingRobots(t, robots.Input{Name: "管理层群", Events: []string{notify.EventMajorComplaint}},
			robots.Input{Name: "超时群", Events: []string{notify.EventSLABreach}})
		if len(l.Robots) != 2 || !l.Robots[0].TokenSet || !l.Robots[0].SecretSet {
			t.Fatalf("robots %+v", l.Robots)
		}
		tk := k.majorComplaint(t)
		rows := k.robotRows(t)
		if len(rows) != 1 || rows[0].Recipient != fmt.Sprint(l.Robots[0].ID) || rows[0].Kind != "robot.major_complaint" {
			t.Fatalf("robot rows %+v", rows)
		}
		k.drain(t)
		got := k.ding.accepted()
		if len(got) != 1 || got[0].Token != "dt0" || len(k.ding.refused) != 0 {
			t.Fatalf("DingTalk got %+v, refused %v", got, k.ding.refused)
		}
		m := got[0]
		if !strings.Contains(m.Title, "重大投诉") || !strings.Contains(m.Title, tk.Number) ||
			!strings.Contains(m.Text, "https://care.example.cn/tickets/"+fmt.Sprint(tk.ID)) {
			t.Fatalf("message %+v", m)
		}
		// The customer's words carry no link of their own into the group.
		if strings.Contains(m.Text, "](http://evil") || !strings.Contains(m.Text, "［点我］") {
			t.Fatalf("the subject's markdown went through: %s", m.Text)
		}
		if rows := k.robotRows(t); rows[0].State != notify.StateSent {
			t.Fatalf("row %+v", rows[0])
		}
		// Managers still hear of it in-app and by email, as before.
		var n int
		if err := d.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM outbox WHERE user_id = $1 AND kind = 'staff.major_complaint'`,
			k.boss.UserID).Scan(&n); err != nil || n != 2 {
			t.Fatalf("manager rows %d %v", n, err)
		}
	})
}

// tellBreach tells a breach the way internal/ticketsla does: one Tell per
// recipient, each in their own language, with one source key; nobody to
// tell in person is one Tell to nobody (the team's robots still hear).
func (k *kit) tellBreach(t *testing.T, tk tickets.Ticket, team int64, to ...int64) {
	t.Helper()
	err := k.d.WithTx(context.Background(), func(ctx context.Context) error {
		ids := to
		if len(ids) == 0 {
			ids = []int64{0}
		}
		for i, id := range ids {
			var tell []int64
			if id != 0 {
				tell = []int64{id}
			}
			target := "问题解决"
			if i%2 == 1 {
				target = "Resolution"
			}
			if err := k.staff.Tell(ctx, tell, notify.Notice{Event: notify.EventSLABreach, Key: "sla_notice.breach",
				Params: map[string]any{"Number": tk.Number, "Subject": tk.Subject, "Target": target, "Due": "2026-12-03 10:00",
					"Zone": "Asia/Shanghai", "Owner": "", "Late": "", "TargetCode": "resolution", "OwnerName": ""},
				Link: fmt.Sprintf("/tickets/%d", tk.ID), Entity: "ticket", ID: fmt.Sprint(tk.ID), TeamID: team,
				Dedupe: fmt.Sprintf("sla:%d:resolution:0:1", tk.ID)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (k *kit) ticket(t *testing.T, subject string) tickets.Ticket {
	t.Helper()
	tk, err := k.tickets.Create(as(k.alice), k.alice, tickets.Input{CustomerID: k.customer.ID, Type: "fault", Channel: "phone", Severity: "general",
		Subject: subject, Description: "开机后黑屏"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestSLABreachReachesTheTeamsWeComRobotOnceForThreeRecipients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		l := k.wecomRobots(t,
			robots.Input{Name: "售后群", Events: []string{notify.EventSLABreach}, TeamID: &k.teamA.ID},
			robots.Input{Name: "安装群", Events: []string{notify.EventSLABreach}, TeamID: &k.teamB.ID},
			robots.Input{Name: "预警群", Events: []string{notify.EventSLAWarning}, TeamID: &k.teamA.ID})
		tk := k.ticket(t, "打印机黑屏")
		k.tellBreach(t, tk, k.teamA.ID, k.alice.UserID, k.bob.UserID, k.boss.UserID)
		// Told again (another server's sweep): nothing new.
		k.tellBreach(t, tk, k.teamA.ID, k.alice.UserID, k.bob.UserID, k.boss.UserID)
		rows := k.robotRows(t)
		if len(rows) != 1 || rows[0].Recipient != fmt.Sprint(l.Robots[0].ID) ||
			rows[0].DedupeKey != fmt.Sprintf("sla:%d:resolution:0:1:robot:%d", tk.ID, l.Robots[0].ID) {
			t.Fatalf("robot rows %+v", rows)
		}
		var staff int
		if err := d.R.QueryRowContext(context.Background(), `SELECT COUNT(DISTINCT user_id) FROM outbox WHERE kind = 'staff.sla_breach'`).Scan(&staff); err != nil || staff != 3 {
			t.Fatalf("staff told %d %v", staff, err)
		}
		k.drain(t)
		got := k.wecom.accepted()
		if len(got) != 1 || got[0].Token != "wk0" {
			t.Fatalf("WeCom got %+v", got)
		}
		// In the robot's language (zh-CN), whatever the first recipient spoke.
		if c := got[0].Text; !strings.Contains(c, "【已超时】") || !strings.Contains(c, "「问题解决」") || !strings.Contains(c, "售后组") ||
			!strings.Contains(c, "无人负责") || !strings.HasPrefix(c, "### ") {
			t.Fatalf("content %q", c)
		}
		// A ticket of the other team reaches only that team's robot.
		tk2 := k.ticket(t, "安装预约")
		k.tellBreach(t, tk2, k.teamB.ID, k.bob.UserID)
		if rows := k.robotRows(t); len(rows) != 2 || rows[1].Recipient != fmt.Sprint(l.Robots[1].ID) {
			t.Fatalf("robot rows %+v", rows)
		}
		// A breach nobody is told of in person still reaches the team.
		tk3 := k.ticket(t, "无人处理")
		k.tellBreach(t, tk3, k.teamA.ID)
		if rows := k.robotRows(t); len(rows) != 3 || rows[2].Recipient != fmt.Sprint(l.Robots[0].ID) {
			t.Fatalf("robot rows %+v", rows)
		}
	})
}

func TestRobotRateLimitIsRetriedAndABadTokenDeadLettered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		k.dingRobots(t, robots.Input{Name: "管理层群", Events: []string{notify.EventMajorComplaint}})
		k.wecomRobots(t, robots.Input{Name: "售后群", Events: []string{notify.EventMajorComplaint}},
			robots.Input{Name: "旧群", Events: []string{notify.EventMajorComplaint},
				Webhook: k.wecom.srv.URL + "/cgi-bin/webhook/send?key=revoked-key"})
		k.ding.push(130101)
		k.wecom.push(45009)
		k.majorComplaint(t)
		k.drain(t)
		rows := k.robotRows(t)
		if len(rows) != 3 || rows[0].State != notify.StateQueued || !strings.Contains(rows[0].LastError, "rate limited") ||
			rows[1].State != notify.StateQueued || !strings.Contains(rows[1].LastError, "45009") ||
			rows[2].State != notify.StateDead || !strings.Contains(rows[2].LastError, "93000") {
			t.Fatalf("after the first attempt %+v", rows)
		}
		if strings.Contains(rows[2].LastError, "revoked-key") {
			t.Fatalf("the key is in the error: %s", rows[2].LastError)
		}
		k.clock.Advance(31 * time.Second)
		k.drain(t)
		for _, r := range k.robotRows(t)[:2] {
			if r.State != notify.StateSent || r.Attempts != 2 {
				t.Fatalf("after the retry %+v", r)
			}
		}
		if got, gotW := k.ding.accepted(), k.wecom.accepted(); len(got) != 1 || len(gotW) != 1 {
			t.Fatalf("DingTalk got %d, WeCom %d", len(got), len(gotW))
		}
	})
}

func TestDingTalkRefusesAWrongSignatureOrAnOldTimestamp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		k.dingRobots(t, robots.Input{Name: "管理层群", Events: []string{notify.EventMajorComplaint}})
		// The provider's clock is two hours ahead: our timestamp is old.
		k.ding.skew = 2 * time.Hour
		k.majorComplaint(t)
		k.drain(t)
		rows := k.robotRows(t)
		if len(rows) != 1 || rows[0].State != notify.StateDead || !strings.Contains(rows[0].LastError, "310000") {
			t.Fatalf("old timestamp %+v", rows)
		}
		// A secret the provider does not know: refused, dead at once.
		k.ding.skew = 0
		k.ding.mu.Lock()
		k.ding.tokens["dt0"] = "SECother"
		k.ding.mu.Unlock()
		k.majorComplaint(t)
		k.drain(t)
		rows = k.robotRows(t)
		if len(rows) != 2 || rows[1].State != notify.StateDead || len(k.ding.refused) != 2 || k.ding.refused[1] != "sign not match" {
			t.Fatalf("wrong secret %+v %v", rows, k.ding.refused)
		}
	})
}

func TestUnassignedBacklogAlertsOncePerHour(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		ctx := context.Background()
		l := k.wecomRobots(t,
			robots.Input{Name: "售后群", Events: []string{notify.EventUnassignedBacklog}, TeamID: &k.teamA.ID, BacklogThreshold: 2},
			robots.Input{Name: "安装群", Events: []string{notify.EventUnassignedBacklog}, TeamID: &k.teamB.ID, BacklogThreshold: 2},
			robots.Input{Name: "总群", Events: []string{notify.EventUnassignedBacklog}})
		for i := range 3 {
			tk := k.ticket(t, fmt.Sprintf("工单 %d", i))
			if _, err := k.tickets.Assign(as(k.alice), k.alice, tk.ID, tickets.AssignInput{TeamID: &k.teamA.ID, Reason: "转售后"}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := k.robots.CheckBacklog(ctx)
		if err != nil || n != 1 {
			t.Fatalf("first check: %d %v", n, err)
		}
		for _, step := range []time.Duration{10 * time.Minute, 40 * time.Minute} {
			k.clock.Advance(step)
			if n, err := k.robots.CheckBacklog(ctx); err != nil || n != 0 {
				t.Fatalf("within the hour: %d %v", n, err)
			}
		}
		k.clock.Advance(10 * time.Minute) // an hour since the first
		if n, err := k.robots.CheckBacklog(ctx); err != nil || n != 1 {
			t.Fatalf("an hour later: %d %v", n, err)
		}
		k.drain(t)
		got := k.wecom.accepted()
		if len(got) != 2 || got[0].Token != "wk0" || !strings.Contains(got[0].Text, "售后组有 3 张") {
			t.Fatalf("WeCom got %+v", got)
		}
		rows := k.robotRows(t)
		for _, r := range rows {
			if r.Recipient != fmt.Sprint(l.Robots[0].ID) || !strings.HasPrefix(r.DedupeKey, fmt.Sprintf("unassigned_backlog:%d:", k.teamA.ID)) {
				t.Fatalf("row %+v", r)
			}
		}
		// Assigned, the backlog is gone: nothing more.
		k.clock.Advance(2 * time.Hour)
		var ids []int64
		rs, _ := d.R.QueryContext(ctx, `SELECT id FROM tickets WHERE owner_id IS NULL`)
		for rs.Next() {
			var id int64
			_ = rs.Scan(&id)
			ids = append(ids, id)
		}
		rs.Close()
		for _, id := range ids {
			if _, err := k.tickets.Assign(as(k.alice), k.alice, id, tickets.AssignInput{OwnerID: &k.alice.UserID, Reason: "我来"}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := k.robots.CheckBacklog(ctx); err != nil || n != 0 {
			t.Fatalf("after assigning: %d %v", n, err)
		}
	})
}

func TestRobotConfigRefusesBadInputAndSealsTheToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		ctx := context.Background()
		// The server's own store: no private targets.
		strict := robots.New(robots.Deps{DB: d, Clock: k.clock, Sealer: k.sealer, Catalog: nil, Identity: k.ids, Tickets: k.tickets, Outbox: k.outbox}, robots.Options{})
		bad := []robots.Input{
			{Name: "a", Webhook: "https://oapi.dingtalk.com.evil.cn/robot/send?access_token=x", Secret: "SECx", Events: []string{"major_complaint"}},
			{Name: "b", Webhook: "https://oapi.dingtalk.com/robot/send?access_token=x", Events: []string{"lunch"}},
			{Name: "c", Webhook: "https://oapi.dingtalk.com/robot/send?access_token=x", Secret: "SECx", Endpoint: "http://127.0.0.1:8080"},
			{Name: "d", Webhook: "http://169.254.169.254/robot/send?access_token=x", Secret: "SECx", Endpoint: "http://169.254.169.254"},
			{Name: "", Webhook: "https://oapi.dingtalk.com/robot/send", Secret: "SECx", TeamID: ptr(int64(999999))},
			// A name that resolves to loopback is refused like the address.
			{Name: "f", Webhook: "http://localhost:8080/robot/send?access_token=x", Secret: "SECx", Endpoint: "http://localhost:8080"},
		}
		_, err := strict.Replace(ctx, robots.DingTalk, robots.Config{Robots: bad})
		var v *domain.ValidationError
		if !errors.As(err, &v) {
			t.Fatalf("bad input: %v", err)
		}
		want := map[string]string{"robots[0].webhook": "validation.robot_webhook_host", "robots[1].events": "validation.robot_event",
			"robots[1].secret": "validation.robot_secret_required", "robots[2].endpoint": "validation.robot_private",
			"robots[3].endpoint": "validation.robot_private", "robots[4].name": "validation.robot_name",
			"robots[4].webhook": "validation.robot_webhook_token", "robots[4].team_id": "validation.robot_team",
			"robots[5].endpoint": "validation.robot_private"}
		got := map[string]string{}
		for _, f := range v.Fields {
			got[f.Field] = f.Key
		}
		for f, key := range want {
			if got[f] != key {
				t.Errorf("%s: %q, want %q (all: %v)", f, got[f], key, got)
			}
		}
		if l, _ := strict.List(ctx, robots.DingTalk); len(l.Robots) != 0 {
			t.Fatalf("bad input stored %+v", l.Robots)
		}
		// Good input on the provider's own host: the token is sealed.
		l, err := strict.Replace(ctx, robots.WeCom, robots.Config{Robots: []robots.Input{{Name: "售后群",
			Webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", Events: []string{"sla_breach"}}}})
		if err != nil || len(l.Robots) != 1 || !l.Robots[0].TokenSet || l.Robots[0].SecretSet || l.Robots[0].Language != "zh-CN" ||
			l.Robots[0].BacklogThreshold != robots.DefaultBacklog {
			t.Fatalf("good input: %+v %v", l, err)
		}
		var stored string
		if err := d.R.QueryRowContext(ctx, `SELECT token FROM robots WHERE id = $1`, l.Robots[0].ID).Scan(&stored); err != nil ||
			!strings.HasPrefix(stored, "v1:") || strings.Contains(stored, "693a91f6") {
			t.Fatalf("token at rest %q %v", stored, err)
		}
		// A change without the webhook keeps the token.
		l, err = strict.Replace(ctx, robots.WeCom, robots.Config{Robots: []robots.Input{{ID: l.Robots[0].ID, Name: "售后一群",
			Events: []string{"sla_breach", "sla_warning"}, Active: ptr(false)}}})
		if err != nil || !l.Robots[0].TokenSet || l.Robots[0].Active || len(l.Robots[0].Events) != 2 {
			t.Fatalf("change: %+v %v", l, err)
		}
		var again string
		_ = d.R.QueryRowContext(ctx, `SELECT token FROM robots WHERE id = $1`, l.Robots[0].ID).Scan(&again)
		if again != stored {
			t.Fatal("the token changed without a new webhook")
		}
	})
}

// TestRobotDialRefusesPrivateAddresses: a robot whose endpoint became
// private (stored before, or a name that resolves there now) is refused at
// the dial, and dead-lettered.
func TestRobotDialRefusesPrivateAddresses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		k.wecomRobots(t, robots.Input{Name: "售后群", Events: []string{notify.EventMajorComplaint}})
		strict := robots.New(robots.Deps{DB: d, Clock: k.clock, Sealer: k.sealer, Identity: k.ids, Tickets: k.tickets, Outbox: k.outbox}, robots.Options{})
		k.outbox.Register(strict.Channel())
		k.majorComplaint(t)
		k.drain(t)
		rows := k.robotRows(t)
		if len(rows) != 1 || rows[0].State != notify.StateDead || !strings.Contains(rows[0].LastError, "loopback, private or link-local") {
			t.Fatalf("rows %+v", rows)
		}
		if got := k.wecom.accepted(); len(got) != 0 {
			t.Fatalf("the fake was reached: %+v", got)
		}
	})
}
