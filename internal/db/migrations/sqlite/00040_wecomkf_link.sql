-- +goose Up
-- Issue 13: an agent links a 微信客服 user to the real customer, as for
-- the Official Account (internal/wecomkf/bind.go over wechat.Linker). A
-- binding gets an id for the API (/api/v1/wecom-kf/bindings/{id}/link)
-- and who linked it when. SQLite cannot add an INTEGER PRIMARY KEY
-- column, so the table is rebuilt; (account, external_userid) stays
-- unique, which the pull's claim relies on.
CREATE TABLE wecomkf_bindings_new (
    id                 INTEGER PRIMARY KEY,
    account            TEXT NOT NULL,
    external_userid    TEXT NOT NULL,
    customer_id        INTEGER REFERENCES customers(id) ON DELETE SET NULL,
    placeholder        BOOLEAN NOT NULL DEFAULT FALSE,
    last_inbound_at    DATETIME,
    sent_since_inbound INTEGER NOT NULL DEFAULT 0,
    created_at         DATETIME NOT NULL,
    linked_at          DATETIME,
    linked_by          INTEGER REFERENCES users(id) ON DELETE SET NULL,
    UNIQUE (account, external_userid)
);
INSERT INTO wecomkf_bindings_new (account, external_userid, customer_id, placeholder, last_inbound_at, sent_since_inbound, created_at)
    SELECT account, external_userid, customer_id, placeholder, last_inbound_at, sent_since_inbound, created_at FROM wecomkf_bindings ORDER BY created_at;
DROP TABLE wecomkf_bindings;
ALTER TABLE wecomkf_bindings_new RENAME TO wecomkf_bindings;
CREATE INDEX wecomkf_bindings_customer ON wecomkf_bindings(customer_id);

-- +goose Down
-- The rebuilt table keeps its new columns (as 00033 does for wechat).
SELECT 1;
