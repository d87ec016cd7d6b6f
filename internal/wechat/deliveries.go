package wechat

import (
	"context"
	"fmt"
	"strings"

	"github.com/careloop/careloop/internal/notify"
)

// Delivery is what became of a reply to a follower, for the ticket page.
type Delivery struct {
	// Key is the catalog key of the line under the reply
	// (wechat.delivery.sent, .template, .pending, .out_of_window, .failed).
	Key    string
	Reason string // the outbox's last error, for .failed
}

// Deliveries tells, for the reply messages among ids, how their WeChat
// message went; replies that did not go to WeChat are absent.
func (s *Store) Deliveries(ctx context.Context, ids []int64) (map[int64]Delivery, error) {
	out := map[int64]Delivery{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]any, len(ids))
	marks := make([]string, len(ids))
	byKey := map[string]int64{}
	for i, id := range ids {
		keys[i] = DedupeKey(id)
		marks[i] = fmt.Sprintf("$%d", i+1)
		byKey[DedupeKey(id)] = id
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT dedupe_key, state, COALESCE(provider_id, ''), COALESCE(last_error, '')
		FROM outbox WHERE channel = 'wechat' AND dedupe_key IN (`+strings.Join(marks, ", ")+`)`, keys...)
	if err != nil {
		return nil, fmt.Errorf("wechat: deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, state, provider, why string
		if err := rows.Scan(&key, &state, &provider, &why); err != nil {
			return nil, err
		}
		d := Delivery{Key: "wechat.delivery.failed", Reason: why}
		switch {
		case state == notify.StateSent && provider == ProviderTemplate:
			d = Delivery{Key: "wechat.delivery.template"}
		case state == notify.StateSent:
			d = Delivery{Key: "wechat.delivery.sent"}
		case state == notify.StateQueued || state == notify.StateSending:
			d = Delivery{Key: "wechat.delivery.pending"}
		case state == notify.StateSuppressed && strings.Contains(why, ErrOutOfWindow.Error()):
			d = Delivery{Key: "wechat.delivery.out_of_window"}
		}
		out[byKey[key]] = d
	}
	return out, rows.Err()
}
