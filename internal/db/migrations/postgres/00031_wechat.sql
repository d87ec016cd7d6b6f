-- +goose Up
-- Issue 13: messages from a WeChat Official Account (公众号) taken in by the
-- callback (internal/wechat). The accounts themselves are a setting
-- (channels.wechat, secrets sealed); these tables are what the callback
-- writes, each with the unique key that lets several servers agree.

-- Nonces of accepted callbacks within the 5-minute window: a second use is
-- a replay. Rows older than the window are deleted as new ones come.
CREATE TABLE wechat_nonces (
    account TEXT NOT NULL,
    nonce   TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, nonce)
);
CREATE INDEX wechat_nonces_seen ON wechat_nonces(seen_at);

-- Each message once: the platform posts a message again when it had no
-- answer within 5 s; the claim of (account, msg_id) is made in the
-- transaction that writes the ticket.
CREATE TABLE wechat_inbound (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account     TEXT NOT NULL,
    msg_id      TEXT NOT NULL,
    openid      TEXT NOT NULL,
    msg_type    TEXT NOT NULL,
    ticket_id   BIGINT REFERENCES tickets(id) ON DELETE SET NULL,
    customer_id BIGINT REFERENCES customers(id) ON DELETE SET NULL,
    received_at TIMESTAMPTZ NOT NULL,
    UNIQUE (account, msg_id)
);

-- Who a follower is: an openid is per account. customer_id NULL is a row
-- claimed but not yet given its customer (the claim serialises two first
-- messages of one follower).
CREATE TABLE wechat_bindings (
    account     TEXT NOT NULL,
    openid      TEXT NOT NULL,
    customer_id BIGINT REFERENCES customers(id) ON DELETE SET NULL,
    placeholder BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account, openid)
);
CREATE INDEX wechat_bindings_customer ON wechat_bindings(customer_id);

-- +goose Down
DROP TABLE wechat_bindings;
DROP TABLE wechat_inbound;
DROP TABLE wechat_nonces;
