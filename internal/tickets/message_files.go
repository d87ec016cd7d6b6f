package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
)

// AddMessageFiles attaches staged files to a customer's message that is
// already on the ticket: a channel whose files arrive after the message
// (WeChat's images and voice, downloaded in the background once the
// callback has answered). In the transaction of ctx if any. The message
// must be the ticket's and the customer's (else domain.ErrNotFound); the
// attachments' limits apply as for any upload (the count per message is
// checked by Record), and the attachments_added event is recorded as for
// a mail's files. The system adds them (no principal).
func (s *Store) AddMessageFiles(ctx context.Context, ticketID, messageID int64, files []attachments.Staged) error {
	if len(files) == 0 {
		return nil
	}
	if s.files == nil {
		return domain.Invalid(attachments.Field, KeyAttachmentsOff, nil)
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var fromCustomer bool
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT from_customer FROM ticket_messages WHERE id = $1 AND ticket_id = $2`,
			messageID, ticketID).Scan(&fromCustomer)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !fromCustomer) {
			return fmt.Errorf("message %d of ticket %d: %w", messageID, ticketID, domain.ErrNotFound)
		} else if err != nil {
			return err
		}
		return s.mailFiles(ctx, ticketID, messageID, files)
	})
	if err != nil {
		return fmt.Errorf("message files: %w", err)
	}
	return nil
}
