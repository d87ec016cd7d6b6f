package wechat

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/notify"
)

// Delivery is what became of a reply to a follower, for the ticket page.
type Delivery struct {
	// Key is the catalog key of the line under the reply
	// (wechat.delivery.sent, .template, .pending, .out_of_window, .failed).
	Key    string
	Reason string // the outbox's last error, for .failed
	// Params fill the key's message (the fallback's channel, an errcode).
	Params map[string]any
	// OK: the customer has it, or will (not shown as a warning).
	OK bool
}

// Deliveries tells, for the reply messages among ids, how their WeChat
// message went; replies that did not go to WeChat are absent. A reply
// handed to another channel names it (and how that went); a failure names
// its reason as a catalog key (window closed, unsubscribed, the platform's
// errcode, the platform unreachable), never the raw error.
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
		var d Delivery
		switch {
		case state == notify.StateSent && provider == ProviderTemplate:
			d = Delivery{Key: "wechat.delivery.template", OK: true}
		case state == notify.StateSent:
			d = Delivery{Key: "wechat.delivery.sent", OK: true}
		case (state == notify.StateQueued || state == notify.StateSending) && why == "":
			d = Delivery{Key: "wechat.delivery.pending"}
		case state == notify.StateSuppressed && strings.Contains(why, ErrUnsubscribed.Error()):
			d = Delivery{Key: "wechat.delivery.unsubscribed"}
		case state == notify.StateSuppressed && strings.Contains(why, ErrOutOfWindow.Error()):
			d = Delivery{Key: "wechat.delivery.out_of_window"}
		default:
			d = failure(why)
		}
		out[byKey[key]] = d
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.fallbacks(ctx, ids, out)
}

var errcodeRe = regexp.MustCompile(`errcode (-?\d+)`)

// failure names what kept a reply from the platform.
func failure(why string) Delivery {
	switch m := errcodeRe.FindStringSubmatch(why); {
	case m != nil && m[1] == fmt.Sprint(CodeUnsubscribed):
		return Delivery{Key: "wechat.delivery.unsubscribed"}
	case m != nil && m[1] == fmt.Sprint(CodeOutOfWindow):
		return Delivery{Key: "wechat.delivery.out_of_window"}
	case m != nil:
		return Delivery{Key: "wechat.delivery.platform_error", Params: map[string]any{"Code": m[1]}}
	case strings.Contains(why, ErrUnknownAccount.Error()) || strings.Contains(why, "app secret"):
		return Delivery{Key: "wechat.delivery.account_error"}
	}
	return Delivery{Key: "wechat.delivery.platform_down"}
}

// fallbacks replaces, for replies handed to another channel, the line by
// the channel that took it (and whether that went) or by why none could.
func (s *Store) fallbacks(ctx context.Context, ids []int64, out map[int64]Delivery) error {
	got, err := Fallbacks(ctx, s.db, ids)
	if err != nil {
		return err
	}
	for id, f := range got {
		suffix := ""
		if f.Reason == ReasonUnsubscribed {
			suffix = "_unsubscribed"
		}
		switch {
		case f.Channel == "":
			out[id] = Delivery{Key: "wechat.delivery.unreachable" + suffix, Params: map[string]any{"Why": f.Why}}
		case f.Failed():
			out[id] = Delivery{Key: "wechat.delivery.fallback_failed", Params: map[string]any{"Channel": f.Channel}}
		default:
			out[id] = Delivery{Key: "wechat.delivery.fallback" + suffix, Params: map[string]any{"Channel": f.Channel}, OK: true}
		}
	}
	return nil
}

// HandedOn is a reply that a WeChat channel handed to its fallback
// (Reroute's wechat_reply_fallbacks row).
type HandedOn struct {
	Reason  string   // ReasonWindowClosed, ReasonUnsubscribed, ReasonLimit
	Channel string   // the channel that took it, "" when none could
	Why     []string // reach's catalog keys of the channels skipped (and the one chosen)
	State   string   // its outbox row's state on that channel ("" for none)
}

// Failed tells whether the other channel could not send it either.
func (h HandedOn) Failed() bool {
	return h.State == notify.StateDead || h.State == notify.StateSuppressed
}

// Fallbacks are, among the reply messages ids, those handed to the
// fallback and how that went (both WeChat channels' delivery lines).
func Fallbacks(ctx context.Context, d *db.DB, ids []int64) (map[int64]HandedOn, error) {
	out := map[int64]HandedOn{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	marks := make([]string, len(ids))
	for i, id := range ids {
		args[i] = id
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	n := len(ids)
	rows, err := d.RQ(ctx).QueryContext(ctx, fmt.Sprintf(`SELECT f.message_id, f.reason, f.channel, f.choice, COALESCE(o.state, '')
		FROM wechat_reply_fallbacks f
		LEFT JOIN outbox o ON o.channel = f.channel AND o.dedupe_key = CASE f.channel WHEN 'sms' THEN $%d || CAST(f.message_id AS TEXT)
			ELSE $%d || CAST(f.message_id AS TEXT) END
		WHERE f.message_id IN (%s)`, n+1, n+2, strings.Join(marks, ", ")), append(args, "ticket_reply_sms:", "ticket_reply:")...) // SMSDedupeKey, email.Replies' key
	if err != nil {
		return nil, fmt.Errorf("wechat: fallbacks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var h HandedOn
		var choice string
		if err := rows.Scan(&id, &h.Reason, &h.Channel, &choice, &h.State); err != nil {
			return nil, err
		}
		if choice != "" {
			h.Why = strings.Split(choice, ",")
		}
		out[id] = h
	}
	return out, rows.Err()
}

// MediaNotes tells, for the customer messages among ids that were an image
// or voice, what became of the file while it is not attached: downloading
// (.pending_<kind>, OK), expired (.expired_<kind>) or refused (the note's
// key). Attached files are the message's attachments and need no line.
func (s *Store) MediaNotes(ctx context.Context, ids []int64) (map[int64]Delivery, error) {
	out := map[int64]Delivery{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	marks := make([]string, len(ids))
	for i, id := range ids {
		args[i] = id
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT message_id, kind, state, note FROM wechat_media
		WHERE state <> 'attached' AND message_id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("wechat: media notes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var kind, state, note string
		if err := rows.Scan(&id, &kind, &state, &note); err != nil {
			return nil, err
		}
		switch {
		case state == MediaPending:
			out[id] = Delivery{Key: "wechat.media.pending_" + kind, OK: true}
		case note != "":
			out[id] = Delivery{Key: note}
		default:
			out[id] = Delivery{Key: "wechat.media.gave_up"}
		}
	}
	return out, rows.Err()
}
