package customers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/timeline"
)

// Interaction is a contact with the customer that an agent records by hand:
// a call, a visit, a message. It goes on the timeline (kind contact.logged)
// and moves the customer's last contact.
type Interaction struct {
	Channel string `json:"channel"`
	Note    string `json:"note,omitempty"`
	// At is when it happened (business time); zero means now. Not in the
	// future.
	At time.Time `json:"at,omitzero"`
}

// LogInteraction records an interaction with customer id.
func (s *Store) LogInteraction(ctx context.Context, id int64, in Interaction) error {
	var v domain.ValidationError
	if !slices.Contains(Channels, in.Channel) {
		v.Add("channel", "validation.one_of", map[string]any{"Values": strings.Join(Channels, ", ")})
	}
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > 500 {
		v.Add("note", "validation.too_long", map[string]any{"Max": 500})
	}
	now := s.clock.Now()
	if in.At.After(now) {
		v.Add("at", "validation.date_future", nil)
	}
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		c, err := s.get(ctx, id)
		if err != nil {
			return err
		}
		if c.Erased {
			return domain.Invalid("id", "validation.erased", nil)
		}
		if err := s.audit.Record(ctx, "customer.interaction", "customer", fmt.Sprint(id), map[string]audit.Change{
			"channel": {After: in.Channel}, "note": {After: in.Note}}); err != nil {
			return err
		}
		params := map[string]any{"Channel": in.Channel, "Note": in.Note}
		return s.timeline.Append(ctx, timeline.Event{CustomerID: id, At: in.At, Kind: "contact.logged", Key: "timeline.contact_logged",
			Params: params, Entity: "customer", EntityID: fmt.Sprint(id)})
	})
}
