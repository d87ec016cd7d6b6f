// Package wecomkftest is a fake WeCom API on loopback for the 微信客服
// tests: it speaks the platform's JSON (errcode/errmsg), issues access
// tokens for one corp id and secret and checks them on every call, holds
// the WeChat users' messages that kf/sync_msg pages through (next_cursor,
// has_more), records kf/send_msg, can be told to fail, and posts signed,
// encrypted callbacks as WeCom does.
package wecomkftest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Failure is what the next send_msg calls answer instead.
type Failure int

const (
	OK          Failure = iota
	HTTP500             // status 500, no JSON
	Busy                // errcode -1
	Refused             // errcode 95018: the session does not take messages
	BadMsgToken         // errcode 95007: the user's allowance (msg token) is gone
)

// Sent is one message the platform accepted.
type Sent struct {
	Token string         // the access token it came with
	Body  map[string]any // the JSON posted
}

// Sync is one kf/sync_msg call as received.
type Sync struct {
	Cursor, Token, OpenKfID string
	Limit                   int
}

// Msg is a message kf/sync_msg hands out, as the platform's JSON.
type Msg map[string]any

// Platform is the fake.
type Platform struct {
	Server *httptest.Server
	URL    string
	CorpID string
	Secret string
	// Now is the fake's clock (the test's), for token expiry and
	// send_time.
	Now func() time.Time
	// TTL is how long a token lives (7200 s, as the platform's).
	TTL time.Duration
	// Page caps the messages of one sync_msg answer below the limit asked
	// (0: the limit), so tests see has_more.
	Page int

	mu         sync.Mutex
	tokens     map[string]time.Time // token → expiry
	tokenCalls int
	msgs       []Msg
	syncs      []Sync
	sent       []Sent
	fail       []Failure
	seq        int
}

// New starts a fake platform for corpID and secret.
func New(corpID, secret string, now func() time.Time) *Platform {
	p := &Platform{CorpID: corpID, Secret: secret, Now: now, TTL: 7200 * time.Second, tokens: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/gettoken", p.token)
	mux.HandleFunc("POST /cgi-bin/kf/sync_msg", p.sync)
	mux.HandleFunc("POST /cgi-bin/kf/send_msg", p.send)
	p.Server = httptest.NewServer(mux)
	p.URL = p.Server.URL
	return p
}

// Close stops the server.
func (p *Platform) Close() { p.Server.Close() }

// Fail makes the next len(f) send_msg calls answer f in turn.
func (p *Platform) Fail(f ...Failure) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = append(p.fail, f...)
}

// Sent returns the messages accepted so far.
func (p *Platform) Sent() []Sent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Sent(nil), p.sent...)
}

// Syncs returns the sync_msg calls so far.
func (p *Platform) Syncs() []Sync {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Sync(nil), p.syncs...)
}

// TokenCalls is how many tokens were issued.
func (p *Platform) TokenCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokenCalls
}

// Revoke invalidates every issued token (as when the secret was reset).
func (p *Platform) Revoke() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens = map[string]time.Time{}
}

// Customer adds a text a WeChat user sent to the 客服账号 and returns its
// msgid.
func (p *Platform) Customer(openKfID, externalUserID, text string) string {
	return p.Add(Msg{"open_kfid": openKfID, "external_userid": externalUserID, "origin": 3, "msgtype": "text",
		"text": map[string]any{"content": text}})
}

// Add adds any message (other origins and types); msgid and send_time are
// filled in when absent.
func (p *Platform) Add(m Msg) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	if _, ok := m["msgid"]; !ok {
		m["msgid"] = fmt.Sprintf("from_msgid_%019d", 4622416642169452483+int64(p.seq))
	}
	if _, ok := m["send_time"]; !ok {
		m["send_time"] = p.Now().Unix()
	}
	p.msgs = append(p.msgs, m)
	return m["msgid"].(string)
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	answer(w, map[string]any{"errcode": code, "errmsg": msg})
}

