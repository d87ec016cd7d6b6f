-- +goose Up
-- Issue 9, the customer pages.
-- last_contact_at: the latest contact-type timeline event (a call, a visit, a
-- ticket…), kept by timeline.Append, so the list shows and sorts it without
-- reading the timeline.
ALTER TABLE customers ADD COLUMN last_contact_at TIMESTAMPTZ;
-- A timeline event's at is its business time (a purchase at its purchase
-- date); recorded_at is when it was written, NULL when the same.
ALTER TABLE timeline_events ADD COLUMN recorded_at TIMESTAMPTZ;
CREATE INDEX timeline_events_customer_at ON timeline_events(customer_id, at, id);
-- The list sorted by name walks the pinyin in byte order (the search index on
-- name_pinyin is text_pattern_ops, which serves ranges but not ORDER BY).
CREATE INDEX customers_sort_pinyin ON customers (name_pinyin COLLATE "C", id) WHERE merged_into IS NULL;
-- The list sorted by number: by length, then text (202405999 before
-- 2024051000).
CREATE INDEX customers_sort_number ON customers (LENGTH(number), number);
-- A revealed phone is shown on the one GET after the reveal: a single-use,
-- short-lived grant for that user and customer.
CREATE TABLE customer_reveal_grants (
    token       TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX customer_reveal_grants_expires ON customer_reveal_grants(expires_at);

-- +goose Down
DROP TABLE customer_reveal_grants;
DROP INDEX customers_sort_number;
DROP INDEX customers_sort_pinyin;
DROP INDEX timeline_events_customer_at;
ALTER TABLE timeline_events DROP COLUMN recorded_at;
ALTER TABLE customers DROP COLUMN last_contact_at;
