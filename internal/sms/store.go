package sms

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/settings"
)

// Errors of a send.
var (
	// ErrNotConfigured: SMS is off or unset; the outbox retries, so what was
	// queued before an administrator sets it up goes out once they do.
	ErrNotConfigured = errors.New("SMS is not configured or not enabled")
	ErrNoTemplate    = errors.New("no SMS template is configured for this kind of message")
	ErrVariable      = errors.New("a template variable is missing or too long")
	ErrLimit         = errors.New("SMS limit reached")
)

// Store keeps the configuration and the counters.
type Store struct {
	db       *db.DB
	clock    clock.Clock
	settings *settings.Store
	sealer   *email.Sealer
	http     *http.Client
}

// NewStore builds the store; the sealer is the server's (the mailboxes').
func NewStore(d *db.DB, c clock.Clock, s *settings.Store, sealer *email.Sealer) *Store {
	return &Store{db: d, clock: c, settings: s, sealer: sealer}
}

// UseHTTP sets the HTTP client of the providers (tests, benchmarks).
func (s *Store) UseHTTP(h *http.Client) { s.http = h }

// View is the configuration as an administrator sees it: never the secret,
// only whether it is set; with its version and this month's usage.
type View struct {
	Config
	SecretSet bool  `json:"secret_set"`
	Version   int64 `json:"version"`
	Usage     Usage `json:"usage"`
	// ReceiptPath is where the provider posts delivery reports (after the
	// server's public address); set when a secret is.
	ReceiptPath string `json:"receipt_path,omitempty"`
}

// Usage is what was sent: today, and this month with its cost.
type Usage struct {
	Day       string `json:"day"`
	DaySent   int    `json:"day_sent"`
	Month     string `json:"month"`
	MonthSent int    `json:"month_sent"`
	MonthFen  int64  `json:"month_fen"`
}

// Input is an edit: the whole configuration, the secret write-only (absent:
// kept; "": removed), and the version read.
type Input struct {
	Config
	Secret  *string `json:"secret,omitempty"`
	Version int64   `json:"version"`
}

func (s *Store) read(ctx context.Context) (Config, int64, error) {
	c := DefaultConfig()
	e, found, err := s.settings.Entry(ctx, SettingKey)
	if err != nil || !found {
		return c, 0, err
	}
	if err := json.Unmarshal(e.Value, &c); err != nil {
		return c, 0, fmt.Errorf("sms: config: %w", err)
	}
	return c, e.Version, nil
}

// Get returns the configuration for the administrator.
func (s *Store) Get(ctx context.Context) (View, error) {
	c, v, err := s.read(ctx)
	if err != nil {
		return View{}, err
	}
	u, err := s.Usage(ctx, c)
	if err != nil {
		return View{}, err
	}
	view := View{Config: c, SecretSet: c.SecretSealed != "", Version: v, Usage: u, ReceiptPath: s.receiptPath(c)}
	view.SecretSealed = ""
	return view, nil
}

// Update replaces the configuration (optimistic: domain.ErrStale when
// in.Version is not the stored one).
func (s *Store) Update(ctx context.Context, in Input) (View, error) {
	old, _, err := s.read(ctx)
	if err != nil {
		return View{}, err
	}
	c := in.Config
	if c.Templates == nil {
		c.Templates = map[string]Template{}
	}
	c.SecretSealed = old.SecretSealed
	if in.Secret != nil {
		if c.SecretSealed, err = s.sealer.Seal(*in.Secret); errors.Is(err, email.ErrNoKey) {
			return View{}, domain.Invalid("secret", "sms.no_secret_key", nil)
		} else if err != nil {
			return View{}, fmt.Errorf("sms: seal: %w", err)
		}
	}
	if err := c.validate(); err != nil {
		return View{}, err
	}
	if c.Enabled && c.SecretSealed == "" {
		return View{}, domain.Invalid("secret", "validation.required", nil)
	}
	if _, err := s.settings.Set(ctx, SettingKey, c, in.Version); err != nil {
		return View{}, err
	}
	return s.Get(ctx)
}

// sending reads the configuration through the settings cache, with the
// secret opened.
func (s *Store) sending(ctx context.Context) (Config, string, error) {
	c := DefaultConfig()
	if _, err := s.settings.Get(ctx, SettingKey, &c); err != nil {
		return c, "", err
	}
	if !c.Enabled || c.SecretSealed == "" {
		return c, "", ErrNotConfigured
	}
	secret, err := s.sealer.Open(c.SecretSealed)
	if err != nil {
		return c, "", fmt.Errorf("sms: secret: %w", err)
	}
	return c, secret, nil
}