func (p *Platform) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("corpid") != p.CorpID {
		apiError(w, 40013, "invalid corpid")
		return
	}
	if q.Get("corpsecret") != p.Secret {
		apiError(w, 40001, "invalid credential")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "ACCESS_" + hex.EncodeToString(b)
	p.mu.Lock()
	p.tokens[tok] = p.Now().Add(p.TTL)
	p.tokenCalls++
	p.mu.Unlock()
	answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": int(p.TTL / time.Second)})
}

// checkToken answers 40014 or 42001 as the platform does, else true.
func (p *Platform) checkToken(w http.ResponseWriter, r *http.Request) (string, bool) {
	tok := r.URL.Query().Get("access_token")
	p.mu.Lock()
	exp, ok := p.tokens[tok]
	p.mu.Unlock()
	switch {
	case !ok:
		apiError(w, 40014, "invalid access_token")
		return "", false
	case !p.Now().Before(exp):
		apiError(w, 42001, "access_token expired")
		return "", false
	}
	return tok, true
}

func (p *Platform) sync(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.checkToken(w, r); !ok {
		return
	}
	var in struct {
		Cursor   string `json:"cursor"`
		Token    string `json:"token"`
		Limit    int    `json:"limit"`
		OpenKfID string `json:"open_kfid"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil {
		apiError(w, 47001, "data format error")
		return
	}
	if in.Limit < 1 || in.Limit > 1000 {
		apiError(w, 44004, "invalid limit")
		return
	}
	list, next, more, ok := p.page(in.Cursor, in.OpenKfID, in.Limit)
	p.mu.Lock()
	p.syncs[len(p.syncs)-1].Token = in.Token
	p.mu.Unlock()
	if !ok {
		apiError(w, 95000, "invalid cursor")
		return
	}
	answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "next_cursor": next, "has_more": more, "msg_list": list})
}

// page is the messages from cursor on (an opaque position; here "c" and
// the index of the next message).
func (p *Platform) page(cursor, openKfID string, limit int) ([]Msg, string, int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.syncs = append(p.syncs, Sync{Cursor: cursor, Token: "", OpenKfID: openKfID, Limit: limit})
	from := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor[1:])
		if err != nil || cursor[0] != 'c' || n > len(p.msgs) {
			return nil, "", 0, false
		}
		from = n
	}
	size := limit
	if p.Page > 0 && p.Page < size {
		size = p.Page
	}
	list := []Msg{}
	i := from
	for ; i < len(p.msgs) && len(list) < size; i++ {
		if openKfID == "" || p.msgs[i]["open_kfid"] == openKfID {
			list = append(list, p.msgs[i])
		}
	}
	more := 0
	if i < len(p.msgs) {
		more = 1
	}
	return list, "c" + strconv.Itoa(i), more, true
}

func (p *Platform) send(w http.ResponseWriter, r *http.Request) {
	tok, ok := p.checkToken(w, r)
	if !ok {
		return
	}
	var body map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
		apiError(w, 47001, "data format error")
		return
	}
	p.mu.Lock()
	var f Failure
	if len(p.fail) > 0 {
		f, p.fail = p.fail[0], p.fail[1:]
	}
	p.mu.Unlock()
	switch f {
	case HTTP500:
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case Busy:
		apiError(w, -1, "system busy")
		return
	case Refused:
		apiError(w, 95018, "send msg not allowed in this session state")
		return
	case BadMsgToken:
		apiError(w, 95007, "invalid msg token")
		return
	}
	text, _ := body["text"].(map[string]any)
	content, _ := text["content"].(string)
	switch {
	case body["touser"] == nil || body["touser"] == "":
		apiError(w, 40003, "invalid external_userid")
		return
	case body["open_kfid"] == nil || body["open_kfid"] == "":
		apiError(w, 95000, "invalid open_kfid")
		return
	case body["msgtype"] != "text" || content == "":
		apiError(w, 40008, "invalid message type")
		return
	case len(content) > 2048:
		apiError(w, 44004, "text content too long")
		return
	}
	p.mu.Lock()
	p.sent = append(p.sent, Sent{Token: tok, Body: body})
	id := fmt.Sprintf("MSG_%d", len(p.sent))
	p.mu.Unlock()
	answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": id})
}
