package customers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/timeline"
)

// Consent is a customer's choice about one outreach channel (PIPL): opted
// out means no marketing or care outreach on that channel.
type Consent struct {
	Channel  string    `json:"channel"`
	OptedOut bool      `json:"opted_out"`
	At       time.Time `json:"at"`
	Source   string    `json:"source"` // how the customer said so: phone, web, letter…
}

// SetConsent records a customer's choice for a channel.
func (s *Store) SetConsent(ctx context.Context, id int64, channel string, optedOut bool, source string) error {
	if !slices.Contains(Channels, channel) {
		return domain.Invalid("channel", "validation.one_of", map[string]any{"Values": strings.Join(Channels, ", ")})
	}
	source = strings.TrimSpace(source)
	if len([]rune(source)) > 60 {
		return domain.Invalid("source", "validation.too_long", map[string]any{"Max": 60})
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.get(ctx, id); err != nil {
			return err
		}
		now := db.Now(s.clock.Now())
		_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO customer_consents (customer_id, channel, opted_out, at, source) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (customer_id, channel) DO UPDATE SET opted_out = excluded.opted_out, at = excluded.at, source = excluded.source`,
			id, channel, optedOut, now, source)
		if err != nil {
			return fmt.Errorf("set consent: %w", err)
		}
		if err := s.audit.Record(ctx, "customer.consent", "customer", fmt.Sprint(id), map[string]audit.Change{
			"channel": {After: channel}, "opted_out": {After: optedOut}, "source": {After: source}}); err != nil {
			return err
		}
		key := "timeline.consent_given"
		if optedOut {
			key = "timeline.consent_withdrawn"
		}
		return s.timeline.Append(ctx, timeline.Event{CustomerID: id, Kind: "customer.consent", Key: key, Params: map[string]any{"Channel": channel}})
	})
}

// Consents lists a customer's recorded choices.
func (s *Store) Consents(ctx context.Context, id int64) ([]Consent, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT channel, opted_out, at, source FROM customer_consents WHERE customer_id = $1 ORDER BY channel`, id)
	if err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	defer rows.Close()
	out := []Consent{}
	for rows.Next() {
		var c Consent
		if err := rows.Scan(&c.Channel, &c.OptedOut, &c.At, &c.Source); err != nil {
			return nil, err
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// MayContact tells whether outreach to the customer on channel is allowed:
// not when they opted out of it, nor when their lifecycle stage is
// unsubscribed, nor when their data was erased. Care and survey sending must
// ask before every message.
func (s *Store) MayContact(ctx context.Context, id int64, channel string) (bool, error) {
	var optedOut, blocked bool
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM customer_consents WHERE customer_id = $1 AND channel = $2 AND opted_out),
		EXISTS (SELECT 1 FROM customers WHERE id = $1 AND (lifecycle_override = 'unsubscribed' OR erased_at IS NOT NULL OR merged_into IS NOT NULL))`,
		id, channel).Scan(&optedOut, &blocked)
	if err != nil {
		return false, fmt.Errorf("may contact: %w", err)
	}
	return !optedOut && !blocked, nil
}

// MayReceive is the outbox's send-time check (notify.Consent): outreach asks
// MayContact; a transactional message (the answer to the customer's own
// request, their sign-in link) skips the opt-outs but never reaches an
// erased or merged-away customer.
func (s *Store) MayReceive(ctx context.Context, id int64, channel string, transactional bool) (bool, error) {
	if !transactional {
		return s.MayContact(ctx, id, channel)
	}
	var gone bool
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1 AND (erased_at IS NOT NULL OR merged_into IS NOT NULL))`, id).Scan(&gone)
	if err != nil {
		return false, fmt.Errorf("may receive: %w", err)
	}
	return !gone, nil
}