// day and month of t in the quiet hours' zone (China's day, by default).
func periods(c Config, t time.Time) (day, month string) {
	loc := time.UTC
	if w, err := c.Quiet.parse(); err == nil {
		loc = w.loc
	}
	l := t.In(loc)
	return l.Format("2006-01-02"), l.Format("2006-01")
}

// Usage reads today's and this month's counts.
func (s *Store) Usage(ctx context.Context, c Config) (Usage, error) {
	u := Usage{}
	u.Day, u.Month = periods(c, s.clock.Now())
	q := s.db.RQ(ctx)
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(sent), 0) FROM sms_counts WHERE day = $1 AND customer_id = 0`, u.Day).Scan(&u.DaySent); err != nil {
		return u, fmt.Errorf("sms: usage: %w", err)
	}
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(sent), 0), COALESCE(MAX(fen), 0) FROM sms_costs WHERE month = $1`, u.Month).Scan(&u.MonthSent, &u.MonthFen); err != nil {
		return u, fmt.Errorf("sms: usage: %w", err)
	}
	return u, nil
}

// reserve counts one message against the day's limits and the month's cost
// before it goes to the provider. Each step is an upsert that refuses a row
// at its limit, so servers sharing the database share the limits. On
// PostgreSQL the steps run one statement at a time on db.Counters, so the
// day's total row is locked for a statement, not until a commit waits for
// the disk (the outbox's later record of the send waits for it, and a count
// lost in a crash belongs to a send the outbox will make again); a refused
// step undoes the ones before it. On SQLite they share one transaction.
func (s *Store) reserve(ctx context.Context, c Config, customerID int64, now time.Time) error {
	day, month := periods(c, now)
	if s.db.Counters != nil {
		return reserveIn(ctx, s.db.Counters, true, c, customerID, day, month)
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		return reserveIn(ctx, s.db.Q(ctx), false, c, customerID, day, month)
	})
}

func reserveIn(ctx context.Context, q db.Querier, undo bool, c Config, customerID int64, day, month string) error {
	step := func(customer int64, limit int) error {
		if limit <= 0 {
			limit = 1 << 30
		}
		var n int
		err := q.QueryRowContext(ctx, `INSERT INTO sms_counts (day, customer_id, sent) VALUES ($1, $2, 1)
			ON CONFLICT (day, customer_id) DO UPDATE SET sent = sms_counts.sent + 1 WHERE sms_counts.sent < $3
			RETURNING sent`, day, customer, limit).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			who := "all customers"
			if customer != 0 {
				who = "this customer"
			}
			return fmt.Errorf("%d messages a day to %s: %w", limit, who, ErrLimit)
		}
		return err
	}
	if err := step(0, c.PerDay); err != nil {
		return err
	}
	if customerID != 0 {
		if err := step(customerID, c.PerCustomerDay); err != nil {
			if undo {
				_, uerr := q.ExecContext(ctx, `UPDATE sms_counts SET sent = sent - 1 WHERE day = $1 AND customer_id = 0 AND sent > 0`, day)
				err = errors.Join(err, uerr)
			}
			return err
		}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO sms_costs (month, sent, fen) VALUES ($1, 1, $2)
		ON CONFLICT (month) DO UPDATE SET sent = sms_costs.sent + 1, fen = sms_costs.fen + $2`, month, c.UnitPriceFen)
	return err
}

// release gives back what reserve counted, when the provider refused.
func (s *Store) release(ctx context.Context, c Config, customerID int64, at time.Time) error {
	day, month := periods(c, at)
	run := func(ctx context.Context, q db.Querier) error {
		if _, err := q.ExecContext(ctx, `UPDATE sms_counts SET sent = sent - 1 WHERE day = $1 AND customer_id IN (0, $2) AND sent > 0`,
			day, customerID); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `UPDATE sms_costs SET sent = sent - 1, fen = fen - $2 WHERE month = $1 AND sent > 0`, month, c.UnitPriceFen)
		return err
	}
	if s.db.Counters != nil {
		return run(ctx, s.db.Counters)
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error { return run(ctx, s.db.Q(ctx)) })
}
