-- +goose Up
-- Issue 11: the customer portal (internal/portal). A portal account is a
-- customer's way in: an email address (magic links) and/or a phone (SMS
-- codes), tied to one customer. Links, codes, sessions and API tokens are
-- stored as SHA-256 hashes only.
CREATE TABLE portal_accounts (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES customers(id),
    email           TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    last_sign_in_at DATETIME
);
CREATE UNIQUE INDEX portal_accounts_email ON portal_accounts(email) WHERE email <> '';
CREATE UNIQUE INDEX portal_accounts_phone ON portal_accounts(phone) WHERE phone <> '';
CREATE INDEX portal_accounts_customer ON portal_accounts(customer_id);

-- Single-use sign-in links (magic links): used_at is set once, by the
-- statement that checks it is still NULL.
CREATE TABLE portal_links (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    account_id  INTEGER NOT NULL REFERENCES portal_accounts(id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    next        TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME
);
CREATE INDEX portal_links_account ON portal_links(account_id, created_at);
CREATE INDEX portal_links_expires ON portal_links(expires_at);

-- One-time SMS codes: a few tries each, then spent.
CREATE TABLE portal_codes (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES portal_accounts(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL,
    expires_at  DATETIME NOT NULL,
    used_at     DATETIME
);
CREATE INDEX portal_codes_account ON portal_codes(account_id, id);

CREATE TABLE portal_sessions (
    id_hash      TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES portal_accounts(id) ON DELETE CASCADE,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at   DATETIME NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX portal_sessions_account ON portal_sessions(account_id);
CREATE INDEX portal_sessions_expires ON portal_sessions(expires_at);

CREATE TABLE portal_tokens (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES portal_accounts(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE INDEX portal_tokens_account ON portal_tokens(account_id);

-- Finding the customer of an address also looks at their contacts.
CREATE INDEX customer_contacts_email ON customer_contacts(email) WHERE email <> '';

-- +goose Down
DROP INDEX customer_contacts_email;
DROP TABLE portal_tokens;
DROP TABLE portal_sessions;
DROP TABLE portal_codes;
DROP TABLE portal_links;
DROP TABLE portal_accounts;
