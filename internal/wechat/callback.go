package wechat

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Window is how far a callback's timestamp may be from our clock, and how
// long its nonce is remembered.
const Window = 5 * time.Minute

// MaxBody is the largest callback body read (a text message is at most
// 2,048 bytes of content; the rest is the envelope).
const MaxBody = 64 << 10

// The refusals of a callback; each is domain.ErrForbidden, and nothing is
// stored.
var (
	ErrBadSignature = fmt.Errorf("wechat: wrong signature: %w", domain.ErrForbidden)
	ErrStale        = fmt.Errorf("wechat: timestamp outside the %s window: %w", Window, domain.ErrForbidden)
	ErrReplay       = fmt.Errorf("wechat: nonce already used: %w", domain.ErrForbidden)
)

// ErrBadMessage: a body that is not a WeChat message (XML), or an
// encrypted one that does not open.
var ErrBadMessage = errors.New("wechat: not a message")

// Query is the callback's query string.
type Query struct {
	Signature    string // signature (plain mode; also sent in 安全模式)
	Timestamp    string
	Nonce        string
	EchoStr      string // echostr, the URL verification's challenge
	EncryptType  string // encrypt_type: "aes" in 安全模式, else "" or "raw"
	MsgSignature string // msg_signature, 安全模式
}

// Message is a message as the platform posts it.
type Message struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"` // the follower's openid
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Content      string `xml:"Content"`
	MsgID        string `xml:"MsgId"`
	Encrypt      string `xml:"Encrypt"`
	// Images and voice (media.go): the file is fetched later with MediaId.
	PicURL      string `xml:"PicUrl"`
	MediaID     string `xml:"MediaId"`
	Format      string `xml:"Format"`      // voice: amr, speex
	Recognition string `xml:"Recognition"` // voice: the platform's transcript, when switched on
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

// Verify answers the URL verification (GET): the echostr to echo back when
// the signature is the account's and the timestamp fresh. Nothing is
// stored.
func (s *Store) Verify(ctx context.Context, account string, q Query) (string, error) {
	a, err := s.open(ctx, account)
	if err != nil {
		return "", err
	}
	if !sameSignature(q.Signature, Signature(a.token, q.Timestamp, q.Nonce)) {
		return "", ErrBadSignature
	}
	if err := s.fresh(q.Timestamp); err != nil {
		return "", err
	}
	return q.EchoStr, nil
}

// Result is what became of a callback.
type Result struct {
	Duplicate  bool   // the MsgId was taken in before: nothing changed
	Ignored    string // the message type not taken in (image, event…), or ""
	TicketID   int64
	CustomerID int64
	Created    bool  // a new ticket (else appended)
	MessageID  int64 // the customer message recorded
	MediaID    int64 // the wechat_media row of an image or voice, to download
}

// Receive takes in one posted message: signature, timestamp and nonce
// checked (refused with nothing stored), the body opened in 安全模式, and a
// text message made a ticket or a reply on one, once per MsgId. The nonce
// is claimed in the same transaction, so a failure leaves nothing behind
// and the platform's retry is taken.
func (s *Store) Receive(ctx context.Context, account string, q Query, body []byte) (Result, error) {
	a, err := s.open(ctx, account)
	if err != nil {
		return Result{}, err
	}
	aes := q.EncryptType == "aes"
	if !aes {
		// Plain mode: the signature covers the query only, so it is
		// checked before the body is read at all.
		if !sameSignature(q.Signature, Signature(a.token, q.Timestamp, q.Nonce)) {
			return Result{}, ErrBadSignature
		}
		if err := s.fresh(q.Timestamp); err != nil {
			return Result{}, err
		}
	}
	var env Message
	if err := xml.Unmarshal(body, &env); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	m := env
	if aes {
		if a.aesKey == nil {
			return Result{}, fmt.Errorf("%w: 安全模式 without an EncodingAESKey configured", ErrBadMessage)
		}
		if env.Encrypt == "" || !sameSignature(q.MsgSignature, Signature(a.token, q.Timestamp, q.Nonce, env.Encrypt)) {
			return Result{}, ErrBadSignature
		}
		if err := s.fresh(q.Timestamp); err != nil {
			return Result{}, err
		}
		plain, err := Decrypt(a.aesKey, a.AppID, env.Encrypt)
		if err != nil {
			return Result{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
		}
		m = Message{}
		if err := xml.Unmarshal(plain, &m); err != nil {
			return Result{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
		}
	}
	if q.Nonce == "" || len(q.Nonce) > 64 {
		return Result{}, ErrReplay
	}
	if m.FromUserName == "" || len(m.FromUserName) > 128 || len(m.MsgID) > 64 {
		return Result{}, fmt.Errorf("%w: no sender", ErrBadMessage)
	}
	var res Result
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.claimNonce(ctx, account, q.Nonce); err != nil {
			return err
		}
		if !takes(m) {
			// Not taken in, yet the follower spoke (an event too opens
			// the window): a known follower's window starts again.
			res.Ignored = m.MsgType
			return s.heard(ctx, account, m.FromUserName)
		}
		// Without a data directory there is nowhere to keep the file: the
		// message stays as its placeholder text.
		if err := s.take(ctx, account, m, &res); err != nil || res.Duplicate || !isMedia(m) || s.opts.Files == nil {
			return err
		}
		return s.recordMedia(ctx, account, m, &res)
	})
	if err == nil && res.MediaID != 0 {
		// After the commit, so the job finds its row; never the download
		// itself (the platform waits 5 s at most, the floor is 50 ms). A
		// lost insert is made good by the sweep (media.go).
		s.queueMedia(ctx, res.MediaID)
	}
	return res, err
}

// claimNonce remembers the nonce for the window; a second use within it is
// ErrReplay. Nonces older than the window go at the same time.
func (s *Store) claimNonce(ctx context.Context, account, nonce string) error {
	now := s.clock.Now()
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `DELETE FROM wechat_nonces WHERE seen_at < $1`, db.Now(now.Add(-2*Window))); err != nil {
		return fmt.Errorf("wechat: forget nonces: %w", err)
	}
	res, err := q.ExecContext(ctx, `INSERT INTO wechat_nonces (account, nonce, seen_at) VALUES ($1, $2, $3)
		ON CONFLICT (account, nonce) DO NOTHING`, account, nonce, db.Now(now))
	if err != nil {
		return fmt.Errorf("wechat: claim nonce: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrReplay
	}
	return nil
}
