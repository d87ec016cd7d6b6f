package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
)

// Delivery is one event sent (or to be sent) to one subscription.
type Delivery struct {
	ID             int64           `json:"id"`
	SubscriptionID int64           `json:"subscription_id"`
	Event          string          `json:"event"`
	OccurredAt     time.Time       `json:"occurred_at"`
	State          string          `json:"state"` // the outbox row's: queued, sending, sent, dead, suppressed
	Attempts       int             `json:"attempts"`
	LastStatus     int             `json:"last_status,omitempty"`
	LastAnswer     string          `json:"last_answer,omitempty"`
	LastError      string          `json:"last_error,omitempty"`
	LastDurationMS int             `json:"last_duration_ms"`
	LastAttemptAt  *time.Time      `json:"last_attempt_at,omitempty"`
	DeliveredAt    *time.Time      `json:"delivered_at,omitempty"`
	NextAt         *time.Time      `json:"next_at,omitempty"` // the next attempt, while queued
	OutboxID       int64           `json:"outbox_id"`
	ReplayOf       int64           `json:"replay_of,omitempty"`
	CreatedAt      time.Time       `json:"created_at"`
	Payload        json.RawMessage `json:"payload"`
	Log            []Attempt       `json:"log"`
}

// Attempt is one try of a delivery, with the receiver's answer.
type Attempt struct {
	At         time.Time `json:"at"`
	Status     int       `json:"status,omitempty"` // 0: no answer (refused, timed out)
	Answer     string    `json:"answer,omitempty"` // the start of the body
	Error      string    `json:"error,omitempty"`
	DurationMS int       `json:"duration_ms"`
}

// payload is the body of a delivery.
type payload struct {
	ID         int64           `json:"id"`
	Event      string          `json:"event"`
	OccurredAt time.Time       `json:"occurred_at"`
	ReplayOf   int64           `json:"replay_of,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// Publish queues a delivery of event to every active subscription that asks
// for it, in ctx's transaction (the change's own): it commits with the
// change or not at all.
func (s *Store) Publish(ctx context.Context, event string, at time.Time, data any) error {
	subs, err := s.subscribers(ctx, event)
	if err != nil || len(subs) == 0 {
		return err
	}
	body, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", event, err)
	}
	for _, sub := range subs {
		if _, err := s.enqueue(ctx, sub, event, db.Now(at), body, 0); err != nil {
			return err
		}
	}
	return nil
}

// subscribers are the active subscriptions to event.
func (s *Store) subscribers(ctx context.Context, event string) ([]Subscription, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+subColumns+` FROM webhook_subscriptions WHERE deleted_at IS NULL AND active`)
	if err != nil {
		return nil, fmt.Errorf("webhook subscribers: %w", err)
	}
	defer rows.Close()
	var out []Subscription
	for rows.Next() {
		sub, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		if slices.Contains(sub.Events, event) {
			out = append(out, sub)
		}
	}
	return out, rows.Err()
}

// enqueue writes a delivery and its outbox row; the payload names the
// delivery, so it is written once the id is known.
func (s *Store) enqueue(ctx context.Context, sub Subscription, event string, at time.Time, data json.RawMessage, replayOf int64) (int64, error) {
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		var replay any
		if replayOf != 0 {
			replay = replayOf
		}
		if err := q.QueryRowContext(ctx, `INSERT INTO webhook_deliveries (subscription_id, event, occurred_at, data, replay_of, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, sub.ID, event, at, string(data), replay, db.Now(s.clock.Now())).Scan(&id); err != nil {
			return fmt.Errorf("webhook delivery: %w", err)
		}
		body, err := json.Marshal(payload{ID: id, Event: event, OccurredAt: at, ReplayOf: replayOf, Data: data})
		if err != nil {
			return err
		}
		ref, _ := json.Marshal(map[string]int64{"delivery_id": id, "subscription_id": sub.ID})
		oid, err := s.outbox.Enqueue(ctx, notify.Message{Channel: Channel, Kind: "webhook." + event, Recipient: sub.URL, Subject: event,
			Entity: "webhook_delivery", EntityID: strconv.FormatInt(id, 10), Data: ref})
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `UPDATE webhook_deliveries SET payload = $1, outbox_id = $2 WHERE id = $3`, string(body), oid, id)
		return err
	})
	return id, err
}

