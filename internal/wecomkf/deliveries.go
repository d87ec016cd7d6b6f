package wecomkf

import (
	"context"
	"fmt"
	"strings"

	"github.com/careloop/careloop/internal/notify"
)

// Delivery is what became of a reply to a WeChat user, for the ticket
// page.
type Delivery struct {
	// Key is the catalog key of the line under the reply
	// (wecomkf.delivery.sent, .pending, .out_of_window, .limit, .failed).
	Key    string
	Reason string // the outbox's last error, for .failed
}

// Sent tells whether the user has the reply.
func (d Delivery) Sent() bool { return d.Key == "wecomkf.delivery.sent" }

// Deliveries tells, for the reply messages among ids, how their 微信客服
// message went; replies that did not go that way are absent.
func (s *Store) Deliveries(ctx context.Context, ids []int64) (map[int64]Delivery, error) {
	out := map[int64]Delivery{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]any, len(ids)+1)
	marks := make([]string, len(ids))
	byKey := map[string]int64{}
	keys[0] = ChannelName
	for i, id := range ids {
		keys[i+1] = DedupeKey(id)
		marks[i] = fmt.Sprintf("$%d", i+2)
		byKey[DedupeKey(id)] = id
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT dedupe_key, state, COALESCE(last_error, '')
		FROM outbox WHERE channel = $1 AND dedupe_key IN (`+strings.Join(marks, ", ")+`)`, keys...)
	if err != nil {
		return nil, fmt.Errorf("wecomkf: deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, state, why string
		if err := rows.Scan(&key, &state, &why); err != nil {
			return nil, err
		}
		d := Delivery{Key: "wecomkf.delivery.failed", Reason: why}
		switch {
		case state == notify.StateSent:
			d = Delivery{Key: "wecomkf.delivery.sent"}
		case state == notify.StateQueued || state == notify.StateSending:
			d = Delivery{Key: "wecomkf.delivery.pending"}
		case state == notify.StateSuppressed && strings.Contains(why, ErrOutOfWindow.Error()):
			d = Delivery{Key: "wecomkf.delivery.out_of_window"}
		case state == notify.StateSuppressed && strings.Contains(why, ErrLimit.Error()):
			d = Delivery{Key: "wecomkf.delivery.limit"}
		}
		out[byKey[key]] = d
	}
	return out, rows.Err()
}
