package tickets

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/timeline"
)

// Event kinds: what later parts (SLA timers, the outbox, notifications,
// reports) listen to.
const (
	EventCreated          = "ticket.created"
	EventAssigned         = "ticket.assigned"
	EventReplied          = "ticket.replied"          // an agent's reply the customer sees
	EventCustomerMessage  = "ticket.customer_message" // the customer wrote
	EventNoteAdded        = "ticket.note_added"
	EventStateChanged     = "ticket.state_changed"
	EventReopened         = "ticket.reopened"
	EventUpdated          = "ticket.updated" // fields changed (severity, type, category, tags…)
	EventCommitmentMade   = "ticket.commitment_made"
	EventCommitmentKept   = "ticket.commitment_kept"
	EventMentioned        = "ticket.mentioned"
	EventMerged           = "ticket.merged"
	EventMajorComplaint   = "ticket.major_complaint_reported"
	EventLinked           = "ticket.linked"
	EventFollowersChanged = "ticket.followers_changed"
)

// Event is one change to a ticket, in the order it happened.
type Event struct {
	ID       int64          `json:"id"`
	TicketID int64          `json:"ticket_id"`
	Kind     string         `json:"kind"`
	ActorID  int64          `json:"actor_id,omitempty"`
	At       time.Time      `json:"at"`
	Data     map[string]any `json:"data"`
}

// Listener runs inside the transaction of the change, after its event is
// written: what it writes commits with the change; an error undoes both.
// t is the ticket as the change left it.
type Listener func(ctx context.Context, t Ticket, e Event) error

// Listen adds a listener. Call it while wiring the application, before
// serving.
func (s *Store) Listen(l Listener) { s.listeners = append(s.listeners, l) }

// timelineKeys are the summaries of the events that reach the customer's
// timeline (every kind but the internal bookkeeping ones).
var timelineKeys = map[string]string{
	EventCreated:         "timeline.ticket_created",
	EventAssigned:        "timeline.ticket_assigned",
	EventReplied:         "timeline.ticket_replied",
	EventCustomerMessage: "timeline.ticket_customer_message",
	EventNoteAdded:       "timeline.ticket_note_added",
	EventStateChanged:    "timeline.ticket_state_changed",
	EventReopened:        "timeline.ticket_reopened",
	EventUpdated:         "timeline.ticket_updated",
	EventCommitmentMade:  "timeline.ticket_commitment_made",
	EventCommitmentKept:  "timeline.ticket_commitment_kept",
	EventMerged:          "timeline.ticket_merged",
	EventMajorComplaint:  "timeline.ticket_major_complaint",
}

// emit writes the event, its timeline line and runs the listeners, in the
// transaction of ctx.
func (s *Store) emit(ctx context.Context, t Ticket, kind string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	actor := audit.ActorFrom(ctx)
	e := Event{TicketID: t.ID, Kind: kind, ActorID: actor.UserID, At: db.Now(s.clock.Now()), Data: data}
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var actorID any
	if actor.UserID != 0 {
		actorID = actor.UserID
	}
	if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO ticket_events (ticket_id, kind, actor_id, at, data)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, t.ID, kind, actorID, e.At, string(body)).Scan(&e.ID); err != nil {
		return fmt.Errorf("ticket event %s: %w", kind, err)
	}
	if key, ok := timelineKeys[kind]; ok {
		params := map[string]any{"Number": t.Number, "Subject": t.Subject}
		for k, v := range data {
			switch k {
			case "from", "to", "state":
				params[timelineParam(k)] = v
			}
		}
		if err := s.timeline.Append(ctx, timeline.Event{CustomerID: t.CustomerID, Kind: kind, Key: key, Params: params,
			Entity: "ticket", EntityID: fmt.Sprint(t.ID)}); err != nil {
			return err
		}
	}
	for _, l := range s.listeners {
		if err := l(ctx, t, e); err != nil {
			return fmt.Errorf("ticket event %s listener: %w", kind, err)
		}
	}
	return nil
}

func timelineParam(k string) string {
	switch k {
	case "from":
		return "From"
	case "to":
		return "To"
	}
	return "State"
}

// Events returns a ticket's events, oldest first.
func (s *Store) Events(ctx context.Context, ticketID int64) ([]Event, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, ticket_id, kind, COALESCE(actor_id, 0), at, data
		FROM ticket_events WHERE ticket_id = $1 ORDER BY id`, ticketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var data string
		if err := rows.Scan(&e.ID, &e.TicketID, &e.Kind, &e.ActorID, &e.At, &data); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(data), &e.Data)
		out = append(out, e)
	}
	return out, rows.Err()
}
