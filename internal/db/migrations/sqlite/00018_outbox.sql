-- +goose Up
-- Issue 11: the outbox. Every outbound message (email, in-app; later SMS,
-- WeCom, DingTalk, WeChat, webhooks) is a row written in the transaction of
-- the change that causes it, and delivered by internal/notify's dispatcher.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    channel       TEXT NOT NULL,
    kind          TEXT NOT NULL,
    dedupe_key    TEXT,
    customer_id   INTEGER,
    user_id       INTEGER,
    recipient     TEXT NOT NULL DEFAULT '',
    subject       TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    html          TEXT NOT NULL DEFAULT '',
    data          TEXT NOT NULL DEFAULT '{}',
    transactional BOOLEAN NOT NULL DEFAULT FALSE,
    entity        TEXT NOT NULL DEFAULT '',
    entity_id     TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT 'queued',
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       DATETIME NOT NULL,
    lease_until   DATETIME,
    claimed_by    TEXT NOT NULL DEFAULT '',
    last_error    TEXT NOT NULL DEFAULT '',
    provider_id   TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    sent_at       DATETIME
);
-- Work several servers could make twice (a care task's message, an SLA
-- step's notice) names a key; the database keeps one row per key.
CREATE UNIQUE INDEX outbox_dedupe ON outbox(dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX outbox_due ON outbox(next_at, id) WHERE state = 'queued';
CREATE INDEX outbox_leased ON outbox(lease_until) WHERE state = 'sending';
CREATE INDEX outbox_state ON outbox(state, id);

-- +goose Down
DROP TABLE outbox;
