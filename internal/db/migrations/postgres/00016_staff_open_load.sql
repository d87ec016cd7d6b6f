-- +goose Up
-- Issue 10: how many open tickets each person owns, kept by the database
-- with every insert and every change of a ticket's owner or openness, so
-- that least-load routing reads a few rows per candidate instead of
-- counting a backlog that grows without bound.
--
-- A person's count is the sum of their rows. Each transaction changes the
-- stripe its transaction id falls on (eight of them): concurrent creators
-- routed to the same person, who all read the same counts, would otherwise
-- queue on one row until each commits.
CREATE TABLE staff_open_load (
    user_id      BIGINT NOT NULL REFERENCES users(id),
    stripe       SMALLINT NOT NULL DEFAULT 0,
    open_tickets INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, stripe)
);
INSERT INTO staff_open_load (user_id, stripe, open_tickets)
    SELECT owner_id, 0, COUNT(*) FROM tickets WHERE is_open AND owner_id IS NOT NULL GROUP BY owner_id;

-- A reassignment moves a ticket between two people's rows: they are
-- changed in the order of their ids, so that two reassignments crossing
-- each other (A→B while B→A) lock in the same order and cannot deadlock.
-- +goose StatementBegin
CREATE FUNCTION tickets_open_load() RETURNS trigger AS $$
DECLARE
    was BIGINT;
    now_ BIGINT;
    s SMALLINT := (txid_current() % 8)::smallint;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.is_open THEN was := OLD.owner_id; END IF;
    IF TG_OP <> 'DELETE' AND NEW.is_open THEN now_ := NEW.owner_id; END IF;
    IF was IS NOT DISTINCT FROM now_ THEN RETURN NULL; END IF;
    IF was IS NOT NULL AND (now_ IS NULL OR was < now_) THEN
        INSERT INTO staff_open_load (user_id, stripe, open_tickets) VALUES (was, s, -1)
            ON CONFLICT (user_id, stripe) DO UPDATE SET open_tickets = staff_open_load.open_tickets - 1;
        was := NULL;
    END IF;
    IF now_ IS NOT NULL THEN
        INSERT INTO staff_open_load (user_id, stripe, open_tickets) VALUES (now_, s, 1)
            ON CONFLICT (user_id, stripe) DO UPDATE SET open_tickets = staff_open_load.open_tickets + 1;
    END IF;
    IF was IS NOT NULL THEN
        INSERT INTO staff_open_load (user_id, stripe, open_tickets) VALUES (was, s, -1)
            ON CONFLICT (user_id, stripe) DO UPDATE SET open_tickets = staff_open_load.open_tickets - 1;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
CREATE TRIGGER tickets_open_load_insert AFTER INSERT ON tickets
    FOR EACH ROW WHEN (NEW.is_open AND NEW.owner_id IS NOT NULL) EXECUTE FUNCTION tickets_open_load();
CREATE TRIGGER tickets_open_load_update AFTER UPDATE OF owner_id, is_open ON tickets
    FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.is_open IS DISTINCT FROM NEW.is_open)
    EXECUTE FUNCTION tickets_open_load();
CREATE TRIGGER tickets_open_load_delete AFTER DELETE ON tickets
    FOR EACH ROW WHEN (OLD.is_open AND OLD.owner_id IS NOT NULL) EXECUTE FUNCTION tickets_open_load();

-- +goose Down
DROP TRIGGER tickets_open_load_delete ON tickets;
DROP TRIGGER tickets_open_load_update ON tickets;
DROP TRIGGER tickets_open_load_insert ON tickets;
DROP FUNCTION tickets_open_load();
DROP TABLE staff_open_load;
