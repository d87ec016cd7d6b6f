// Package wechattest is a fake WeChat 公众平台 API on loopback for tests:
// it speaks the platform's JSON (errcode/errmsg), issues access tokens for
// one AppID and secret and checks them on every call, records the
// messages sent, serves media, and can be told to fail.
package wechattest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Failure is what the next calls to the message and media APIs answer
// instead (each call, once its token is accepted, takes the next one).
type Failure int

const (
	OK           Failure = iota
	HTTP500              // status 500, no JSON
	Hang                 // no answer until the request is cancelled
	OutOfWindow          // errcode 45015
	TooMany              // errcode 45047
	Busy                 // errcode -1
	Unsubscribed         // errcode 43004: the follower no longer follows the account
)

// Sent is one message the platform accepted.
type Sent struct {
	API   string         // custom or template
	Token string         // the access token it came with
	Body  map[string]any // the JSON posted
}

// File is a media file the platform serves.
type File struct {
	ContentType string
	Name        string
	Data        []byte
}

// Platform is the fake.
type Platform struct {
	Server *httptest.Server
	URL    string
	AppID  string
	Secret string
	// Now is the fake's clock (the test's), for token expiry.
	Now func() time.Time
	// TTL is how long a token lives (7200 s, as the platform's).
	TTL time.Duration

	mu          sync.Mutex
	tokens      map[string]time.Time // token → expiry
	tokenCalls  int
	sent        []Sent
	fail        []Failure
	media       map[string]File
	mediaCalls  int
	hangRelease chan struct{}
}

// New starts a fake platform for appID and secret.
func New(appID, secret string, now func() time.Time) *Platform {
	p := &Platform{AppID: appID, Secret: secret, Now: now, TTL: 7200 * time.Second, tokens: map[string]time.Time{},
		media: map[string]File{}, hangRelease: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cgi-bin/token", p.token)
	mux.HandleFunc("POST /cgi-bin/message/custom/send", p.send("custom"))
	mux.HandleFunc("POST /cgi-bin/message/template/send", p.send("template"))
	mux.HandleFunc("GET /cgi-bin/media/get", p.getMedia)
	p.Server = httptest.NewServer(mux)
	p.URL = p.Server.URL
	return p
}

// Close stops the server (hanging requests are let go first).
func (p *Platform) Close() {
	p.mu.Lock()
	select {
	case <-p.hangRelease:
	default:
		close(p.hangRelease)
	}
	p.mu.Unlock()
	p.Server.Close()
}

// Fail makes the next len(f) message or media calls answer f in turn.
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

// TokenCalls is how many tokens were issued.
func (p *Platform) TokenCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokenCalls
}

// MediaCalls is how many media downloads were answered with a file.
func (p *Platform) MediaCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mediaCalls
}

// Revoke invalidates every issued token (as when another server fetched a
// new one: the platform keeps only the latest).
func (p *Platform) Revoke() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens = map[string]time.Time{}
}

// AddMedia makes mediaID downloadable.
func (p *Platform) AddMedia(mediaID string, f File) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.media[mediaID] = f
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func apiError(w http.ResponseWriter, code int, msg string) {
	answer(w, map[string]any{"errcode": code, "errmsg": msg})
}

func (p *Platform) token(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("grant_type") != "client_credential":
		apiError(w, 40002, "invalid grant_type")
	case q.Get("appid") != p.AppID:
		apiError(w, 40013, "invalid appid")
	case q.Get("secret") != p.Secret:
		apiError(w, 40125, "invalid appsecret")
	default:
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		tok := "ACCESS_" + hex.EncodeToString(b)
		p.mu.Lock()
		p.tokens[tok] = p.Now().Add(p.TTL)
		p.tokenCalls++
		p.mu.Unlock()
		answer(w, map[string]any{"access_token": tok, "expires_in": int(p.TTL.Seconds())})
	}
}

// checkToken answers the platform's refusal of a token, or "" when good.
func (p *Platform) checkToken(w http.ResponseWriter, tok string) bool {
	p.mu.Lock()
	exp, ok := p.tokens[tok]
	p.mu.Unlock()
	switch {
	case tok == "":
		apiError(w, 41001, "access_token missing")
	case !ok:
		apiError(w, 40001, "invalid credential, access_token is invalid or not latest")
	case !p.Now().Before(exp):
		apiError(w, 42001, "access_token expired")
	default:
		return true
	}
	return false
}

func (p *Platform) nextFailure() Failure {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.fail) == 0 {
		return OK
	}
	f := p.fail[0]
	p.fail = p.fail[1:]
	return f
}

func (p *Platform) send(api string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := r.URL.Query().Get("access_token")
		if !p.checkToken(w, tok) {
			return
		}
		var body map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
			apiError(w, 47001, "data format error")
			return
		}
		touser, _ := body["touser"].(string)
		if touser == "" {
			apiError(w, 40003, "invalid openid")
			return
		}
		if api == "custom" {
			text, _ := body["text"].(map[string]any)
			content, _ := text["content"].(string)
			if body["msgtype"] != "text" || content == "" {
				apiError(w, 40008, "invalid message type")
				return
			}
			if len(content) > 2048 {
				apiError(w, 45002, "content size out of limit")
				return
			}
		} else if id, _ := body["template_id"].(string); id == "" {
			apiError(w, 40037, "invalid template_id")
			return
		}
		switch p.nextFailure() {
		case HTTP500:
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			return
		case Hang:
			select {
			case <-r.Context().Done():
			case <-p.hangRelease:
			}
			return
		case OutOfWindow:
			apiError(w, 45015, "response out of time limit or subscription is canceled")
			return
		case TooMany:
			apiError(w, 45047, "out of response count limit")
			return
		case Busy:
			apiError(w, -1, "system error")
			return
		case Unsubscribed:
			apiError(w, 43004, "require subscribe")
			return
		}
		p.mu.Lock()
		p.sent = append(p.sent, Sent{API: api, Token: tok, Body: body})
		p.mu.Unlock()
		if api == "template" {
			answer(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": 200228332})
			return
		}
		apiError(w, 0, "ok")
	}
}

func (p *Platform) getMedia(w http.ResponseWriter, r *http.Request) {
	if !p.checkToken(w, r.URL.Query().Get("access_token")) {
		return
	}
	switch p.nextFailure() {
	case HTTP500:
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-p.hangRelease:
		}
		return
	case Busy, TooMany, OutOfWindow, Unsubscribed:
		apiError(w, -1, "system error")
		return
	}
	p.mu.Lock()
	f, ok := p.media[r.URL.Query().Get("media_id")]
	if ok {
		p.mediaCalls++
	}
	p.mu.Unlock()
	if !ok {
		apiError(w, 40007, "invalid media_id")
		return
	}
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-disposition", fmt.Sprintf(`attachment; filename="%s"`, f.Name))
	w.Header().Set("Content-Length", fmt.Sprint(len(f.Data)))
	_, _ = w.Write(f.Data)
}
