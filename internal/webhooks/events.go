package webhooks

import (
	"context"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
)

// ticketEvents maps the tickets' event kinds to webhook events. Internal
// notes, mentions, followers and attachments stay inside: they are not
// what a customer or another system sees of a ticket.
var ticketEvents = map[string]string{
	tickets.EventCreated:         "ticket.created",
	tickets.EventUpdated:         "ticket.updated",
	tickets.EventStateChanged:    "ticket.state_changed",
	tickets.EventReopened:        "ticket.state_changed",
	tickets.EventAssigned:        "ticket.assigned",
	tickets.EventReplied:         "ticket.replied",
	tickets.EventCustomerMessage: "ticket.customer_message",
	tickets.EventMerged:          "ticket.merged",
	tickets.EventMajorComplaint:  "ticket.major_complaint",
}

// TicketData is the data of a ticket event: the ticket as the staff API
// shows it, what changed (the event's own data: the state moved from and
// to, the fields changed, the reply's message id), and who did it.
type TicketData struct {
	Ticket  tickets.Ticket `json:"ticket"`
	Kind    string         `json:"kind"` // the ticket's own event kind (ticket.reopened …)
	Change  map[string]any `json:"change"`
	ActorID int64          `json:"actor_id,omitempty"`
}

// ListenTickets is the tickets.Listener of webhooks: it runs in the
// change's transaction, so a delivery exists exactly when the change does.
func (s *Store) ListenTickets(ctx context.Context, t tickets.Ticket, e tickets.Event) error {
	event, ok := ticketEvents[e.Kind]
	if !ok {
		return nil
	}
	change := e.Data
	if change == nil {
		change = map[string]any{}
	}
	t.Highlight = nil
	return s.Publish(ctx, event, e.At, TicketData{Ticket: t, Kind: e.Kind, Change: change, ActorID: e.ActorID})
}

// CustomerData is the data of a customer event: the record as the staff
// API shows it to a viewer without customers.contact_view (phones
// masked: a receiver is not a person whose access is audited), and the
// fields an update changed.
type CustomerData struct {
	Customer customers.Customer `json:"customer"`
	Fields   []string           `json:"fields,omitempty"`
}

// ListenCustomers is the customers.Listener of webhooks.
func (s *Store) ListenCustomers(ctx context.Context, c customers.Customer, e customers.Event) error {
	return s.Publish(ctx, e.Kind, s.clock.Now(), CustomerData{Customer: customers.ForViewer(&identity.Principal{}, c), Fields: e.Fields})
}
