package notify

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/timeline"
)

// Channel names of the outbox.
const (
	ChannelEmail = "email"
	ChannelInApp = "inapp"
	// ChannelSMS is the text-message channel; its gateway adapter comes
	// with the messaging issue, and what needs it asks HasChannel first.
	ChannelSMS = "sms"
	// ChannelWeCom is a WeCom application message to one staff member
	// (internal/robots delivers it); the recipient is their WeCom user id.
	ChannelWeCom = "wecom"
)

// States of an outbox row.
const (
	StateQueued     = "queued"     // waiting for its next attempt (next_at)
	StateSending    = "sending"    // claimed by a server until lease_until
	StateSent       = "sent"       // the channel accepted it
	StateDead       = "dead"       // gave up: MaxAttempts or a permanent error
	StateSuppressed = "suppressed" // not sent on purpose: no consent, no address
)

// States lists every state, for filters.
var States = []string{StateQueued, StateSending, StateSent, StateDead, StateSuppressed}

// Message is one outbound message.
type Message struct {
	ID      int64  `json:"id"`
	Channel string `json:"channel"` // ChannelEmail, ChannelInApp, …
	// Kind is what caused it, e.g. ticket.reply, portal.sign_in,
	// staff.assigned: shown to administrators, counted in reports.
	Kind string `json:"kind"`
	// DedupeKey, when set, makes the message once per key across every
	// server (unique index).
	DedupeKey  string `json:"dedupe_key,omitempty"`
	CustomerID int64  `json:"customer_id,omitempty"` // the customer it reaches (consent, timeline)
	UserID     int64  `json:"user_id,omitempty"`     // the staff member it reaches
	Recipient  string `json:"recipient"`             // address on the channel (email, phone, openid)
	Subject    string `json:"subject"`
	Body       string `json:"body"`           // plain text
	HTML       string `json:"html,omitempty"` // optional HTML alternative
	// Data is the channel's own part (email: headers, mailbox, attachment
	// ids; in-app: link), as JSON.
	Data json.RawMessage `json:"data,omitempty"`
	// Transactional messages answer the customer's own request (a reply to
	// their ticket, their sign-in link): they skip outreach opt-outs, never
	// an erased customer.
	Transactional bool   `json:"transactional"`
	Entity        string `json:"entity,omitempty"` // what it is about: ticket, care_task…
	EntityID      string `json:"entity_id,omitempty"`

	State      string     `json:"state"`
	Attempts   int        `json:"attempts"`
	NextAt     time.Time  `json:"next_at"`
	LastError  string     `json:"last_error,omitempty"`
	ProviderID string     `json:"provider_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
}

// Channel delivers messages of one kind of transport.
type Channel interface {
	Name() string
	// Deliver sends m and returns the provider's id for it (a Message-ID,
	// an SMS BizId). An error is retried unless it is a *PermanentError. It
	// must return by ctx's deadline.
	Deliver(ctx context.Context, m *Message) (providerID string, err error)
}

// Local is implemented by a channel whose delivery is a write to this
// database (the in-app inbox). Such rows are delivered inside the
// transaction that records their batch's outcomes, each in a savepoint,
// instead of each in a write transaction of its own, which on SQLite's one
// writer queued behind the requests that made them.
type Local interface {
	Local()
}

// Availability is implemented by a channel that is registered yet may not
// be set up (SMS before an administrator configures a provider), so that
// HasChannel says no until it is.
type Availability interface {
	Available(ctx context.Context) bool
}

// PermanentError is a refusal that retrying cannot change (a 550 for an
// unknown mailbox, a malformed address): the row goes dead at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

// DeferredError asks the outbox to hold a message until a time without
// counting the attempt: it is not a failure (SMS quiet hours, a provider's
// sending window). The row stays queued with next_at = Until.
type DeferredError struct {
	Until time.Time
	Err   error
}

func (e *DeferredError) Error() string { return e.Err.Error() }
func (e *DeferredError) Unwrap() error { return e.Err }

// Defer wraps why as a DeferredError until t.
func Defer(t time.Time, why error) error { return &DeferredError{Until: t, Err: why} }

// Suppressed is returned by a channel (or Consent) when a message must not
// go out at all (no address, opted out); the row becomes suppressed.
var ErrSuppressed = errors.New("suppressed")

// ReroutedError is returned by a channel that did not send a message itself
// but handed it to another channel (WeChat outside its reply window → SMS):
// the row is suppressed on its own channel like any message it may not
// send, and the customer's timeline says which channel took it instead of
// "not sent".
type ReroutedError struct {
	To     string // the channel that took the message
	Reason string // why this one did not
}

func (e *ReroutedError) Error() string {
	return fmt.Sprintf("%s; sent by %s instead: %s", e.Reason, e.To, ErrSuppressed)
}

// Is makes a rerouted message a suppressed one for the dispatcher.
func (e *ReroutedError) Is(target error) bool { return target == ErrSuppressed }

// Consent answers whether the customer may be contacted on channel at send
// time; transactional tells that the message answers their own request.
type Consent func(ctx context.Context, customerID int64, channel string, transactional bool) (bool, error)

// Options tune the dispatcher.
type Options struct {
	MaxAttempts int           // tries before a row is dead (8)
	Backoff     time.Duration // wait after the first failure, doubled each time (30 s), capped at 1 h
	Lease       time.Duration // how long a claim holds (5 min); longer than any delivery
	Timeout     time.Duration // one delivery's deadline (30 s)
	Batch       int           // rows claimed at once (100)
	Workers     int           // deliveries at once (8)
	Poll        time.Duration // how often an idle dispatcher looks for due rows (1 s)
	Gather      time.Duration // after a Nudge, how long to let more rows come before claiming (50 ms)
	Name        string        // this server in claimed_by (host:pid:random)
}

func (o *Options) defaults() {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Backoff <= 0 {
		o.Backoff = 30 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Gather <= 0 {
		o.Gather = 50 * time.Millisecond
	}
	if o.Name == "" {
		// Unique per outbox, also for two in one process (tests).
		h, _ := os.Hostname()
		var b [3]byte
		_, _ = rand.Read(b[:])
		o.Name = h + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b[:])
	}
}

// Outbox writes and delivers outbound messages.
type Outbox struct {
	db       *db.DB
	clock    clock.Clock
	audit    *audit.Log
	timeline *timeline.Log
	opts     Options

	mu       sync.RWMutex
	channels map[string]Channel
	consent  Consent
	wake     chan struct{}
}

// New builds the outbox; add channels with Register before delivering.
func New(d *db.DB, c clock.Clock, a *audit.Log, t *timeline.Log, o Options) *Outbox {
	o.defaults()
	return &Outbox{db: d, clock: c, audit: a, timeline: t, opts: o, channels: map[string]Channel{}, wake: make(chan struct{}, 1)}
}

// Register adds (or replaces) a channel.
func (o *Outbox) Register(ch Channel) {
	o.mu.Lock()
	o.channels[ch.Name()] = ch
	o.mu.Unlock()
}

// UseConsent sets the send-time consent check (customers.MayContact and
// friends, wired by app).
func (o *Outbox) UseConsent(c Consent) {
	o.mu.Lock()
	o.consent = c
	o.mu.Unlock()
}

// HasChannel tells whether a channel of that name is registered, so that a
// feature needing it (the portal's SMS sign-in) shows only when it can work.
func (o *Outbox) HasChannel(name string) bool {
	ch := o.channel(name)
	if a, ok := ch.(Availability); ok {
		return a.Available(context.Background())
	}
	return ch != nil
}

func (o *Outbox) channel(name string) Channel {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.channels[name]
}

// Enqueue writes m in ctx's transaction (or its own) and returns its id.
// With a DedupeKey that exists already, it returns the existing row's id and
// writes nothing.
func (o *Outbox) Enqueue(ctx context.Context, m Message) (int64, error) {
	if m.Channel == "" || m.Kind == "" {
		return 0, fmt.Errorf("outbox: a message needs a channel and a kind")
	}
	data := "{}"
	if len(m.Data) > 0 {
		if !json.Valid(m.Data) {
			return 0, fmt.Errorf("outbox: data is not JSON")
		}
		data = string(m.Data)
	}
	now := db.Now(o.clock.Now())
	var id int64
	err := o.db.WithTx(ctx, func(ctx context.Context) error {
		q := o.db.Q(ctx)
		var key any
		if m.DedupeKey != "" {
			key = m.DedupeKey
		}
		err := q.QueryRowContext(ctx, `INSERT INTO outbox (channel, kind, dedupe_key, customer_id, user_id, recipient, subject, body, html,
			data, transactional, entity, entity_id, state, next_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'queued', $14, $14)
			ON CONFLICT DO NOTHING RETURNING id`,
			m.Channel, m.Kind, key, nullID(m.CustomerID), nullID(m.UserID), m.Recipient, m.Subject, m.Body, m.HTML,
			data, m.Transactional, m.Entity, m.EntityID, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) && m.DedupeKey != "" {
			// The key is there already: report its row (the first writer
			// won). Asking after the insert rather than before saves a
			// lookup on the common path, a new key.
			return q.QueryRowContext(ctx, `SELECT id FROM outbox WHERE dedupe_key = $1`, m.DedupeKey).Scan(&id)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("outbox enqueue %s: %w", m.Kind, err)
	}
	o.Nudge()
	return id, nil
}

// Nudge tells this server's dispatcher to look for due rows now rather than
// at its next poll (a row enqueued in a transaction that has not committed
// yet is found at the poll after its commit).
func (o *Outbox) Nudge() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
