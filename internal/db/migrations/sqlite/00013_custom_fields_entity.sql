-- +goose Up
-- Issue 10: custom fields of tickets (per ticket type) share the customer
-- fields' table and mechanism (internal/customfields). SQLite cannot change
-- a UNIQUE constraint in place: the table is rebuilt.
CREATE TABLE custom_fields_new (
    id         INTEGER PRIMARY KEY,
    entity     TEXT NOT NULL DEFAULT 'customer',
    key        TEXT NOT NULL,
    label_zh   TEXT NOT NULL,
    label_en   TEXT NOT NULL,
    type       TEXT NOT NULL,
    choices    TEXT NOT NULL DEFAULT '[]',
    applies_to TEXT NOT NULL DEFAULT '[]',
    position   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (entity, key)
);
INSERT INTO custom_fields_new (id, entity, key, label_zh, label_en, type, choices, position)
    SELECT id, 'customer', key, label_zh, label_en, type, choices, position FROM custom_fields;
DROP TABLE custom_fields;
ALTER TABLE custom_fields_new RENAME TO custom_fields;

-- +goose Down
DELETE FROM custom_fields WHERE entity <> 'customer';
CREATE TABLE custom_fields_old (
    id       INTEGER PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    type     TEXT NOT NULL,
    choices  TEXT NOT NULL DEFAULT '[]',
    position INTEGER NOT NULL DEFAULT 0
);
INSERT INTO custom_fields_old (id, key, label_zh, label_en, type, choices, position)
    SELECT id, key, label_zh, label_en, type, choices, position FROM custom_fields;
DROP TABLE custom_fields;
ALTER TABLE custom_fields_old RENAME TO custom_fields;
