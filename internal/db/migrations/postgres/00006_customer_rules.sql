-- +goose Up
-- The admin-set rules of customers' value segments and lifecycle stages: a
-- single row (id 1), seeded with the shipped defaults (old after 365 days,
-- high value from 3 products, new for 90 days, active for 365 days). version
-- guards concurrent edits (ETag / If-Match); updated_* stay empty until an
-- administrator first saves.
CREATE TABLE customer_rules (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    old_after_days      INTEGER NOT NULL,
    high_value_products INTEGER NOT NULL,
    new_for_days        INTEGER NOT NULL,
    active_for_days     INTEGER NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    updated_at          TIMESTAMPTZ,
    updated_by          BIGINT REFERENCES users(id),
    updated_by_label    TEXT NOT NULL DEFAULT ''
);
INSERT INTO customer_rules (id, old_after_days, high_value_products, new_for_days, active_for_days)
VALUES (1, 365, 3, 90, 365);

-- +goose Down
DROP TABLE customer_rules;
