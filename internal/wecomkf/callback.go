package wecomkf

import (
	"context"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/wechat"
)

// Window is how far a callback's timestamp may be from our clock, and how
// long its nonce is remembered.
const Window = 5 * time.Minute

// MaxBody is the largest callback body read (an event is a few hundred
// bytes).
const MaxBody = 64 << 10

// The refusals of a callback; each is domain.ErrForbidden, and nothing is
// stored.
var (
	ErrBadSignature = fmt.Errorf("wecomkf: wrong signature: %w", domain.ErrForbidden)
	ErrStale        = fmt.Errorf("wecomkf: timestamp outside the %s window: %w", Window, domain.ErrForbidden)
	ErrReplay       = fmt.Errorf("wecomkf: nonce already used: %w", domain.ErrForbidden)
)

// ErrBadMessage: a body that is not an encrypted WeCom callback, or one
// that does not open with the account's key and corp id.
var ErrBadMessage = errors.New("wecomkf: not a callback")

// Query is the callback's query string.
type Query struct {
	MsgSignature string // msg_signature
	Timestamp    string
	Nonce        string
	EchoStr      string // echostr (encrypted), the URL verification's challenge
}

// envelope is what WeCom posts: the event, encrypted.
type envelope struct {
	ToUserName string `xml:"ToUserName"`
	AgentID    string `xml:"AgentID"`
	Encrypt    string `xml:"Encrypt"`
}

// Event is a decrypted callback.
type Event struct {
	ToUserName string `xml:"ToUserName"` // the corp id
	CreateTime int64  `xml:"CreateTime"`
	MsgType    string `xml:"MsgType"`
	Event      string `xml:"Event"`
	Token      string `xml:"Token"`    // for kf/sync_msg, 10 minutes
	OpenKfID   string `xml:"OpenKfId"` // the 客服账号 with news
}

// EventNews is the event of new messages (or events) to pull.
const EventNews = "kf_msg_or_event"

func sameSignature(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(got)), []byte(want)) == 1
}

// fresh checks the timestamp against our clock.
func (s *Store) fresh(ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrStale
	}
	d := s.clock.Now().Sub(time.Unix(sec, 0))
	if d > Window || d < -Window {
		return ErrStale
	}
	return nil
}

// Verify answers the URL verification (GET): msg_signature = SHA-1 of the
// sorted token, timestamp, nonce and echostr; the echostr decrypted
// (receiveid the corp id) is the answer. Nothing is stored.
func (s *Store) Verify(ctx context.Context, account string, q Query) (string, error) {
	a, err := s.open(ctx, account)
	if err != nil {
		return "", err
	}
	if q.EchoStr == "" || !sameSignature(q.MsgSignature, wechat.Signature(a.token, q.Timestamp, q.Nonce, q.EchoStr)) {
		return "", ErrBadSignature
	}
	if err := s.fresh(q.Timestamp); err != nil {
		return "", err
	}
	plain, err := wechat.Decrypt(a.aesKey, a.CorpID, q.EchoStr)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	return string(plain), nil
}

// Result is what became of a callback.
type Result struct {
	Ignored  string // the event not acted on ("" for kf_msg_or_event)
	OpenKfID string // the 客服账号 whose pull was asked for
	Queued   bool   // the pull job was enqueued (else the sweep takes it)
}

// Receive takes in one posted callback: signature, timestamp and nonce
// checked (refused with nothing stored), the body decrypted, and for
// kf_msg_or_event the Token recorded and a pull asked for. The answer can
// go at once: the messages are fetched by the job, never in the request.
func (s *Store) Receive(ctx context.Context, account string, q Query, body []byte) (Result, error) {
	a, err := s.open(ctx, account)
	if err != nil {
		return Result{}, err
	}
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if env.Encrypt == "" || !sameSignature(q.MsgSignature, wechat.Signature(a.token, q.Timestamp, q.Nonce, env.Encrypt)) {
		return Result{}, ErrBadSignature
	}
	if err := s.fresh(q.Timestamp); err != nil {
		return Result{}, err
	}
	if q.Nonce == "" || len(q.Nonce) > 64 {
		return Result{}, ErrReplay
	}
	plain, err := wechat.Decrypt(a.aesKey, a.CorpID, env.Encrypt)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	var ev Event
	if err := xml.Unmarshal(plain, &ev); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	if len(ev.OpenKfID) > 64 || len(ev.Token) > 256 {
		return Result{}, fmt.Errorf("%w: oversized fields", ErrBadMessage)
	}
	var res Result
	news := ev.MsgType == "event" && ev.Event == EventNews && ev.OpenKfID != "" && a.takes(ev.OpenKfID)
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.claimNonce(ctx, account, q.Nonce); err != nil {
			return err
		}
		if !news {
			res.Ignored = ev.MsgType + "/" + ev.Event
			return nil
		}
		res.OpenKfID = ev.OpenKfID
		now := db.Now(s.clock.Now())
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO wecomkf_cursors (account, open_kfid, token, token_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (account, open_kfid) DO UPDATE SET token = excluded.token, token_at = excluded.token_at`,
			account, ev.OpenKfID, ev.Token, now)
		if err != nil {
			return fmt.Errorf("wecomkf: record token: %w", err)
		}
		return nil
	})
	if err != nil || res.OpenKfID == "" || s.queue == nil {
		return res, err
	}
	// The token is stored: should the job not be enqueued, the sweep
	// (every minute) pulls for it, so the callback still answers at once.
	res.Queued = s.queue(context.WithoutCancel(ctx), PullArgs{Account: account, OpenKfID: res.OpenKfID}) == nil
	return res, nil
}

// claimNonce remembers the nonce for the window; a second use within it is
// ErrReplay. Nonces older than the window go at the same time.
func (s *Store) claimNonce(ctx context.Context, account, nonce string) error {
	now := s.clock.Now()
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `DELETE FROM wecomkf_nonces WHERE seen_at < $1`, db.Now(now.Add(-2*Window))); err != nil {
		return fmt.Errorf("wecomkf: forget nonces: %w", err)
	}
	res, err := q.ExecContext(ctx, `INSERT INTO wecomkf_nonces (account, nonce, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT (account, nonce) DO NOTHING`, account, nonce, db.Now(now))
	if err != nil {
		return fmt.Errorf("wecomkf: claim nonce: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrReplay
	}
	return nil
}
