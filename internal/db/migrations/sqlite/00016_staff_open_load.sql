-- +goose Up
-- Issue 10: how many open tickets each person owns, kept by the database
-- with every insert and every change of a ticket's owner or openness, so
-- that least-load routing reads a few rows per candidate instead of
-- counting a backlog that grows without bound. A person's count is the sum
-- of their rows: PostgreSQL spreads concurrent changes over stripes (see
-- its migration); SQLite has one writer and keeps stripe 0.
CREATE TABLE staff_open_load (
    user_id      INTEGER NOT NULL REFERENCES users(id),
    stripe       INTEGER NOT NULL DEFAULT 0,
    open_tickets INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, stripe)
);
INSERT INTO staff_open_load (user_id, stripe, open_tickets)
    SELECT owner_id, 0, COUNT(*) FROM tickets WHERE is_open AND owner_id IS NOT NULL GROUP BY owner_id;

-- +goose StatementBegin
CREATE TRIGGER tickets_load_insert AFTER INSERT ON tickets
WHEN NEW.is_open AND NEW.owner_id IS NOT NULL
BEGIN
    INSERT INTO staff_open_load (user_id, stripe, open_tickets) VALUES (NEW.owner_id, 0, 1)
        ON CONFLICT (user_id, stripe) DO UPDATE SET open_tickets = open_tickets + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tickets_load_leave AFTER UPDATE OF owner_id, is_open ON tickets
WHEN OLD.is_open AND OLD.owner_id IS NOT NULL AND NOT (NEW.is_open AND NEW.owner_id IS OLD.owner_id)
BEGIN
    INSERT INTO staff_open_load (user_id, stripe, open_tickets) VALUES (OLD.owner_id, 0, -1)
        ON CONFLICT (user_id, stripe) DO UPDATE SET open_tickets = open_tickets - 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tickets_load_join AFTER UPDATE OF owner_id, is_open ON tickets
WHEN NEW.is_open AND NEW.owner_id IS NOT NULL AND NOT (OLD.is_open AND OLD.owner_id IS NEW.owner_id)
BEGIN
    INSERT INTO staff_open_load (user_id, stripe, open_tickets) VALUES (NEW.owner_id, 0, 1)
        ON CONFLICT (user_id, stripe) DO UPDATE SET open_tickets = open_tickets + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tickets_load_delete AFTER DELETE ON tickets
WHEN OLD.is_open AND OLD.owner_id IS NOT NULL
BEGIN
    INSERT INTO staff_open_load (user_id, stripe, open_tickets) VALUES (OLD.owner_id, 0, -1)
        ON CONFLICT (user_id, stripe) DO UPDATE SET open_tickets = open_tickets - 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER tickets_load_delete;
DROP TRIGGER tickets_load_join;
DROP TRIGGER tickets_load_leave;
DROP TRIGGER tickets_load_insert;
DROP TABLE staff_open_load;
