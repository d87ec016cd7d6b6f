-- +goose Up
-- A reply goes out from the mailbox the customer last wrote to about the
-- ticket (internal/email/replies.go looks it up by ticket).
CREATE INDEX email_inbound_ticket ON email_inbound(ticket_id, id);

-- +goose Down
DROP INDEX email_inbound_ticket;
