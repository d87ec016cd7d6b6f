package tickets

import (
	"context"
	"fmt"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Mail is a customer's mail taken in by internal/email: the text kept as
// the customer's message and the files kept of it, staged outside the
// intake's transaction.
type Mail struct {
	Body  string
	Files []attachments.Staged
}

// CreateByMail opens a ticket from a customer's mail, in the transaction of
// ctx (the intake's, which also records the mail): the ticket as Create
// makes it (numbered, routed, with its created event, audit entry and
// timeline line), sent to team ahead of the routing rules when team is set
// (the mailbox's team), and the mail as its first customer message with its
// files. There is no customer_message event for that first message: the
// created event announced the request, and staff would be told twice. The
// system creates it (no principal).
func (s *Store) CreateByMail(ctx context.Context, in Input, team *int64, mail Mail) (ticketID, messageID int64, err error) {
	if err := in.normalize(); err != nil {
		return 0, 0, err
	}
	in.team = team
	if err := checkMailBody(mail); err != nil {
		return 0, 0, err
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if ticketID, err = s.create(ctx, nil, in); err != nil {
			return err
		}
		now := db.Now(s.clock.Now())
		q := s.db.Q(ctx)
		if err := q.QueryRowContext(ctx, `INSERT INTO ticket_messages (ticket_id, from_customer, body, channel, created_at)
			VALUES ($1, TRUE, $2, $3, $4) RETURNING id`, ticketID, mail.Body, in.Channel, now).Scan(&messageID); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE tickets SET last_message_id = $1 WHERE id = $2`, messageID, ticketID); err != nil {
			return err
		}
		if err := s.reindex(ctx, ticketID); err != nil {
			return err
		}
		return s.mailFiles(ctx, ticketID, messageID, mail.Files)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("ticket by mail: %w", err)
	}
	return ticketID, messageID, nil
}

// AddCustomerMail appends a customer's mail to a ticket as
// AddCustomerMessage does (its customer_message event; a resolved or closed
// ticket reopens), with the mail's files, in the transaction of ctx. The
// system writes it (no principal): the caller has checked that the sender
// is the ticket's customer.
func (s *Store) AddCustomerMail(ctx context.Context, ticketID int64, channel string, mail Mail) (int64, error) {
	if err := checkMailBody(mail); err != nil {
		return 0, err
	}
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		m, err := s.AddCustomerMessage(ctx, nil, ticketID, mail.Body, channel)
		if err != nil {
			return err
		}
		id = m.ID
		return s.mailFiles(ctx, ticketID, m.ID, mail.Files)
	})
	if err != nil {
		return 0, fmt.Errorf("customer mail: %w", err)
	}
	return id, nil
}

func checkMailBody(mail Mail) error {
	var v domain.ValidationError
	if mail.Body == "" {
		v.Add("body", "validation.required", nil)
	}
	checkLen(&v, "body", mail.Body, MaxMessageBody)
	return v.Err()
}

// mailFiles records the staged files on message messageID of the ticket,
// with their EventAttachmentsAdded.
func (s *Store) mailFiles(ctx context.Context, ticketID, messageID int64, files []attachments.Staged) error {
	if len(files) == 0 {
		return nil
	}
	if s.files == nil {
		return domain.Invalid(attachments.Field, KeyAttachmentsOff, nil)
	}
	ids := make([]int64, 0, len(files))
	for _, f := range files {
		a, err := s.files.Record(ctx, EntityMessage, messageID, f)
		if err != nil {
			return err
		}
		ids = append(ids, a.ID)
	}
	t, err := s.lockForUpdate(ctx, nil, ticketID)
	if err != nil {
		return err
	}
	return s.emit(ctx, t, EventAttachmentsAdded, map[string]any{"message_id": messageID, "attachment_ids": ids})
}
