package wecomkf

import (
	"context"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/wechat"
)

// Store is the 微信客服 channel: its accounts, the callback, the pull and
// the replies out.
type Store struct {
	db        *db.DB
	clock     clock.Clock
	settings  *settings.Store
	sealer    *email.Sealer
	customers *customers.Store
	tickets   *tickets.Store

	opts   Options
	client *Client
	// queue enqueues a pull of an account's 客服账号 (the River job of
	// jobs.go); nil without jobs (tests pull themselves).
	queue func(ctx context.Context, a PullArgs) error
}

// Options are what the replies out need; set with Use.
type Options struct {
	Outbox *notify.Outbox
	// AllowPrivate lets an account's api_base be http or a loopback or
	// private address (--robots-allow-private, as for wechat).
	AllowPrivate bool
	// Fallback decides for a reply the platform will not take (outside
	// the 48-hour window, the 5 messages spent, or the platform's 95018 /
	// 95007): send it another way, or not; it names the channel that took
	// the reply ("" for none). The app sets wechat's Store.Reroute, the
	// same as the Official Account's. nil: the outbox row is suppressed
	// with the reason. An error is retried as a failed delivery.
	Fallback wechat.Fallback
}

// NewStore builds the channel.
func NewStore(d *db.DB, c clock.Clock, s *settings.Store, sealer *email.Sealer, cs *customers.Store, ts *tickets.Store) *Store {
	return &Store{db: d, clock: c, settings: s, sealer: sealer, customers: cs, tickets: ts, client: NewClient(c.Now, false)}
}

// Use sets the options (before the server starts, or in a test before the
// first callback).
func (s *Store) Use(o Options) {
	s.opts = o
	s.client = NewClient(s.clock.Now, o.AllowPrivate)
}

// AllowPrivate changes Options.AllowPrivate alone (tests reach their fake
// platform on loopback).
func (s *Store) AllowPrivate(on bool) {
	s.opts.AllowPrivate = on
	s.client = NewClient(s.clock.Now, on)
}

// SetFallback sets Options.Fallback alone (the app sets it when it has
// another way to reach the customer).
func (s *Store) SetFallback(f wechat.Fallback) { s.opts.Fallback = f }

// SetQueue sets how a callback asks for a pull (the app: a River job).
func (s *Store) SetQueue(q func(ctx context.Context, a PullArgs) error) { s.queue = q }
