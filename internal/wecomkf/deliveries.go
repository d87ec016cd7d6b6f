package wecomkf

import (
	"context"
	"fmt"
	"strings"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/wechat"
)

// Delivery is what became of a reply to a WeChat user, for the ticket
// page.
type Delivery struct {
	// Key is the catalog key of the line under the reply
	// (wecomkf.delivery.sent, .pending, .out_of_window, .limit, .failed,
	// .fallback, .fallback_limit, .fallback_failed).
	Key    string
	Reason string // the outbox's last error, for .failed
	// Note is a second line's key: wecomkf.delivery.no_other_channel
	// when the fallback found no channel (Params' Why says why).
	Note string
	// Params fill the keys' messages: Channel (the fallback's), Why
	// (reach's catalog keys of the channels skipped).
	Params map[string]any
	// OK: the customer has it, or will, here or by the fallback.
	OK bool
}

// Sent tells whether the customer has the reply (or will).
func (d Delivery) Sent() bool { return d.OK }

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
			d = Delivery{Key: "wecomkf.delivery.sent", OK: true}
		case state == notify.StateQueued || state == notify.StateSending:
			d = Delivery{Key: "wecomkf.delivery.pending"}
		case state == notify.StateSuppressed && strings.Contains(why, ErrOutOfWindow.Error()):
			d = Delivery{Key: "wecomkf.delivery.out_of_window"}
		case state == notify.StateSuppressed && strings.Contains(why, ErrLimit.Error()):
			d = Delivery{Key: "wecomkf.delivery.limit"}
		}
		out[byKey[key]] = d
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.fallbacks(ctx, ids, out)
}

// fallbacks replaces, for replies handed to another channel (the rows
// wechat's Reroute keeps for both channels), the line by the channel
// that took it and whether that went; when none could, the reason stays
// and a second line says why no other channel was used.
func (s *Store) fallbacks(ctx context.Context, ids []int64, out map[int64]Delivery) error {
	got, err := wechat.Fallbacks(ctx, s.db, ids)
	if err != nil {
		return err
	}
	for id, f := range got {
		suffix := ""
		if f.Reason == wechat.ReasonLimit {
			suffix = "_limit"
		}
		switch {
		case f.Channel == "":
			d := out[id]
			if d.Key == "" {
				d.Key = "wecomkf.delivery.out_of_window"
			}
			d.Note, d.Params = "wecomkf.delivery.no_other_channel", map[string]any{"Why": f.Why}
			out[id] = d
		case f.Failed():
			out[id] = Delivery{Key: "wecomkf.delivery.fallback_failed", Params: map[string]any{"Channel": f.Channel}}
		default:
			out[id] = Delivery{Key: "wecomkf.delivery.fallback" + suffix, Params: map[string]any{"Channel": f.Channel}, OK: true}
		}
	}
	return nil
}
