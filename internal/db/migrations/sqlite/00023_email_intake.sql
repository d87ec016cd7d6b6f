-- +goose Up
-- Issue 11: mail taken in over IMAP (internal/email intake and poller).
-- How often a mailbox is polled, and which server polls it now: a lease,
-- taken and renewed with a conditional UPDATE like the outbox's claim, so
-- two servers on one database never poll the same mailbox at once.
ALTER TABLE mailboxes ADD COLUMN poll_interval INTEGER NOT NULL DEFAULT 60;
ALTER TABLE mailboxes ADD COLUMN poll_lease_until DATETIME;
ALTER TABLE mailboxes ADD COLUMN poll_lease_owner TEXT NOT NULL DEFAULT '';
-- The category new tickets from this mailbox get (like team_id, the team).
ALTER TABLE mailboxes ADD COLUMN category_id INTEGER REFERENCES ticket_categories(id) ON DELETE SET NULL;
-- The attachments of a mail that were not kept (type, size, count), as
-- JSON [{name, key, params}], shown translated under the mail's message.
ALTER TABLE email_bodies ADD COLUMN refused TEXT NOT NULL DEFAULT '[]';
-- The refused mails an administrator sees per mailbox.
CREATE INDEX email_inbound_mailbox_outcome ON email_inbound(mailbox_id, outcome, id);

-- +goose Down
DROP INDEX email_inbound_mailbox_outcome;
ALTER TABLE email_bodies DROP COLUMN refused;
ALTER TABLE mailboxes DROP COLUMN category_id;
ALTER TABLE mailboxes DROP COLUMN poll_lease_owner;
ALTER TABLE mailboxes DROP COLUMN poll_lease_until;
ALTER TABLE mailboxes DROP COLUMN poll_interval;
