package wechat

import (
	"context"
	"strings"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/tickets"
)

// Store is the WeChat channel: its accounts, the callback, and the
// replies out.
type Store struct {
	db        *db.DB
	clock     clock.Clock
	settings  *settings.Store
	sealer    *email.Sealer
	customers *customers.Store
	tickets   *tickets.Store

	opts   Options
	client *Client
	// queue enqueues the download of a wechat_media row (UseJobs); nil
	// without jobs.
	queue func(ctx context.Context, id int64) error
}

// Options are what the replies out need; set with Use.
type Options struct {
	Outbox  *notify.Outbox
	Catalog *i18n.Catalog
	// Files keeps the images and voice downloaded from the platform (nil
	// without a data directory: they stay as their placeholder text).
	Files *attachments.Store
	// BaseURL is the public address for the portal link of a template
	// message ("" for none).
	BaseURL string
	// AllowPrivate lets an account's api_base be http or a loopback or
	// private address (--robots-allow-private: a gateway on the LAN, the
	// tests' fake platform).
	AllowPrivate bool
	// Fallback decides for a reply the platform will not take (outside
	// the 48-hour window, no reply template): send it another way, or
	// not; it names the channel that took the reply ("" for none). nil:
	// the outbox row is suppressed with the reason. An error is retried as
	// a failed delivery.
	Fallback Fallback
}

// NewStore builds the channel.
func NewStore(d *db.DB, c clock.Clock, s *settings.Store, sealer *email.Sealer, cs *customers.Store, ts *tickets.Store) *Store {
	return &Store{db: d, clock: c, settings: s, sealer: sealer, customers: cs, tickets: ts, client: NewClient(c.Now, false)}
}

// Use sets the options of the replies out (before the server starts, or
// in a test before the first reply).
func (s *Store) Use(o Options) {
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	s.opts = o
	s.client = NewClient(s.clock.Now, o.AllowPrivate)
}

// SetFallback sets Options.Fallback alone (the app sets it when it has
// another way to reach the customer).
func (s *Store) SetFallback(f Fallback) {
	s.opts.Fallback = f
}

// AllowPrivate changes Options.AllowPrivate alone (tests reach their fake
// platform on loopback; --robots-allow-private sets it for a server).
func (s *Store) AllowPrivate(on bool) {
	s.opts.AllowPrivate = on
	s.client = NewClient(s.clock.Now, on)
}
