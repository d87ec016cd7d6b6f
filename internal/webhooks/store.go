package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
)

// Channel is the outbox channel of webhook deliveries.
const Channel = "webhook"

// Events a subscription may ask for. Care, survey and service-order
// events join when those domains exist.
var Events = []string{
	"ticket.created", "ticket.updated", "ticket.state_changed", "ticket.assigned", "ticket.replied",
	"ticket.customer_message", "ticket.merged", "ticket.major_complaint",
	"customer.created", "customer.updated", "customer.merged",
}

// Sealer encrypts secrets at rest (email.Sealer: AES-256-GCM with the
// server's secret key).
type Sealer interface {
	Seal(plain string) (string, error)
	Open(sealed string) (string, error)
}

// Subscription is a URL that hears of events.
type Subscription struct {
	ID           int64     `json:"id"`
	URL          string    `json:"url"`
	Events       []string  `json:"events"`
	Description  string    `json:"description"`
	Active       bool      `json:"active"`
	AllowPrivate bool      `json:"allow_private"`
	CreatedBy    int64     `json:"created_by,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// Secret is the signing secret, in the answer to the creation only.
	Secret string `json:"secret,omitempty"`
}

// Input is a new subscription.
type Input struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	// AllowPrivate lets the URL reach private, loopback and link-local
	// addresses (a receiver inside the company's network).
	AllowPrivate bool `json:"allow_private"`
}

// Options tune deliveries.
type Options struct {
	// Timeout is one attempt's deadline (10 s): a receiver that hangs
	// fails the attempt, which the outbox retries later.
	Timeout time.Duration
	// Resolver looks names up (net.DefaultResolver).
	Resolver Resolver
}

// Store keeps subscriptions and deliveries, and is the outbox channel.
type Store struct {
	db     *db.DB
	clock  clock.Clock
	audit  *audit.Log
	sealer Sealer
	outbox *notify.Outbox

	mu   sync.RWMutex
	opts Options
}

// New builds the store; register it with the outbox (Outbox.Register).
func New(d *db.DB, c clock.Clock, a *audit.Log, s Sealer, o *notify.Outbox, opts Options) *Store {
	st := &Store{db: d, clock: c, audit: a, sealer: s, outbox: o}
	st.Configure(opts)
	return st
}

// Configure replaces the options (tests: a short timeout, a fake resolver).
func (s *Store) Configure(o Options) {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	s.mu.Lock()
	s.opts = o
	s.mu.Unlock()
}

func (s *Store) options() Options {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.opts
}

const maxDescription = 200

// Create checks and stores a subscription; the answer carries its secret,
// which is never shown again.
func (s *Store) Create(ctx context.Context, in Input) (Subscription, error) {
	var v domain.ValidationError
	u, err := CheckURL(ctx, s.options().Resolver, in.URL, in.AllowPrivate)
	if err != nil {
		var ve *domain.ValidationError
		if !errors.As(err, &ve) {
			return Subscription{}, err
		}
		v.Fields = append(v.Fields, ve.Fields...)
	}
	events, err := checkEvents(in.Events)
	if err != nil {
		var ve *domain.ValidationError
		errors.As(err, &ve)
		v.Fields = append(v.Fields, ve.Fields...)
	}
	desc := strings.TrimSpace(in.Description)
	if len([]rune(desc)) > maxDescription {
		v.Add("description", "validation.too_long", map[string]any{"Max": maxDescription})
	}
	if err := v.Err(); err != nil {
		return Subscription{}, err
	}
	secret := NewSecret()
	sealed, err := s.sealer.Seal(secret)
	if err != nil {
		return Subscription{}, domain.Invalid("url", "validation.no_secret_key", nil)
	}
	sub := Subscription{URL: u.String(), Events: events, Description: desc, Active: true, AllowPrivate: in.AllowPrivate,
		CreatedBy: audit.ActorFrom(ctx).UserID, CreatedAt: db.Now(s.clock.Now())}
	evJSON, _ := json.Marshal(events)
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		var by any
		if sub.CreatedBy != 0 {
			by = sub.CreatedBy
		}
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO webhook_subscriptions (url, events, secret, description, active, allow_private, created_by, created_at)
			VALUES ($1, $2, $3, $4, TRUE, $5, $6, $7) RETURNING id`, sub.URL, string(evJSON), sealed, sub.Description, sub.AllowPrivate, by, sub.CreatedAt).Scan(&sub.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, "webhook.create", "webhook", fmt.Sprint(sub.ID), map[string]audit.Change{
			"url": {After: sub.URL}, "events": {After: strings.Join(events, ", ")}, "allow_private": {After: sub.AllowPrivate}})
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("create webhook: %w", err)
	}
	sub.Secret = secret
	return sub, nil
}

// checkEvents keeps the known events, each once, in the order of Events.
func checkEvents(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, domain.Invalid("events", "validation.required", nil)
	}
	for _, e := range in {
		if !slices.Contains(Events, strings.TrimSpace(e)) {
			return nil, domain.Invalid("events", "validation.webhook_event", map[string]any{"Value": e, "Known": strings.Join(Events, ", ")})
		}
	}
	var out []string
	for _, e := range Events {
		if slices.ContainsFunc(in, func(x string) bool { return strings.TrimSpace(x) == e }) {
			out = append(out, e)
		}
	}
	return out, nil
}

const subColumns = `id, url, events, description, active, allow_private, COALESCE(created_by, 0), created_at`

func scanSub(sc interface{ Scan(...any) error }) (Subscription, error) {
	var sub Subscription
	var events string
	if err := sc.Scan(&sub.ID, &sub.URL, &events, &sub.Description, &sub.Active, &sub.AllowPrivate, &sub.CreatedBy, &sub.CreatedAt); err != nil {
		return sub, err
	}
	sub.Events = []string{}
	_ = json.Unmarshal([]byte(events), &sub.Events)
	sub.CreatedAt = sub.CreatedAt.UTC()
	return sub, nil
}

// List returns the subscriptions not deleted, oldest first.
func (s *Store) List(ctx context.Context) ([]Subscription, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+subColumns+` FROM webhook_subscriptions WHERE deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// Get returns a subscription not deleted.
func (s *Store) Get(ctx context.Context, id int64) (Subscription, error) {
	sub, err := scanSub(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+subColumns+` FROM webhook_subscriptions WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Subscription{}, fmt.Errorf("webhook %d: %w", id, domain.ErrNotFound)
	}
	return sub, err
}

// Delete ends a subscription: nothing more is sent to it (deliveries still
// queued are suppressed); its log stays.
func (s *Store) Delete(ctx context.Context, id int64) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		sub, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE webhook_subscriptions SET deleted_at = $1, active = FALSE WHERE id = $2`,
			db.Now(s.clock.Now()), id); err != nil {
			return fmt.Errorf("delete webhook: %w", err)
		}
		return s.audit.Record(ctx, "webhook.delete", "webhook", fmt.Sprint(id), map[string]audit.Change{"url": {Before: sub.URL}})
	})
}
