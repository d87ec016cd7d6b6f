package tickets

import (
	"context"
	"fmt"
	"strings"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// What the customer does on their own tickets (the portal, the public web
// form): open a request with files, write with files, confirm a resolution
// (the closed loop) or say it is not fixed. p is the customer's portal
// principal (its scope is its customer's tickets, scope.go), or nil for the
// web form, which acts as the system for a customer it found or created.

// Causes of the moves a customer makes, in the event's data and the audit.
const (
	CauseCustomerConfirmed = "customer_confirmed"
	CauseCustomerNotFixed  = "customer_not_fixed"
)

// CreateForCustomer records a request the customer made themself (channel
// web), with the files they sent: the files hang on a message from the
// customer whose body is filesNote (the ticket's own text is its
// description), written in the ticket's transaction, so a refused file
// leaves no ticket. A portal caller can only open a ticket for its own
// customer.
func (s *Store) CreateForCustomer(ctx context.Context, p *identity.Principal, in Input, files []attachments.Staged, filesNote string) (Ticket, error) {
	if p.IsPortal() && in.CustomerID != p.CustomerID {
		return Ticket{}, domain.Invalid("customer_id", "validation.unknown_customer", nil)
	}
	if len(files) > 0 && s.files == nil {
		return Ticket{}, domain.Invalid(attachments.Field, KeyAttachmentsOff, nil)
	}
	if err := in.normalize(); err != nil {
		return Ticket{}, err
	}
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if id, err = s.create(ctx, p, in); err != nil {
			return err
		}
		if len(files) == 0 {
			return nil
		}
		t, err := s.lockForUpdate(ctx, nil, id)
		if err != nil {
			return err
		}
		msgID, err := s.insertCustomerMessage(ctx, t, strings.TrimSpace(filesNote), in.Channel)
		if err != nil {
			return err
		}
		return s.recordCustomerFiles(ctx, t, msgID, files)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("create ticket for customer: %w", err)
	}
	return s.Get(ctx, p, id)
}

// insertCustomerMessage writes a message from the customer and makes it the
// ticket's last, without an event (the caller emits what fits).
func (s *Store) insertCustomerMessage(ctx context.Context, t Ticket, body, channel string) (int64, error) {
	q := s.db.Q(ctx)
	now := db.Now(s.clock.Now())
	var id int64
	if err := q.QueryRowContext(ctx, `INSERT INTO ticket_messages (ticket_id, from_customer, body, channel, created_at)
		VALUES ($1, TRUE, $2, $3, $4) RETURNING id`, t.ID, body, channel, now).Scan(&id); err != nil {
		return 0, err
	}
	if _, err := q.ExecContext(ctx, `UPDATE tickets SET last_message_id = $1, version = version + 1, updated_at = $2 WHERE id = $3`,
		id, now, t.ID); err != nil {
		return 0, err
	}
	return id, s.reindex(ctx, t.ID)
}

// recordCustomerFiles records staged files on message msgID of t, with
// their event.
func (s *Store) recordCustomerFiles(ctx context.Context, t Ticket, msgID int64, files []attachments.Staged) error {
	ids := make([]int64, 0, len(files))
	for _, f := range files {
		a, err := s.files.Record(ctx, EntityMessage, msgID, f)
		if err != nil {
			return err
		}
		ids = append(ids, a.ID)
	}
	return s.emit(ctx, t, EventAttachmentsAdded, map[string]any{"message_id": msgID, "attachment_ids": ids})
}

// AddCustomerMessageWithFiles is AddCustomerMessage with files the customer
// sent (staged by the handler): the message and its files commit together.
func (s *Store) AddCustomerMessageWithFiles(ctx context.Context, p *identity.Principal, ticketID int64, body, channel string, files []attachments.Staged) (Message, error) {
	if len(files) == 0 {
		return s.AddCustomerMessage(ctx, p, ticketID, body, channel)
	}
	if s.files == nil {
		return Message{}, domain.Invalid(attachments.Field, KeyAttachmentsOff, nil)
	}
	var m Message
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.AddCustomerMessage(ctx, p, ticketID, body, channel); err != nil {
			return err
		}
		t, err := s.lockForUpdate(ctx, p, ticketID)
		if err != nil {
			return err
		}
		return s.recordCustomerFiles(ctx, t, m.ID, files)
	})
	if err != nil {
		return Message{}, fmt.Errorf("customer message with files: %w", err)
	}
	return m, nil
}

// ConfirmResolved is the customer confirming that a resolved ticket is
// solved: it closes, with confirmation (the customer's words, or the
// caller's sentence saying they confirmed) as the confirmation of the
// effect. Only a resolved ticket can be confirmed; anything else is a
// conflict naming its state.
func (s *Store) ConfirmResolved(ctx context.Context, p *identity.Principal, id int64, confirmation string) (Ticket, error) {
	confirmation = strings.TrimSpace(confirmation)
	var v domain.ValidationError
	if confirmation == "" {
		v.Add("confirmation", "validation.required", nil)
	}
	checkLen(&v, "confirmation", confirmation, MaxText)
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, id)
		if err != nil {
			return err
		}
		if t.State != StateResolved {
			return StateConflict(t, StateClosed)
		}
		return s.move(ctx, t, StateClosed, "", confirmation, CauseCustomerConfirmed)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("confirm resolution: %w", err)
	}
	return s.Get(ctx, p, id)
}

// ReopenNotFixed is the customer saying a resolved or closed ticket is not
// fixed: their reason becomes a message from them on the thread (so the
// owner hears of it as of any customer message) and the ticket reopens (in
// progress) with the reason as the move's note.
func (s *Store) ReopenNotFixed(ctx context.Context, p *identity.Principal, id int64, reason, channel string) (Ticket, error) {
	reason = strings.TrimSpace(reason)
	var v domain.ValidationError
	if reason == "" {
		v.Add("reason", "validation.required", nil)
	}
	checkLen(&v, "reason", reason, MaxText)
	if err := v.Err(); err != nil {
		return Ticket{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, id)
		if err != nil {
			return err
		}
		if t.State != StateResolved && t.State != StateClosed {
			return StateConflict(t, StateInProgress)
		}
		if channel == "" {
			channel = t.Channel
		}
		msgID, err := s.insertCustomerMessage(ctx, t, reason, channel)
		if err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "ticket.customer_message", "ticket", fmt.Sprint(t.ID), map[string]audit.Change{
			"message_id": {After: msgID}}); err != nil {
			return err
		}
		if err := s.emit(ctx, t, EventCustomerMessage, map[string]any{"message_id": msgID, "channel": channel}); err != nil {
			return err
		}
		t.Version++
		return s.move(ctx, t, StateInProgress, reason, "", CauseCustomerNotFixed)
	})
	if err != nil {
		return Ticket{}, fmt.Errorf("reopen as not fixed: %w", err)
	}
	return s.Get(ctx, p, id)
}
