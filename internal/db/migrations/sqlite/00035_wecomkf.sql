-- +goose Up
-- Issue 13: WeCom 微信客服 (internal/wecomkf). The accounts are a setting
-- (channels.wecom_kf, secrets sealed); these tables are what the callback
-- and the pull write, each with the unique key that lets several servers
-- agree.

-- Nonces of accepted callbacks within the 5-minute window (a replay).
CREATE TABLE wecomkf_nonces (
    account TEXT NOT NULL,
    nonce   TEXT NOT NULL,
    seen_at DATETIME NOT NULL,
    PRIMARY KEY (account, nonce)
);
CREATE INDEX wecomkf_nonces_seen ON wecomkf_nonces(seen_at);

-- Where the pull of kf/sync_msg stands, per account and 客服账号: the
-- cursor is advanced only by a compare-and-set in the transaction that
-- takes the page's messages in; token is the latest callback's.
CREATE TABLE wecomkf_cursors (
    account      TEXT NOT NULL,
    open_kfid    TEXT NOT NULL,
    sync_cursor  TEXT NOT NULL DEFAULT '',
    token        TEXT NOT NULL DEFAULT '',
    token_at     DATETIME,
    pulled_at    DATETIME,
    PRIMARY KEY (account, open_kfid)
);

-- Each message once: a msgid is claimed in the transaction that writes the
-- ticket, so re-pulls of a page never duplicate it.
CREATE TABLE wecomkf_inbound (
    id              INTEGER PRIMARY KEY,
    account         TEXT NOT NULL,
    msg_id          TEXT NOT NULL,
    open_kfid       TEXT NOT NULL,
    external_userid TEXT NOT NULL,
    msg_type        TEXT NOT NULL,
    ticket_id       INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
    customer_id     INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    received_at     DATETIME NOT NULL,
    UNIQUE (account, msg_id)
);
CREATE INDEX wecomkf_inbound_ticket ON wecomkf_inbound(ticket_id);

-- Who a WeChat user is (external_userid, per account): the customer, and
-- the platform's reply rule — 48 hours after their last message, at most
-- 5 messages per message of theirs (sent_since_inbound).
CREATE TABLE wecomkf_bindings (
    account            TEXT NOT NULL,
    external_userid    TEXT NOT NULL,
    customer_id        INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    placeholder        BOOLEAN NOT NULL DEFAULT FALSE,
    last_inbound_at    DATETIME,
    sent_since_inbound INTEGER NOT NULL DEFAULT 0,
    created_at         DATETIME NOT NULL,
    PRIMARY KEY (account, external_userid)
);
CREATE INDEX wecomkf_bindings_customer ON wecomkf_bindings(customer_id);

-- +goose Down
DROP TABLE wecomkf_bindings;
DROP TABLE wecomkf_inbound;
DROP TABLE wecomkf_cursors;
DROP TABLE wecomkf_nonces;
