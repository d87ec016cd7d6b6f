-- +goose Up
-- Issue 10: indexes the queues' first pages walk at a million tickets.
-- (ticket_mentions_ticket, migration 00014, also serves the mentions
-- queue's latest mention per ticket: it carries the mention id.)
-- A person's unread mentions (the count on the home page): read_at IS NULL
-- is an equality on this index.
CREATE INDEX ticket_mentions_unread ON ticket_mentions(user_id, read_at);
-- The unassigned queue across every team, newest first.
CREATE INDEX tickets_unassigned_all ON tickets(updated_at, id) WHERE owner_id IS NULL AND is_open;
-- The waiting queue: both waiting states in one order.
CREATE INDEX tickets_waiting ON tickets(updated_at, id) WHERE state IN ('waiting_customer', 'waiting_third_party');

-- +goose Down
DROP INDEX tickets_waiting;
DROP INDEX tickets_unassigned_all;
DROP INDEX ticket_mentions_unread;
