package customers

import (
	"context"
	"fmt"
)

// Event kinds of customer records, for what listens to them (webhooks).
const (
	EventCreated = "customer.created"
	EventUpdated = "customer.updated"
	EventMerged  = "customer.merged" // the kept record; the other is gone
)

// Event is one change to a customer record.
type Event struct {
	Kind string
	// Fields names what an update changed (sorted); for a merge, the
	// merged-away record's number as "merged_from:<number>".
	Fields []string
}

// Listener runs inside the transaction of the change, after it is written:
// what it writes commits with the change; an error undoes both. c is the
// record as the change left it, unmasked (the listener masks what its
// audience may not see). Imports do not call listeners.
type Listener func(ctx context.Context, c Customer, e Event) error

// Listen adds a listener. Call it while wiring the application, before
// serving.
func (s *Store) Listen(l Listener) { s.listeners = append(s.listeners, l) }

// emit reads the record in the change's transaction and runs the
// listeners; without listeners it costs nothing.
func (s *Store) emit(ctx context.Context, kind string, id int64, fields []string) error {
	if len(s.listeners) == 0 {
		return nil
	}
	c, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	e := Event{Kind: kind, Fields: fields}
	for _, l := range s.listeners {
		if err := l(ctx, c, e); err != nil {
			return fmt.Errorf("customer event %s listener: %w", kind, err)
		}
	}
	return nil
}
