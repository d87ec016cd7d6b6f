package robots_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
)

const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

// kit is a tickets store with the staff notices and the robots listening,
// an outbox with the inapp, a null email and the robot channel, and the
// two providers' fakes on loopback.
type kit struct {
	d        *db.DB
	clock    *clock.Fake
	ids      *identity.Store
	tickets  *tickets.Store
	outbox   *notify.Outbox
	staff    *notify.Staff
	robots   *robots.Store
	sealer   *email.Sealer
	teamA    identity.Team
	teamB    identity.Team
	alice    *identity.Principal // agent, zh-CN
	bob      *identity.Principal // agent, en
	boss     *identity.Principal // manager, en
	customer customers.Customer
	ding     *fakeDingTalk
	wecom    *fakeWeCom
	app      *fakeWeComApp
}

type nullEmail struct{}

func (nullEmail) Name() string { return notify.ChannelEmail }
func (nullEmail) Deliver(context.Context, *notify.Message) (string, error) {
	return "mail", nil
}

func newKit(t *testing.T, d *db.DB) *kit {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC))
	a := audit.New(d, clk)
	tl := timeline.New(d, clk)
	k := &kit{d: d, clock: clk}
	k.ids = identity.NewStore(d, clk, a, identity.Options{Hash: identity.HashParams{Time: 1, Memory: 1024, Threads: 1}})
	if err := k.ids.EnsureDefaultRoles(ctx); err != nil {
		t.Fatal(err)
	}
	k.tickets = tickets.NewStore(d, clk, a, tl)
	if err := k.tickets.EnsureDefaultCategories(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	if k.teamA, err = k.ids.CreateTeam(ctx, "售后组"); err != nil {
		t.Fatal(err)
	}
	if k.teamB, err = k.ids.CreateTeam(ctx, "安装组"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name, role, locale string
		dst                **identity.Principal
	}{{"alice", "agent", "zh-CN", &k.alice}, {"bob", "agent", "en", &k.bob}, {"boss", "manager", "en", &k.boss}} {
		created, err := k.ids.CreateUser(ctx, identity.NewUser{Email: u.name + "@example.com", Name: u.name, Password: "long enough password",
			Roles: []string{u.role}, TeamIDs: []int64{k.teamA.ID}, Locale: u.locale})
		if err != nil {
			t.Fatal(err)
		}
		*u.dst, _ = k.ids.PrincipalFor(ctx, created.ID)
	}
	cs := customers.NewStore(d, clk, a, tl)
	name := "李小红"
	if k.customer, err = cs.Create(ctx, customers.Input{Name: &name, Phones: &[]string{"13800138000"}}); err != nil {
		t.Fatal(err)
	}
	if k.sealer, err = email.NewSealer(testKey); err != nil {
		t.Fatal(err)
	}
	cat := i18n.MustLoad()
	k.outbox = notify.New(d, clk, nil, nil, notify.Options{Name: "test"})
	inbox := notify.NewInbox(d, clk, a)
	k.outbox.Register(inbox.Channel())
	k.outbox.Register(nullEmail{})
	k.robots = robots.New(robots.Deps{DB: d, Clock: clk, Audit: a, Sealer: k.sealer, Catalog: cat, Identity: k.ids, Tickets: k.tickets,
		Outbox: k.outbox}, robots.Options{AllowPrivate: true, BaseURL: "https://care.example.cn"})
	k.outbox.Register(k.robots.Channel())
	k.outbox.Register(k.robots.AppChannel())
	k.staff = &notify.Staff{DB: d, Clock: clk, Outbox: k.outbox, Inbox: inbox, Identity: k.ids, Tickets: k.tickets, Catalog: cat,
		Robots: k.robots, WeCom: k.robots, BaseURL: "https://care.example.cn"}
	k.tickets.Listen(k.staff.Listen)
	k.ding = newFakeDingTalk(t, clk)
	k.wecom = newFakeWeCom(t)
	k.app = newFakeWeComApp(t)
	return k
}

func as(p *identity.Principal) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{UserID: p.UserID, Label: p.Email})
}

