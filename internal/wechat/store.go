package wechat

import (
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/tickets"
)

// Store is the WeChat channel: its accounts and the callback.
type Store struct {
	db        *db.DB
	clock     clock.Clock
	settings  *settings.Store
	sealer    *email.Sealer
	customers *customers.Store
	tickets   *tickets.Store
}

// NewStore builds the channel.
func NewStore(d *db.DB, c clock.Clock, s *settings.Store, sealer *email.Sealer, cs *customers.Store, ts *tickets.Store) *Store {
	return &Store{db: d, clock: c, settings: s, sealer: sealer, customers: cs, tickets: ts}
}