const deliveryColumns = `d.id, d.subscription_id, d.event, d.occurred_at, COALESCE(o.state, 'queued'), d.attempts, d.last_status,
	d.last_answer, d.last_error, d.last_duration_ms, d.last_attempt_at, d.delivered_at, o.next_at, COALESCE(d.outbox_id, 0),
	COALESCE(d.replay_of, 0), d.created_at, d.payload`

func scanDelivery(sc interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var last, done, next sql.NullTime
	var body string
	err := sc.Scan(&d.ID, &d.SubscriptionID, &d.Event, &d.OccurredAt, &d.State, &d.Attempts, &d.LastStatus, &d.LastAnswer, &d.LastError,
		&d.LastDurationMS, &last, &done, &next, &d.OutboxID, &d.ReplayOf, &d.CreatedAt, &body)
	if err != nil {
		return d, err
	}
	d.OccurredAt, d.CreatedAt = d.OccurredAt.UTC(), d.CreatedAt.UTC()
	d.LastAttemptAt, d.DeliveredAt = timePtr(last), timePtr(done)
	if d.State == notify.StateQueued {
		d.NextAt = timePtr(next)
	}
	d.Payload = json.RawMessage(body)
	if !json.Valid(d.Payload) {
		d.Payload = json.RawMessage("null")
	}
	d.Log = []Attempt{}
	return d, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Deliveries returns a subscription's deliveries, newest first, before the
// id before (0: from the newest), with their attempts.
func (s *Store) Deliveries(ctx context.Context, subID, before int64, limit int) ([]Delivery, error) {
	// A deleted subscription's log stays readable.
	var n int
	if err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM webhook_subscriptions WHERE id = $1`, subID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("webhook %d: %w", subID, domain.ErrNotFound)
	}
	if before <= 0 {
		before = 1<<62 - 1
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d LEFT JOIN outbox o ON o.id = d.outbox_id
		WHERE d.subscription_id = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3`, subID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	out := []Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.fillLog(ctx, out)
}

// fillLog reads the attempts of the deliveries in one statement.
func (s *Store) fillLog(ctx context.Context, ds []Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	at := map[int64]int{}
	for i, d := range ds {
		at[d.ID] = i
	}
	lo, hi := ds[len(ds)-1].ID, ds[0].ID
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT a.delivery_id, a.at, a.status, a.answer, a.error, a.duration_ms
		FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
		WHERE d.subscription_id = $1 AND a.delivery_id BETWEEN $2 AND $3 ORDER BY a.id`, ds[0].SubscriptionID, lo, hi)
	if err != nil {
		return fmt.Errorf("webhook attempts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a Attempt
		if err := rows.Scan(&id, &a.At, &a.Status, &a.Answer, &a.Error, &a.DurationMS); err != nil {
			return err
		}
		a.At = a.At.UTC()
		if i, ok := at[id]; ok {
			ds[i].Log = append(ds[i].Log, a)
		}
	}
	return rows.Err()
}

// Delivery returns one delivery of a subscription, with its attempts.
func (s *Store) Delivery(ctx context.Context, subID, id int64) (Delivery, error) {
	d, err := scanDelivery(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d LEFT JOIN outbox o ON o.id = d.outbox_id
		WHERE d.subscription_id = $1 AND d.id = $2`, subID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Delivery{}, fmt.Errorf("webhook delivery %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Delivery{}, err
	}
	ds := []Delivery{d}
	return ds[0], s.fillLog(ctx, ds)
}

// Replay sends a delivery's event again as a new delivery (a new id, the
// same event, time and data; replay_of names the first), to the
// subscription as it is now.
func (s *Store) Replay(ctx context.Context, subID, deliveryID int64) (Delivery, error) {
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		sub, err := s.Get(ctx, subID)
		if err != nil {
			return err
		}
		var event, data string
		var at time.Time
		err = s.db.Q(ctx).QueryRowContext(ctx, `SELECT event, occurred_at, data FROM webhook_deliveries WHERE id = $1 AND subscription_id = $2`,
			deliveryID, subID).Scan(&event, &at, &data)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("webhook delivery %d: %w", deliveryID, domain.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if id, err = s.enqueue(ctx, sub, event, at.UTC(), json.RawMessage(data), deliveryID); err != nil {
			return err
		}
		return s.audit.Record(ctx, "webhook.replay", "webhook", fmt.Sprint(subID), map[string]audit.Change{
			"delivery": {Before: deliveryID, After: id}})
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("replay webhook delivery: %w", err)
	}
	return s.Delivery(ctx, subID, id)
}
