-- +goose Up
-- The text index of tickets (internal/textindex; internal/tickets
-- search.go): one staff-only document per ticket, keyed by tickets.id, made
-- of its subject, description, messages and internal notes, as a tsvector
-- literal built in Go and rewritten by the store in the transaction that
-- writes any of them. A side table, so the tickets rows the queues scan
-- stay narrow.
CREATE TABLE ticket_text (
    id    BIGINT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
    terms TSVECTOR NOT NULL
);
CREATE INDEX ticket_text_terms ON ticket_text USING gin (terms) WITH (gin_pending_list_limit = 256);
-- The scope's "mentioned on it" test and merge's move look mentions up by
-- ticket; without this index SQLite scanned every mention for each ticket
-- a search (or any list) looked at.
CREATE INDEX ticket_mentions_ticket ON ticket_mentions(ticket_id, user_id, id);
-- Tickets older than the index are indexed at start (BackfillTextIndex).
INSERT INTO text_index_backfill (name, below)
    SELECT 'ticket_text', (SELECT MAX(id) FROM tickets) + 1 WHERE EXISTS (SELECT 1 FROM tickets);

-- +goose Down
DROP INDEX ticket_mentions_ticket;
DELETE FROM text_index_backfill WHERE name = 'ticket_text';
DROP TABLE ticket_text;
