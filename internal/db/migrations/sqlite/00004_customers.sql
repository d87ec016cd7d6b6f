-- +goose Up
CREATE TABLE customers (
    id                 INTEGER PRIMARY KEY,
    number             TEXT NOT NULL UNIQUE,
    type               TEXT NOT NULL,
    name               TEXT NOT NULL,
    name_pinyin        TEXT NOT NULL DEFAULT '',
    name_initials      TEXT NOT NULL DEFAULT '',
    name_pinyin_alt    TEXT NOT NULL DEFAULT '',
    name_initials_alt  TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    wechat             TEXT NOT NULL DEFAULT '',
    address            TEXT NOT NULL DEFAULT '',
    industry           TEXT NOT NULL DEFAULT '',
    birthday           TEXT NOT NULL DEFAULT '',
    lunar_birthday     TEXT NOT NULL DEFAULT '',
    cooperation_start  TEXT NOT NULL DEFAULT '',
    preferred_channel  TEXT NOT NULL DEFAULT '',
    preferred_time     TEXT NOT NULL DEFAULT '',
    owner_id           INTEGER REFERENCES users(id),
    tier               TEXT NOT NULL DEFAULT 'normal',
    tags               TEXT NOT NULL DEFAULT '[]',
    remarks            TEXT NOT NULL DEFAULT '',
    custom             TEXT NOT NULL DEFAULT '{}',
    lifecycle          TEXT NOT NULL DEFAULT 'potential',
    lifecycle_override TEXT NOT NULL DEFAULT '',
    merged_into        INTEGER REFERENCES customers(id),
    erased_at          DATETIME,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL
);
CREATE INDEX customers_name ON customers(name);
CREATE INDEX customers_pinyin ON customers(name_pinyin);
CREATE INDEX customers_initials ON customers(name_initials);
CREATE INDEX customers_pinyin_alt ON customers(name_pinyin_alt) WHERE name_pinyin_alt <> '';
CREATE INDEX customers_initials_alt ON customers(name_initials_alt) WHERE name_initials_alt <> '';
-- Not partial: the duplicate check looks emails up with email = $1 alone.
CREATE INDEX customers_email ON customers(email);
CREATE INDEX customers_owner ON customers(owner_id);
CREATE INDEX customers_updated ON customers(updated_at, id);
-- The effective lifecycle stage (the override when set), with id: the list
-- filtered by stage walks it newest first. Churned customers are old ones, so
-- without it the filter reads most of the table before it fills a page.
CREATE INDEX customers_stage ON customers((CASE WHEN lifecycle_override <> '' THEN lifecycle_override ELSE lifecycle END), id);

-- Substring search of names and companies of three characters or more.
CREATE VIRTUAL TABLE customers_fts USING fts5(name, content='customers', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts(rowid, name) VALUES (new.id, new.name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customers_fts(customers_fts, rowid, name) VALUES ('delete', old.id, old.name);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customers_fts_update AFTER UPDATE OF name ON customers BEGIN
    INSERT INTO customers_fts(customers_fts, rowid, name) VALUES ('delete', old.id, old.name);
    INSERT INTO customers_fts(rowid, name) VALUES (new.id, new.name);
END;
-- +goose StatementEnd

CREATE TABLE customer_phones (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    last4       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX customer_phones_phone ON customer_phones(phone);
CREATE INDEX customer_phones_last4 ON customer_phones(last4, customer_id);
CREATE INDEX customer_phones_customer ON customer_phones(customer_id);

CREATE TABLE customer_contacts (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    phone       TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    is_primary  BOOLEAN NOT NULL DEFAULT FALSE,
    position    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX customer_contacts_customer ON customer_contacts(customer_id);

CREATE TABLE customer_number_seq (
    month TEXT PRIMARY KEY,
    last  INTEGER NOT NULL
);

CREATE TABLE customer_number_redirects (
    number      TEXT PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE
);

CREATE TABLE customer_consents (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    opted_out   BOOLEAN NOT NULL,
    at          DATETIME NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, channel)
);

CREATE TABLE products (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    model              TEXT NOT NULL DEFAULT '',
    warranty_months    INTEGER NOT NULL DEFAULT 12,
    maintenance_months INTEGER NOT NULL DEFAULT 0,
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    UNIQUE (name, model)
);

CREATE TABLE customer_products (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    product_id      INTEGER NOT NULL REFERENCES products(id),
    serial          TEXT NOT NULL DEFAULT '',
    purchase_date   TEXT NOT NULL,
    warranty_end    TEXT NOT NULL,
    install_address TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX customer_products_customer ON customer_products(customer_id);
CREATE INDEX customer_products_serial ON customer_products(serial) WHERE serial <> '';

CREATE TABLE service_contracts (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    number      TEXT NOT NULL DEFAULT '',
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    coverage    TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL
);
CREATE INDEX service_contracts_customer ON service_contracts(customer_id);

CREATE TABLE custom_fields (
    id       INTEGER PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    type     TEXT NOT NULL,
    choices  TEXT NOT NULL DEFAULT '[]',
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE timeline_events (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    at          DATETIME NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    INTEGER,
    actor_label TEXT NOT NULL DEFAULT '',
    summary_key TEXT NOT NULL,
    params      TEXT NOT NULL DEFAULT '{}',
    entity      TEXT NOT NULL DEFAULT '',
    entity_id   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX timeline_events_customer ON timeline_events(customer_id, id);

-- +goose Down
DROP TABLE timeline_events;
DROP TABLE custom_fields;
DROP TABLE service_contracts;
DROP TABLE customer_products;
DROP TABLE products;
DROP TABLE customer_consents;
DROP TABLE customer_number_redirects;
DROP TABLE customer_number_seq;
DROP TABLE customer_contacts;
DROP TABLE customer_phones;
DROP TRIGGER customers_fts_update;
DROP TRIGGER customers_fts_delete;
DROP TRIGGER customers_fts_insert;
DROP TABLE customers_fts;
DROP TABLE customers;
