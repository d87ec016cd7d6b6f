package surveys

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/reach"
)

// Kind is the outbox kind of a survey message (and the SMS template's
// kind, docs/sms.md).
const Kind = "survey"

// DedupeKey is the outbox key of a survey: one message per survey, however
// many servers send.
func DedupeKey(id int64) string { return fmt.Sprintf("survey:%d", id) }

// Report counts what one SendDue did.
type Report struct {
	Sent       int
	Suppressed int
}

// due is a planned survey with what its message says.
type due struct {
	id, customerID, ticketID int64
	number, subject, name    string
	locale                   string // the customer's portal language, "" when none
}

// SendDue sends every survey due now, a batch per transaction: each batch
// claims its rows (FOR UPDATE SKIP LOCKED on PostgreSQL, the one writer on
// SQLite) and moves each from planned to sent or suppressed by a statement
// that still requires planned, so that two servers racing write one outbox
// row per survey (the outbox's dedupe key would refuse a second anyway).
// On PostgreSQL, Workers batches run at once (SKIP LOCKED keeps them
// apart): each survey costs a few round trips, which one connection would
// wait for in turn.
func (s *Store) SendDue(ctx context.Context) (Report, error) {
	workers := 1
	if s.db.Dialect == db.Postgres && s.Workers > 1 {
		workers = s.Workers
	}
	var (
		mu    sync.Mutex
		total Report
		first error
		wg    sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				rep, n, err := s.sendBatch(ctx)
				mu.Lock()
				total.Sent += rep.Sent
				total.Suppressed += rep.Suppressed
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
				if err != nil || n < s.Batch || ctx.Err() != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return total, first
}

func (s *Store) sendBatch(ctx context.Context) (Report, int, error) {
	var rep Report
	var n int
	st := s.current(ctx)
	now := db.Now(s.clock.Now())
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		rep, n = Report{}, 0
		q := s.db.Q(ctx)
		lock := ""
		if s.db.Dialect == db.Postgres {
			lock = " FOR UPDATE OF s SKIP LOCKED"
		}
		rows, err := q.QueryContext(ctx, `SELECT s.id, s.customer_id, COALESCE(s.ticket_id, 0), COALESCE(t.number, ''), COALESCE(t.subject, ''), c.name,
			COALESCE((SELECT p.locale FROM portal_accounts p WHERE p.customer_id = s.customer_id AND p.locale <> '' ORDER BY p.id LIMIT 1), '')
			FROM surveys s JOIN customers c ON c.id = s.customer_id LEFT JOIN tickets t ON t.id = s.ticket_id
			WHERE s.state = 'planned' AND s.due_at <= $1 ORDER BY s.due_at, s.id LIMIT $2`+lock, now, s.Batch)
		if err != nil {
			return fmt.Errorf("due surveys: %w", err)
		}
		var batch []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.customerID, &d.ticketID, &d.number, &d.subject, &d.name, &d.locale); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n = len(batch)
		for _, d := range batch {
			sent, err := s.sendOne(ctx, st, d, now)
			if err != nil {
				return fmt.Errorf("survey %d: %w", d.id, err)
			}
			if sent {
				rep.Sent++
			} else {
				rep.Suppressed++
			}
		}
		return nil
	})
	return rep, n, err
}

// sendOne sends or suppresses one survey in the batch's transaction.
func (s *Store) sendOne(ctx context.Context, st Settings, d due, now time.Time) (bool, error) {
	q := s.db.Q(ctx)
	suppress := func(reason string) (bool, error) {
		_, err := q.ExecContext(ctx, `UPDATE surveys SET state = 'suppressed', reason = $2 WHERE id = $1 AND state = 'planned'`, d.id, reason)
		return false, err
	}
	if st.SuppressDays > 0 {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM surveys WHERE customer_id = $1 AND sent_at >= $2 AND id <> $3 LIMIT 1`,
			d.customerID, now.Add(-time.Duration(st.SuppressDays)*24*time.Hour), d.id).Scan(&one)
		if err == nil {
			return suppress("surveys.suppressed.recent")
		} else if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	c, err := s.reach.Choose(ctx, d.customerID, reach.Survey)
	var un *reach.UnreachableError
	switch {
	case errors.As(err, &un):
		return suppress(strings.Join(append(un.Skipped, "reach.unreachable"), ","))
	case errors.Is(err, domain.ErrNotFound):
		return suppress("surveys.suppressed.no_customer")
	case err != nil:
		return false, err
	}
	token, hash, err := newToken()
	if err != nil {
		return false, err
	}
	lang := i18n.Normalize(d.locale)
	if lang == "" {
		lang = i18n.Default
	}
	// The batch holds these rows (locked on PostgreSQL, the one writer on
	// SQLite), so the message can be written before the row is moved, and
	// one statement moves it with the message's id.
	oid, err := s.outbox.Enqueue(ctx, s.message(d, c, lang, token))
	if err != nil {
		return false, err
	}
	expires := now.Add(time.Duration(st.ExpiryDays) * 24 * time.Hour)
	res, err := q.ExecContext(ctx, `UPDATE surveys SET state = 'sent', channel = $2, language = $3, token_hash = $4, sent_at = $5, expires_at = $6,
		outbox_id = $7 WHERE id = $1 AND state = 'planned'`, d.id, c.Channel, lang, hash, now, expires, oid)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// Never while the batch holds the row; should it happen, the
		// transaction is undone, message included.
		return false, fmt.Errorf("survey %d was moved by someone else", d.id)
	}
	return true, nil
}

// Link is the survey page's address for a token.
func (s *Store) Link(token string) string { return s.base + "/s/" + token }

// message is the outbox row of a survey on the chosen channel, in lang.
func (s *Store) message(d due, c reach.Choice, lang, token string) notify.Message {
	link := s.Link(token)
	params := map[string]any{"Number": d.number, "Subject": d.subject, "Name": d.name, "Link": link}
	m := notify.Message{Channel: c.Channel, Kind: Kind, DedupeKey: DedupeKey(d.id), CustomerID: d.customerID, Recipient: c.Address,
		Entity: "survey", EntityID: fmt.Sprint(d.id)}
	switch c.Channel {
	case reach.SMS:
		m.Body = s.cat.T(lang, "surveys.message.sms", params)
		// The template's variables (internal/sms): a provider's variable
		// holds 12–35 characters, so the token (22) is one of its own and
		// the template carries the address before it.
		m.Data, _ = json.Marshal(map[string]any{"vars": map[string]string{"number": d.number, "token": token, "link": link}})
	case reach.WeChat:
		m.Subject = s.cat.T(lang, "surveys.message.subject", params)
		m.Body = s.cat.T(lang, "surveys.message.text", params)
		m.Data, _ = json.Marshal(map[string]any{"account": c.Params["account"], "ticket_id": d.ticketID})
	default:
		m.Subject = s.cat.T(lang, "surveys.message.subject", params)
		m.Body = s.cat.T(lang, "surveys.message.email", params)
		m.Data = json.RawMessage(`{"auto":true}`)
	}
	return m
}
