package surveys

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
}

// SendDue sends every survey due now, a batch per transaction: each batch
// claims its rows (FOR UPDATE SKIP LOCKED on PostgreSQL, the one writer on
// SQLite) and moves each from planned to sent or suppressed by a statement
// that still requires planned, so that two servers racing write one outbox
// row per survey (the outbox's dedupe key would refuse a second anyway).
func (s *Store) SendDue(ctx context.Context) (Report, error) {
	var total Report
	for {
		rep, n, err := s.sendBatch(ctx)
		total.Sent += rep.Sent
		total.Suppressed += rep.Suppressed
		if err != nil || n < s.Batch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
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
		rows, err := q.QueryContext(ctx, `SELECT s.id, s.customer_id, COALESCE(s.ticket_id, 0), COALESCE(t.number, ''), COALESCE(t.subject, ''), c.name
			FROM surveys s JOIN customers c ON c.id = s.customer_id LEFT JOIN tickets t ON t.id = s.ticket_id
			WHERE s.state = 'planned' AND s.due_at <= $1 ORDER BY s.due_at, s.id LIMIT $2`+lock, now, s.Batch)
		if err != nil {
			return fmt.Errorf("due surveys: %w", err)
		}
		var batch []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.customerID, &d.ticketID, &d.number, &d.subject, &d.name); err != nil {
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
	lang, err := s.language(ctx, d.customerID)
	if err != nil {
		return false, err
	}
	expires := now.Add(time.Duration(st.ExpiryDays) * 24 * time.Hour)
	res, err := q.ExecContext(ctx, `UPDATE surveys SET state = 'sent', channel = $2, language = $3, token_hash = $4, sent_at = $5, expires_at = $6
		WHERE id = $1 AND state = 'planned'`, d.id, c.Channel, lang, hash, now, expires)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil // another server took it
	}
	m := s.message(d, c, lang, token)
	oid, err := s.outbox.Enqueue(ctx, m)
	if err != nil {
		return false, err
	}
	_, err = q.ExecContext(ctx, `UPDATE surveys SET outbox_id = $2 WHERE id = $1`, d.id, oid)
	return true, err
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

// language is the customer's: their portal account's choice, else the
// house's default.
func (s *Store) language(ctx context.Context, customerID int64) (string, error) {
	var l string
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT locale FROM portal_accounts WHERE customer_id = $1 AND locale <> '' ORDER BY id LIMIT 1`,
		customerID).Scan(&l)
	if errors.Is(err, sql.ErrNoRows) {
		return i18n.Default, nil
	}
	if err != nil {
		return "", err
	}
	if n := i18n.Normalize(l); n != "" {
		return n, nil
	}
	return i18n.Default, nil
}
