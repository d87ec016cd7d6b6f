-- +goose Up
-- Issue 11: staff notifications. An in-app notification is the outbox's
-- inapp channel delivering a row: one notification per outbox row
-- (outbox_id UNIQUE), so a re-delivery never makes a second.
CREATE TABLE notifications (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title_key  TEXT NOT NULL DEFAULT '',
    params     TEXT NOT NULL DEFAULT '{}',
    title      TEXT NOT NULL DEFAULT '',
    link       TEXT NOT NULL DEFAULT '',
    entity     TEXT NOT NULL DEFAULT '',
    entity_id  TEXT NOT NULL DEFAULT '',
    outbox_id  BIGINT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    read_at    TIMESTAMPTZ
);
-- The list (newest first) and the bell's count (unread: read_at IS NULL).
CREATE INDEX notifications_user ON notifications(user_id, id);
CREATE INDEX notifications_unread ON notifications(user_id, read_at, id);

-- Which channels each staff member wants per event; defaults in code.
CREATE TABLE notification_settings (
    user_id    BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    settings   TEXT NOT NULL DEFAULT '{}',
    updated_at TIMESTAMPTZ NOT NULL
);

-- A commitment's due reminder is claimed once (by one server) here.
ALTER TABLE ticket_commitments ADD COLUMN due_notified_at TIMESTAMPTZ;
CREATE INDEX ticket_commitments_due_notice ON ticket_commitments(due_at) WHERE kept_at IS NULL AND due_notified_at IS NULL;

-- +goose Down
DROP INDEX ticket_commitments_due_notice;
ALTER TABLE ticket_commitments DROP COLUMN due_notified_at;
DROP TABLE notification_settings;
DROP TABLE notifications;
