package robots_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/tickets"
)

func (k *kit) setApp(t *testing.T, staff ...robots.StaffID) {
	t.Helper()
	_, err := k.robots.ReplaceWeCom(context.Background(), robots.WeComConfig{
		App:   &robots.AppInput{CorpID: "ww8f1e2d3c4b5a6978", AgentID: 1000002, Secret: "app-secret-9x", Endpoint: k.app.srv.URL},
		Staff: &staff})
	if err != nil {
		t.Fatal(err)
	}
}

func (k *kit) wecomRows(t *testing.T) []notify.Message {
	t.Helper()
	rows, err := k.d.R.QueryContext(context.Background(), `SELECT user_id, recipient, state, last_error FROM outbox WHERE channel = 'wecom' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		var m notify.Message
		if err := rows.Scan(&m.UserID, &m.Recipient, &m.State, &m.LastError); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (k *kit) assign(t *testing.T, by, to int64) tickets.Ticket {
	t.Helper()
	p, _ := k.ids.PrincipalFor(context.Background(), by)
	tk := k.ticket(t, "打印机黑屏")
	if _, err := k.tickets.Assign(as(p), p, tk.ID, tickets.AssignInput{OwnerID: &to, Reason: "换人处理"}); err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestWeComAppMessageReachesOnlyStaffWithAWeComIDWhoChoseIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		ctx := context.Background()
		k.setApp(t, robots.StaffID{UserID: k.bob.UserID, WeComUserID: "bob.zhang"})
		inbox := k.staff.Inbox
		for _, u := range []int64{k.alice.UserID, k.bob.UserID} {
			if _, err := inbox.SetPrefs(ctx, u, notify.Prefs{"assigned": {"wecom": true}}); err != nil {
				t.Fatal(err)
			}
		}
		tk := k.assign(t, k.alice.UserID, k.bob.UserID)
		k.assign(t, k.bob.UserID, k.alice.UserID) // alice has no WeCom id: nothing
		rows := k.wecomRows(t)
		if len(rows) != 1 || rows[0].UserID != k.bob.UserID || rows[0].Recipient != "bob.zhang" {
			t.Fatalf("wecom rows %+v", rows)
		}
		k.drain(t)
		msgs, fetched := k.app.sent()
		if len(msgs) != 1 || fetched != 1 || msgs[0]["touser"] != "bob.zhang" {
			t.Fatalf("sent %v, tokens fetched %d", msgs, fetched)
		}
		text := msgs[0]["text"].(map[string]any)["content"].(string)
		if !strings.Contains(text, tk.Number) || !strings.Contains(text, "https://care.example.cn/tickets/") || !strings.Contains(text, "was assigned to you") {
			t.Fatalf("content %q", text)
		}
		// The token is kept: a second message fetches none.
		k.assign(t, k.alice.UserID, k.bob.UserID)
		k.drain(t)
		if msgs, fetched := k.app.sent(); len(msgs) != 2 || fetched != 1 {
			t.Fatalf("second: %d sent, %d fetched", len(msgs), fetched)
		}
		// WeCom dropped the token early: fetched again, delivered.
		k.app.expireTokens()
		k.assign(t, k.alice.UserID, k.bob.UserID)
		k.drain(t)
		if msgs, fetched := k.app.sent(); len(msgs) != 3 || fetched != 2 {
			t.Fatalf("after expiry: %d sent, %d fetched", len(msgs), fetched)
		}
		// Rate limited: retried later.
		k.app.push(45009)
		k.assign(t, k.alice.UserID, k.bob.UserID)
		k.drain(t)
		if rows := k.wecomRows(t); rows[len(rows)-1].State != notify.StateQueued {
			t.Fatalf("rate limited %+v", rows[len(rows)-1])
		}
		// bob's id is wrong now (he left): WeCom names him invalid, dead.
		k.setApp(t, robots.StaffID{UserID: k.bob.UserID, WeComUserID: "bob.left"})
		k.assign(t, k.alice.UserID, k.bob.UserID)
		k.drain(t)
		rows = k.wecomRows(t)
		if last := rows[len(rows)-1]; last.State != notify.StateDead || !strings.Contains(last.LastError, "invaliduser") {
			t.Fatalf("invalid user %+v", last)
		}
		// The application switched off: nobody is queued any more.
		off := false
		if _, err := k.robots.ReplaceWeCom(ctx, robots.WeComConfig{App: &robots.AppInput{CorpID: "ww8f1e2d3c4b5a6978", AgentID: 1000002,
			Endpoint: k.app.srv.URL, Active: &off}}); err != nil {
			t.Fatal(err)
		}
		n := len(k.wecomRows(t))
		k.assign(t, k.alice.UserID, k.bob.UserID)
		if len(k.wecomRows(t)) != n {
			t.Fatal("queued with the application off")
		}
	})
}

func TestWeComAppConfigRefusesBadInputAndSealsTheSecret(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		k := newKit(t, d)
		ctx := context.Background()
		strict := robots.New(robots.Deps{DB: d, Clock: k.clock, Sealer: k.sealer, Identity: k.ids, Tickets: k.tickets, Outbox: k.outbox}, robots.Options{})
		_, err := strict.ReplaceWeCom(ctx, robots.WeComConfig{
			App:   &robots.AppInput{CorpID: "ww 1", AgentID: 0, Endpoint: "http://10.0.0.8"},
			Staff: &[]robots.StaffID{{UserID: 999999, WeComUserID: "x"}, {UserID: k.bob.UserID, WeComUserID: "bob zhang"}}})
		var v *domain.ValidationError
		if !errors.As(err, &v) {
			t.Fatalf("bad input: %v", err)
		}
		got := map[string]string{}
		for _, f := range v.Fields {
			got[f.Field] = f.Key
		}
		for f, key := range map[string]string{"application.corp_id": "validation.wecom_corp_id", "application.agent_id": "validation.wecom_agent_id",
			"application.endpoint": "validation.robot_private", "application.secret": "validation.wecom_secret_required",
			"staff[0].user_id": "validation.wecom_user", "staff[1].wecom_userid": "validation.wecom_userid"} {
			if got[f] != key {
				t.Errorf("%s: %q, want %q (all %v)", f, got[f], key, got)
			}
		}
		l, err := strict.ReplaceWeCom(ctx, robots.WeComConfig{App: &robots.AppInput{CorpID: "ww8f1e2d3c4b5a6978", AgentID: 1000002, Secret: "app-secret-9x"},
			Staff: &[]robots.StaffID{{UserID: k.bob.UserID, WeComUserID: "bob.zhang"}}})
		if err != nil || l.App == nil || !l.App.SecretSet || !l.App.Active || len(l.Staff) != 1 {
			t.Fatalf("good input: %+v %v", l, err)
		}
		var stored string
		if err := d.R.QueryRowContext(ctx, `SELECT secret FROM wecom_app`).Scan(&stored); err != nil || !strings.HasPrefix(stored, "v1:") ||
			strings.Contains(stored, "app-secret") {
			t.Fatalf("secret at rest %q %v", stored, err)
		}
		// Another corp id without the secret: refused (the secret was for the other).
		if _, err := strict.ReplaceWeCom(ctx, robots.WeComConfig{App: &robots.AppInput{CorpID: "wwother", AgentID: 1000002}}); !errors.As(err, &v) ||
			v.Fields[0].Field != "application.secret" {
			t.Fatalf("corp change without secret: %v", err)
		}
	})
}
