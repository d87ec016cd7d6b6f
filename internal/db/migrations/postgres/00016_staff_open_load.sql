-- +goose Up
-- Issue 10: how many open tickets each person owns, kept by the database
-- with every insert and every change of a ticket's owner or openness, so
-- that least-load routing reads one row per candidate instead of counting
-- a backlog that grows without bound.
CREATE TABLE staff_open_load (
    user_id      BIGINT PRIMARY KEY REFERENCES users(id),
    open_tickets INTEGER NOT NULL DEFAULT 0
);
INSERT INTO staff_open_load (user_id, open_tickets)
    SELECT owner_id, COUNT(*) FROM tickets WHERE is_open AND owner_id IS NOT NULL GROUP BY owner_id;

-- A reassignment moves a ticket between two people's rows: they are
-- changed in the order of their ids, so that two reassignments crossing
-- each other (A→B while B→A) lock in the same order and cannot deadlock.
-- +goose StatementBegin
CREATE FUNCTION tickets_open_load() RETURNS trigger AS $$
DECLARE
    was BIGINT;
    now_ BIGINT;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.is_open THEN was := OLD.owner_id; END IF;
    IF TG_OP <> 'DELETE' AND NEW.is_open THEN now_ := NEW.owner_id; END IF;
    IF was IS NOT DISTINCT FROM now_ THEN RETURN NULL; END IF;
    IF was IS NOT NULL AND (now_ IS NULL OR was < now_) THEN
        UPDATE staff_open_load SET open_tickets = open_tickets - 1 WHERE user_id = was;
        was := NULL;
    END IF;
    IF now_ IS NOT NULL THEN
        INSERT INTO staff_open_load (user_id, open_tickets) VALUES (now_, 1)
            ON CONFLICT (user_id) DO UPDATE SET open_tickets = staff_open_load.open_tickets + 1;
    END IF;
    IF was IS NOT NULL THEN
        UPDATE staff_open_load SET open_tickets = open_tickets - 1 WHERE user_id = was;
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
