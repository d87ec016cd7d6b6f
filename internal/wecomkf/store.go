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

// SetQueue sets how a callback asks for a pull (the app: a River job).
func (s *Store) SetQueue(q func(ctx context.Context, a PullArgs) error) { s.queue = q }
