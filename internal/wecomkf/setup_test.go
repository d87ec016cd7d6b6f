package wecomkf_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/wecomkf"
	"github.com/careloop/careloop/internal/wecomkf/wecomkftest"
)

const (
	account = "huaqiang"
	corpID  = "ww0a1b2c3d4e5f6789"
	secret  = "kf-secret-0123456789"
	token   = "kfToken2026"
	// A 43-character EncodingAESKey, as WeCom generates them.
	aesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	kfID   = "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q"
	userA  = "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw"
	userB  = "wmAJ2GCAAAZZ8YYYY-NI-q0_ZM9xBBBB"
)

// kf is a Careloop with one 微信客服 account on a fake WeCom.
type kf struct {
	k     *testkit.Kit
	fake  *wecomkftest.Platform
	cb    *wecomkftest.Callback
	admin string
}

func setUp(t *testing.T, k *testkit.Kit) *kf {
	t.Helper()
	fake := wecomkftest.New(corpID, secret, k.Clock.Now)
	t.Cleanup(fake.Close)
	k.App.WeComKF.AllowPrivate(true)
	_, admin := k.User("admin@example.com", "admin")
	r := k.Do(testkit.Request{Method: "PUT", Path: "/api/v1/channels/wecom", Token: admin, Body: map[string]any{"robots": []any{},
		"kf": map[string]any{"version": 0, "accounts": []map[string]any{{"name": account, "corp_id": corpID, "open_kfids": []string{kfID},
			"api_base": fake.URL, "token": token, "encoding_aes_key": aesKey, "secret": secret}}}}})
	if r.Status != http.StatusOK {
		t.Fatalf("configure: %d %s", r.Status, r.Body)
	}
	return &kf{k: k, fake: fake, admin: admin,
		cb: &wecomkftest.Callback{URL: k.URL + "/wecom/kf/callback/" + account, Token: token, AESKey: aesKey, CorpID: corpID, Now: k.Clock.Now}}
}

// notify posts kf_msg_or_event and wants success.
func (p *kf) notify(t *testing.T, msgToken string) {
	t.Helper()
	resp, err := p.cb.Notify(kfID, msgToken)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "success" {
		t.Fatalf("callback: %d %s", resp.StatusCode, body)
	}
}

// pull runs what the job runs.
func (p *kf) pull(t *testing.T) wecomkf.Pulled {
	t.Helper()
	got, err := p.k.App.WeComKF.Pull(context.Background(), account, kfID)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	return got
}

func count(t *testing.T, k *testkit.Kit, query string, args ...any) int {
	t.Helper()
	var n int
	if err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// ticketOf is the ticket and customer the message msgID went to.
func ticketOf(t *testing.T, k *testkit.Kit, msgID string) (ticket int64, channel, customer string) {
	t.Helper()
	err := k.App.DB.RQ(context.Background()).QueryRowContext(context.Background(), `SELECT t.id, t.channel, c.name FROM wecomkf_inbound w
		JOIN tickets t ON t.id = w.ticket_id JOIN customers c ON c.id = t.customer_id WHERE w.account = $1 AND w.msg_id = $2`,
		account, msgID).Scan(&ticket, &channel, &customer)
	if err != nil {
		t.Fatalf("ticket of message %s: %v", msgID, err)
	}
	return ticket, channel, customer
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// reply has the admin answer the ticket; it returns the message id.
func (p *kf) reply(t *testing.T, ticket int64, body string) int64 {
	t.Helper()
	r := p.k.Do(testkit.Request{Method: "POST", Path: "/api/v1/tickets/" + itoa(ticket) + "/messages", Token: p.admin,
		Body: map[string]any{"body": body}})
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("reply: %d %s", r.Status, r.Body)
	}
	var m struct {
		ID int64 `json:"id"`
	}
	r.JSON(t, &m)
	return m.ID
}

func run(t *testing.T, k *testkit.Kit) {
	t.Helper()
	if _, err := k.App.Outbox.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// states are the 微信客服 outbox rows' states and errors, oldest first.
func states(t *testing.T, k *testkit.Kit) (out []string, why []string) {
	t.Helper()
	rows, err := k.App.DB.RQ(context.Background()).QueryContext(context.Background(), `SELECT state, COALESCE(last_error, '') FROM outbox
		WHERE channel = $1 ORDER BY id`, wecomkf.ChannelName)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, w string
		if err := rows.Scan(&s, &w); err != nil {
			t.Fatal(err)
		}
		out, why = append(out, s), append(why, w)
	}
	return out, why
}

var _ = notify.StateSent
