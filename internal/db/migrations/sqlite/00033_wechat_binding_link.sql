-- +goose Up
-- Issue 13: an agent links a WeChat follower to the real customer
-- (internal/wechat/bind.go). A binding gets an id for the API
-- (/api/v1/wechat/bindings/{id}/link), the unionid the platform gives on
-- user info (empty until known), and who linked it when. SQLite cannot add
-- an INTEGER PRIMARY KEY column, so the table is rebuilt; (account, openid)
-- stays unique, which the callback's claim relies on.
CREATE TABLE wechat_bindings_new (
    id          INTEGER PRIMARY KEY,
    account     TEXT NOT NULL,
    openid      TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    placeholder BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  DATETIME NOT NULL,
    last_inbound_at DATETIME, -- 00032
    unionid     TEXT NOT NULL DEFAULT '',
    linked_at   DATETIME,
    linked_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    UNIQUE (account, openid)
);
INSERT INTO wechat_bindings_new (account, openid, customer_id, placeholder, created_at, last_inbound_at)
    SELECT account, openid, customer_id, placeholder, created_at, last_inbound_at FROM wechat_bindings ORDER BY created_at;
DROP TABLE wechat_bindings;
ALTER TABLE wechat_bindings_new RENAME TO wechat_bindings;
CREATE INDEX wechat_bindings_customer ON wechat_bindings(customer_id);
CREATE INDEX wechat_bindings_unionid ON wechat_bindings(unionid) WHERE unionid <> '';

-- +goose Down
DROP INDEX wechat_bindings_unionid;