// drain delivers everything due now.
func (k *kit) drain(t *testing.T) {
	t.Helper()
	for {
		n, err := k.outbox.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// robotRows returns the robot channel's outbox rows: state per row, oldest
// first.
func (k *kit) robotRows(t *testing.T) []notify.Message {
	t.Helper()
	rows, err := k.d.R.QueryContext(context.Background(), `SELECT id, kind, recipient, state, attempts, last_error, COALESCE(dedupe_key, '')
		FROM outbox WHERE channel = 'robot' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []notify.Message
	for rows.Next() {
		var m notify.Message
		if err := rows.Scan(&m.ID, &m.Kind, &m.Recipient, &m.State, &m.Attempts, &m.LastError, &m.DedupeKey); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// received is one message a fake provider accepted.
type received struct {
	Token string // access_token or key
	Title string // DingTalk's title
	Text  string // DingTalk's text, WeCom's content
}

// answers is a queue of errcodes a fake gives before it answers 0.
type answers struct {
	mu    sync.Mutex
	queue []int
	got   []received
}

func (a *answers) next() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) == 0 {
		return 0
	}
	c := a.queue[0]
	a.queue = a.queue[1:]
	return c
}

func (a *answers) push(codes ...int) {
	a.mu.Lock()
	a.queue = append(a.queue, codes...)
	a.mu.Unlock()
}

func (a *answers) accepted() []received {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]received(nil), a.got...)
}

func reply(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg})
}

// fakeDingTalk checks a request as DingTalk's custom robot does: the
// token, a timestamp within an hour of its clock, the signature recomputed
// from the secret, a markdown body.
type fakeDingTalk struct {
	answers
	srv     *httptest.Server
	clock   *clock.Fake
	tokens  map[string]string // token → secret
	skew    time.Duration     // the provider's clock ahead of ours
	refused []string
}

func newFakeDingTalk(t *testing.T, clk *clock.Fake) *fakeDingTalk {
	f := &fakeDingTalk{clock: clk, tokens: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeDingTalk) refuse(w http.ResponseWriter, code int, why string) {
	f.mu.Lock()
	f.refused = append(f.refused, why)
	f.mu.Unlock()
	reply(w, code, why)
}

func (f *fakeDingTalk) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method != http.MethodPost || r.URL.Path != "/robot/send" {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	secret, ok := f.tokens[q.Get("access_token")]
	skew := f.skew
	f.mu.Unlock()
	if !ok {
		f.refuse(w, 300001, "token is not exist")
		return
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	now := f.clock.Now().Add(skew)
	if err != nil || now.Sub(time.UnixMilli(ts)).Abs() > time.Hour {
		f.refuse(w, 310000, "sign not match, more: [timestamp expired]")
		return
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
	if q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		f.refuse(w, 310000, "sign not match")
		return
	}
	var body struct {
		MsgType  string `json:"msgtype"`
		Markdown struct{ Title, Text string }
	}
	raw, _ := io.ReadAll(r.Body)
	if json.Unmarshal(raw, &body) != nil || body.MsgType != "markdown" || body.Markdown.Title == "" || body.Markdown.Text == "" {
		f.refuse(w, 40035, "缺少参数 json")
		return
	}
	if code := f.next(); code != 0 {
		reply(w, code, "send too fast, exceed 20 times per minute")
		return
	}
	f.mu.Lock()
	f.got = append(f.got, received{Token: q.Get("access_token"), Title: body.Markdown.Title, Text: body.Markdown.Text})
	f.mu.Unlock()
	reply(w, 0, "ok")
}

// fakeWeCom checks a request as WeCom's group robot does: the key and a
// markdown body.
type fakeWeCom struct {
	answers
	srv  *httptest.Server
	keys map[string]bool
}

func newFakeWeCom(t *testing.T) *fakeWeCom {
	f := &fakeWeCom{keys: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/cgi-bin/webhook/send" {
			http.NotFound(w, r)
			return
		}
		key := r.URL.Query().Get("key")
		f.mu.Lock()
		ok := f.keys[key]
		f.mu.Unlock()
		if !ok {
			reply(w, 93000, "invalid webhook url, hint: [1733194800_e2b4]")
			return
		}
		var body struct {
			MsgType  string `json:"msgtype"`
			Markdown struct{ Content string }
		}
		raw, _ := io.ReadAll(r.Body)
		if json.Unmarshal(raw, &body) != nil || body.MsgType != "markdown" || body.Markdown.Content == "" {
			reply(w, 40008, "invalid message type")
			return
		}
		if code := f.next(); code != 0 {
			reply(w, code, "api freq out of limit")
			return
		}
		f.mu.Lock()
		f.got = append(f.got, received{Token: key, Text: body.Markdown.Content})
		f.mu.Unlock()
		reply(w, 0, "ok")
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func ptr[T any](v T) *T { return &v }

// fakeWeComApp is WeCom's server for an application: gettoken checks the
// corp id and secret and hands out a token; message/send checks the token
// and the agent, and knows its members.
type fakeWeComApp struct {
	answers
	srv      *httptest.Server
	tokens   map[string]bool
	fetched  int
	members  map[string]bool
	messages []map[string]any
}

func newFakeWeComApp(t *testing.T) *fakeWeComApp {
	f := &fakeWeComApp{tokens: map[string]bool{}, members: map[string]bool{"bob.zhang": true}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f.mu.Lock()
		defer f.mu.Unlock()
		switch r.URL.Path {
		case "/cgi-bin/gettoken":
			if q.Get("corpid") != "ww8f1e2d3c4b5a6978" || q.Get("corpsecret") != "app-secret-9x" {
				reply(w, 40001, "invalid credential")
				return
			}
			f.fetched++
			token := "tok" + strconv.Itoa(f.fetched)
			f.tokens[token] = true
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})
		case "/cgi-bin/message/send":
			if !f.tokens[q.Get("access_token")] {
				reply(w, 42001, "access_token expired")
				return
			}
			var body map[string]any
			raw, _ := io.ReadAll(r.Body)
			if json.Unmarshal(raw, &body) != nil || body["msgtype"] != "text" || body["agentid"] != float64(1000002) {
				reply(w, 40008, "invalid message type")
				return
			}
			if !f.members[fmt.Sprint(body["touser"])] {
				w.Header().Set("Content-Type", "application/json")
				_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": body["touser"]})
				return
			}
			if len(f.queue) > 0 {
				code := f.queue[0]
				f.queue = f.queue[1:]
				reply(w, code, "api freq out of limit")
				return
			}
			f.messages = append(f.messages, body)
			reply(w, 0, "ok")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeWeComApp) expireTokens() {
	f.mu.Lock()
	f.tokens = map[string]bool{}
	f.mu.Unlock()
}

func (f *fakeWeComApp) sent() ([]map[string]any, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.messages...), f.fetched
}
