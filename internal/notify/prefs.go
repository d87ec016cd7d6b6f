package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Events a staff member is notified of, in the settings page's order.
const (
	EventAssigned       = "assigned"        // a ticket was given to them (not by themselves)
	EventMentioned      = "mentioned"       // @-mentioned in an internal note
	EventCustomerReply  = "customer_reply"  // the customer wrote on their ticket (or one they follow)
	EventCommitmentDue  = "commitment_due"  // their promise to a customer is due soon or overdue
	EventMajorComplaint = "major_complaint" // managers: a major complaint was reported
	EventSLAWarning     = "sla_warning"     // an SLA target of their ticket is about to be due
	EventSLABreach      = "sla_breach"      // an SLA target was breached (owner, supervisor, management)
	EventSurveyUnhappy  = "survey_unhappy"  // supervisors: an unhappy survey answer needs their follow-up
)

// NoticeEvents lists the events of the preferences.
var NoticeEvents = []string{EventAssigned, EventMentioned, EventCustomerReply, EventCommitmentDue, EventMajorComplaint,
	EventSLAWarning, EventSLABreach, EventSurveyUnhappy}

// NoticeChannels lists the channels a staff member can choose per event.
// A new channel (sms, wecom, dingtalk) is a line here, a default in
// defaultPrefs, and a catalog key notify.channel.<name>.
//
// wecom (a WeCom application message) reaches only staff whose WeCom user
// id is on file, while a WeCom application is set up (Staff.WeCom); it is
// off by default: each person turns it on for the events they want there.
var NoticeChannels = []string{ChannelInApp, ChannelEmail, ChannelWeCom}

// Prefs maps an event to its channels, on or off: {"assigned": {"inapp":
// true, "email": true}, …}. Read ones are complete (every event and
// channel); a change may name only some.
type Prefs map[string]map[string]bool

// DefaultPrefs: in-app for everything; email for assignments, mentions,
// major complaints and SLA breaches.
func DefaultPrefs() Prefs {
	p := Prefs{}
	for _, e := range NoticeEvents {
		p[e] = map[string]bool{ChannelInApp: true, ChannelEmail: false, ChannelWeCom: false}
	}
	for _, e := range []string{EventAssigned, EventMentioned, EventMajorComplaint, EventSLABreach} {
		p[e][ChannelEmail] = true
	}
	return p
}

// Prefs returns userID's preferences: the defaults with their choices over
// them.
func (i *Inbox) Prefs(ctx context.Context, userID int64) (Prefs, error) {
	p := DefaultPrefs()
	var raw string
	err := i.db.RQ(ctx).QueryRowContext(ctx, `SELECT settings FROM notification_settings WHERE user_id = $1`, userID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notification settings: %w", err)
	}
	var stored Prefs
	_ = json.Unmarshal([]byte(raw), &stored)
	p.merge(stored)
	return p, nil
}

// merge puts the known events and channels of in over p.
func (p Prefs) merge(in Prefs) {
	for e, chans := range in {
		if _, ok := p[e]; !ok {
			continue
		}
		for ch, on := range chans {
			if slices.Contains(NoticeChannels, ch) {
				p[e][ch] = on
			}
		}
	}
}

// Validate names the first unknown event or channel of a change.
func (p Prefs) Validate() error {
	var v domain.ValidationError
	for _, e := range sortedKeys(p) {
		if !slices.Contains(NoticeEvents, e) {
			v.Add("settings."+e, "validation.notify_event", map[string]any{"Event": e})
			continue
		}
		for _, ch := range sortedKeys(p[e]) {
			if !slices.Contains(NoticeChannels, ch) {
				v.Add("settings."+e+"."+ch, "validation.notify_channel", map[string]any{"Channel": ch})
			}
		}
	}
	return v.Err()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// SetPrefs changes userID's preferences (only the events and channels
// named) and returns them whole. Audited.
func (i *Inbox) SetPrefs(ctx context.Context, userID int64, change Prefs) (Prefs, error) {
	if err := change.Validate(); err != nil {
		return nil, err
	}
	var out Prefs
	err := i.db.WithTx(ctx, func(ctx context.Context) error {
		before, err := i.Prefs(ctx, userID)
		if err != nil {
			return err
		}
		out = DefaultPrefs()
		out.merge(before)
		out.merge(change)
		body, err := json.Marshal(out)
		if err != nil {
			return err
		}
		if _, err := i.db.Q(ctx).ExecContext(ctx, `INSERT INTO notification_settings (user_id, settings, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
			userID, string(body), db.Now(i.clock.Now())); err != nil {
			return fmt.Errorf("save notification settings: %w", err)
		}
		changes := map[string]audit.Change{}
		for _, e := range NoticeEvents {
			for _, ch := range NoticeChannels {
				if before[e][ch] != out[e][ch] {
					changes[e+"."+ch] = audit.Change{Before: before[e][ch], After: out[e][ch]}
				}
			}
		}
		if len(changes) == 0 || i.audit == nil {
			return nil
		}
		return i.audit.Record(ctx, "notify.settings", "user", fmt.Sprint(userID), changes)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
