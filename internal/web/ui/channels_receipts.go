package ui

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/web/httpx"
)

// What the outbox page adds for the channels of issue 13: a filter by
// channel, and an SMS row's delivery receipt (what the provider reported
// the phone did with it, internal/sms/receipts.go) in the list and on the
// row's page.

// outboxChannels are the channels the filter offers, in the order shown.
var outboxChannels = []string{notify.ChannelEmail, notify.ChannelSMS, notify.ChannelInApp, notify.ChannelWeCom, "robot", "webhook", "wechat"}

// outboxChannel reads the filter; an unknown channel is the caller's
// mistake, named as such.
func outboxChannel(r *http.Request) (string, error) {
	ch := r.URL.Query().Get("channel")
	if ch == "" || slices.Contains(outboxChannels, ch) {
		return ch, nil
	}
	return "", domain.Invalid("channel", "validation.one_of", map[string]any{"Values": strings.Join(outboxChannels, ", ")})
}

// receiptView is an SMS row's receipt as the page shows it.
type receiptView struct {
	Found, Delivered bool
	Code, Message    string
	At               time.Time
}

// receipts reads the receipts of the SMS rows among rows (at most a page:
// one indexed read each).
func (u *UI) receipts(ctx context.Context, rows []notify.Message) (map[int64]receiptView, error) {
	out := map[int64]receiptView{}
	if u.SMS == nil {
		return out, nil
	}
	for _, m := range rows {
		if m.Channel != notify.ChannelSMS || m.ProviderID == "" {
			continue
		}
		r, ok, err := u.SMS.ReceiptOf(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			out[m.ID] = receiptView{Found: true, Delivered: r.Delivered, Code: r.Code, Message: r.Message, At: r.At}
		}
	}
	return out, nil
}

type outboxDetail struct {
	M       notify.Message
	Receipt receiptView
}

func (u *UI) outboxShow(w http.ResponseWriter, r *http.Request) {
	id, err := httpx.PathID(r, "id")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	m, err := u.Outbox.Get(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	rs, err := u.receipts(r.Context(), []notify.Message{m})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "outbox_detail", u.page(r, "outbox.detail_title", &outboxDetail{M: m, Receipt: rs[m.ID]}))
}
