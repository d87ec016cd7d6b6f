package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/timeline"
)

const messageColumns = `id, channel, kind, COALESCE(dedupe_key, ''), COALESCE(customer_id, 0), COALESCE(user_id, 0), recipient,
	subject, body, html, data, transactional, entity, entity_id, state, attempts, next_at, last_error, provider_id, created_at, sent_at`

func scanMessage(sc interface{ Scan(...any) error }) (Message, error) {
	var m Message
	var data string
	var sent sql.NullTime
	err := sc.Scan(&m.ID, &m.Channel, &m.Kind, &m.DedupeKey, &m.CustomerID, &m.UserID, &m.Recipient, &m.Subject, &m.Body, &m.HTML,
		&data, &m.Transactional, &m.Entity, &m.EntityID, &m.State, &m.Attempts, &m.NextAt, &m.LastError, &m.ProviderID, &m.CreatedAt, &sent)
	if err != nil {
		return m, err
	}
	m.Data = []byte(data)
	m.NextAt, m.CreatedAt = m.NextAt.UTC(), m.CreatedAt.UTC()
	if sent.Valid {
		t := sent.Time.UTC()
		m.SentAt = &t
	}
	return m, nil
}

// The dispatcher's queries walk the partial indexes of queued and leased
// rows. SQLite's planner, without statistics, prefers outbox_state for the
// equality on state and then reads every queued row — rows waiting out a
// retry's backoff too — and sorts them, once per claim: with a few thousand
// retries waiting that was a sixth of a busy server's CPU (docs/performance.md).
// PostgreSQL's statistics find the partial indexes; its claimers skip the
// rows another server has locked.

func outboxIndex(d db.Dialect, name string) string {
	if d == db.SQLite {
		return " INDEXED BY " + name
	}
	return ""
}

