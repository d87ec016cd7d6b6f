-- +goose Up
-- Issue 13: webhooks (internal/webhooks). A subscription is a URL that
-- hears of chosen events; its signing secret is sealed with the server's
-- secret key (AES-GCM), never stored plain. Deleting one keeps its rows
-- (deleted_at) so that its delivery log stays readable.
CREATE TABLE webhook_subscriptions (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL,
    events        TEXT NOT NULL DEFAULT '[]',
    secret        TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    allow_private BOOLEAN NOT NULL DEFAULT FALSE,
    created_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at    DATETIME NOT NULL,
    deleted_at    DATETIME
);
CREATE INDEX webhook_subscriptions_live ON webhook_subscriptions(id) WHERE deleted_at IS NULL AND active;

-- One delivery: one event for one subscription, sent through the outbox
-- (outbox_id, channel 'webhook'); a replay is a new delivery (replay_of).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES webhook_subscriptions(id),
    event           TEXT NOT NULL,
    occurred_at     DATETIME NOT NULL,
    data            TEXT NOT NULL DEFAULT '{}',
    payload         TEXT NOT NULL DEFAULT '',
    outbox_id       INTEGER,
    replay_of       INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_answer     TEXT NOT NULL DEFAULT '',
    last_error      TEXT NOT NULL DEFAULT '',
    last_duration_ms INTEGER NOT NULL DEFAULT 0,
    last_attempt_at DATETIME,
    delivered_at    DATETIME,
    created_at      DATETIME NOT NULL
);
CREATE INDEX webhook_deliveries_sub ON webhook_deliveries(subscription_id, id);

-- Every attempt of a delivery, with the receiver's answer (an excerpt).
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
    at          DATETIME NOT NULL,
    status      INTEGER NOT NULL DEFAULT 0,
    answer      TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id, id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
