-- +goose Up
-- Admin-editable settings (internal/settings): one JSON value per key, with a
-- version for optimistic edits.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at DATETIME NOT NULL,
    updated_by INTEGER
);
-- Attachments (internal/attachments): the metadata only; the bytes live in
-- the data directory under attachments/<sha256[:2]>/<sha256>, shared by every
-- row with the same content.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    entity       TEXT NOT NULL,
    entity_id    INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    sha256       TEXT NOT NULL,
    storage_key  TEXT NOT NULL,
    created_by   INTEGER,
    created_at   DATETIME NOT NULL,
    deleted_at   DATETIME,
    deleted_by   INTEGER
);
CREATE INDEX attachments_entity ON attachments(entity, entity_id, id) WHERE deleted_at IS NULL;
CREATE INDEX attachments_sha256 ON attachments(sha256) WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE attachments;
DROP TABLE settings;