func skipLocked(d db.Dialect) string {
	if d == db.Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

func anyDueQuery(d db.Dialect) string {
	return `SELECT EXISTS (SELECT 1 FROM outbox` + outboxIndex(d, "outbox_due") + ` WHERE state = 'queued' AND next_at <= $1)
		OR EXISTS (SELECT 1 FROM outbox` + outboxIndex(d, "outbox_leased") + ` WHERE state = 'sending' AND lease_until <= $1)`
}

func releaseQuery(d db.Dialect) string {
	return `UPDATE outbox SET state = 'queued', next_at = $1,
		last_error = 'lease expired during delivery (the server stopped?)'
		WHERE id IN (SELECT id FROM outbox` + outboxIndex(d, "outbox_leased") + ` WHERE state = 'sending' AND lease_until <= $1 LIMIT 100` + skipLocked(d) + `)`
}

func claimQuery(d db.Dialect) string {
	return `UPDATE outbox SET state = 'sending', lease_until = $1, claimed_by = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM outbox` + outboxIndex(d, "outbox_due") + ` WHERE state = 'queued' AND next_at <= $3 ORDER BY next_at, id LIMIT $4` + skipLocked(d) + `)
		RETURNING ` + messageColumns
}

// claim takes up to n due rows for this server: queued rows whose time has
// come, and rows whose claimer's lease ran out (it died mid-delivery).
func (o *Outbox) claim(ctx context.Context, n int) ([]Message, error) {
	now := db.Now(o.clock.Now())
	lease := now.Add(o.opts.Lease)
	// An idle outbox costs a read, not a write transaction (SQLite's one
	// writer) per poll.
	var due bool
	if err := o.db.R.QueryRowContext(ctx, anyDueQuery(o.db.Dialect), now).Scan(&due); err != nil {
		return nil, fmt.Errorf("outbox: look for due rows: %w", err)
	}
	if !due {
		return nil, nil
	}
	var out []Message
	err := o.db.WithTx(ctx, func(ctx context.Context) error {
		q := o.db.Q(ctx)
		// A lease that ran out: its server stopped during the delivery;
		// whether the channel got the message is unknown (see doc.go).
		if _, err := q.ExecContext(ctx, releaseQuery(o.db.Dialect), now); err != nil {
			return fmt.Errorf("outbox: release expired leases: %w", err)
		}
		rows, err := q.QueryContext(ctx, claimQuery(o.db.Dialect), lease, o.opts.Name, now, n)
		if err != nil {
			return fmt.Errorf("outbox: claim: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// outcome is what one delivery came to.
type outcome struct {
	m          Message
	providerID string
	err        error
}

// RunOnce claims one batch of due rows, delivers them and records the
// outcomes; it returns how many rows it handled. Tests drive the outbox
// with it (and a fake clock); Run calls it in a loop.
func (o *Outbox) RunOnce(ctx context.Context) (int, error) {
	batch, err := o.claim(ctx, o.opts.Batch)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	results := make([]outcome, len(batch))
	var local []int
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.opts.Workers)
	for i := range batch {
		if _, ok := o.channel(batch[i].Channel).(Local); ok {
			local = append(local, i)
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			results[i] = o.deliver(ctx, &batch[i])
		}(i)
	}
	wg.Wait()
	return len(batch), o.record(context.WithoutCancel(ctx), batch, results, local)
}

// deliver asks consent, then the channel. A panic in a channel is a failed
// attempt, not a dead server.
func (o *Outbox) deliver(ctx context.Context, m *Message) (res outcome) {
	res.m = *m
	defer func() {
		if p := recover(); p != nil {
			res.err = fmt.Errorf("channel %s panicked: %v", m.Channel, p)
		}
	}()
	ch := o.channel(m.Channel)
	if ch == nil {
		res.err = fmt.Errorf("no channel %q is configured", m.Channel)
		return res
	}
	o.mu.RLock()
	consent := o.consent
	o.mu.RUnlock()
	if m.CustomerID != 0 && consent != nil {
		ok, err := consent(ctx, m.CustomerID, m.Channel, m.Transactional)
		if err != nil {
			res.err = fmt.Errorf("consent: %w", err)
			return res
		}
		if !ok {
			res.err = fmt.Errorf("the customer may not be contacted on %s: %w", m.Channel, ErrSuppressed)
			return res
		}
	}
	dctx, cancel := context.WithTimeout(ctx, o.opts.Timeout)
	defer cancel()
	res.providerID, res.err = ch.Deliver(dctx, m)
	return res
}

// backoff is the wait after attempt n failed: Backoff·2^(n-1), at most an
// hour.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.opts.Backoff
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// record writes the outcomes of one batch in one transaction (one commit
// for a hundred deliveries), each only if this server still holds the row.
// The rows of Local channels (indexes local of batch) are delivered here,
// in the same transaction.
func (o *Outbox) record(ctx context.Context, batch []Message, results []outcome, local []int) error {
	now := db.Now(o.clock.Now())
	return o.db.WithTx(ctx, func(ctx context.Context) error {
		q := o.db.Q(ctx)
		for _, i := range local {
			// A failed delivery rolls back to its savepoint (on
			// PostgreSQL a failed statement would end the transaction).
			if err := o.db.Savepoint(ctx, func(ctx context.Context) error {
				results[i] = o.deliver(ctx, &batch[i])
				return results[i].err
			}); err != nil && results[i].err == nil {
				results[i] = outcome{m: batch[i], err: err}
			}
		}
		for _, r := range results {
			m := r.m
			var state, errText string
			next := m.NextAt
			var sentAt any
			var perm *PermanentError
			var later *DeferredError
			uncount := 0
			switch {
			case r.err == nil:
				state, sentAt = StateSent, now
			case errors.As(r.err, &later):
				// Held, not failed: the attempt is given back.
				state, errText, next, uncount = StateQueued, r.err.Error(), db.Now(later.Until), 1
			case errors.Is(r.err, ErrSuppressed):
				state, errText = StateSuppressed, r.err.Error()
			case errors.As(r.err, &perm) || m.Attempts >= o.opts.MaxAttempts:
				state, errText = StateDead, r.err.Error()
			default:
				state, errText = StateQueued, r.err.Error()
				next = now.Add(o.backoff(m.Attempts))
			}
			res, err := q.ExecContext(ctx, `UPDATE outbox SET state = $1, next_at = $2, last_error = $3, provider_id = $4, sent_at = $5,
				lease_until = NULL, attempts = attempts - $8 WHERE id = $6 AND state = 'sending' AND claimed_by = $7`,
				state, next, truncate(errText, 1000), r.providerID, sentAt, m.ID, o.opts.Name, uncount)
			if err != nil {
				return fmt.Errorf("outbox: record %d: %w", m.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // the lease ran out and another server has it
			}
			if m.CustomerID != 0 && state != StateQueued {
				if err := o.logDelivery(ctx, m, state, r.err); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// logDelivery puts the outcome on the customer's timeline.
func (o *Outbox) logDelivery(ctx context.Context, m Message, state string, cause error) error {
	if o.timeline == nil {
		return nil
	}
	kind, params := "outbox."+state, map[string]any{"Channel": m.Channel, "Subject": truncate(m.Subject, 120), "Recipient": m.Recipient}
	var rerouted *ReroutedError
	if state == StateSuppressed && errors.As(cause, &rerouted) {
		kind, params["Via"] = "outbox.rerouted", rerouted.To
	}
	return o.timeline.Append(ctx, timeline.Event{CustomerID: m.CustomerID, Kind: kind,
		Key: "timeline." + strings.ReplaceAll(kind, ".", "_"), Params: params, Entity: "outbox", EntityID: fmt.Sprint(m.ID)})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// Run delivers until ctx ends: a batch after another while full batches
// are due, else a wait for the poll interval, or for Nudge and then Gather.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTicker(o.opts.Poll)
	defer t.Stop()
	for ctx.Err() == nil {
		n, err := o.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			// The database is away; the next poll tries again.
			n = 0
		}
		if n >= o.opts.Batch {
			continue // a full batch: more may be due
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-o.wake:
			// Rows come in bursts (a ticket's notices, a busy hour's
			// creations). Waiting a moment claims and records a burst in
			// two write transactions instead of two for each row, and on
			// SQLite's one writer those are what requests wait behind.
			gather := time.NewTimer(o.opts.Gather)
			select {
			case <-ctx.Done():
			case <-gather.C:
			}
			gather.Stop()
		}
	}
}
