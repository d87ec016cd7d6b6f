-- +goose Up
CREATE TABLE customers (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    owner_id           BIGINT REFERENCES users(id),
    tier               TEXT NOT NULL DEFAULT 'normal',
    tags               TEXT NOT NULL DEFAULT '[]',
    remarks            TEXT NOT NULL DEFAULT '',
    custom             TEXT NOT NULL DEFAULT '{}',
    lifecycle          TEXT NOT NULL DEFAULT 'potential',
    lifecycle_override TEXT NOT NULL DEFAULT '',
    merged_into        BIGINT REFERENCES customers(id),
    erased_at          TIMESTAMPTZ,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX customers_pinyin ON customers(name_pinyin text_pattern_ops);
CREATE INDEX customers_initials ON customers(name_initials text_pattern_ops);
CREATE INDEX customers_pinyin_alt ON customers(name_pinyin_alt text_pattern_ops) WHERE name_pinyin_alt <> '';
CREATE INDEX customers_initials_alt ON customers(name_initials_alt text_pattern_ops) WHERE name_initials_alt <> '';
-- text_pattern_ops: the search box matches email prefixes with LIKE 'x%'. Not
-- partial: the duplicate check looks emails up with email = $1 alone.
CREATE INDEX customers_email ON customers(email text_pattern_ops);
CREATE INDEX customers_owner ON customers(owner_id);
CREATE INDEX customers_updated ON customers(updated_at, id);
-- The effective lifecycle stage (the override when set), with id: the list
-- filtered by stage walks it newest first. Churned customers are old ones, so
-- without it the filter reads most of the table before it fills a page.
CREATE INDEX customers_stage ON customers((CASE WHEN lifecycle_override <> '' THEN lifecycle_override ELSE lifecycle END), id);

-- Substring search of names and companies of three characters or more.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- A short pending list: every trigram search reads all of it, and rows
-- updated in bulk (lifecycle stages, imports) would otherwise queue up to
-- 4 MB there and add milliseconds to each search until the next vacuum.
CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops) WITH (gin_pending_list_limit = 256);
-- The planner estimates substring matches ('%有限公司%', '%张伟%') from a sample
-- of names; the default 100 entries miss substrings shared by 1 % of the
-- customers, and a rare-looking common substring gets sorted instead of
-- scanned newest first.
ALTER TABLE customers ALTER COLUMN name SET STATISTICS 1000;
CREATE INDEX customers_name_prefix ON customers (name text_pattern_ops);

CREATE TABLE customer_phones (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    last4       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    position    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX customer_phones_phone ON customer_phones(phone);
CREATE INDEX customer_phones_last4 ON customer_phones(last4, customer_id);
CREATE INDEX customer_phones_customer ON customer_phones(customer_id);

CREATE TABLE customer_contacts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
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
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE
);

CREATE TABLE customer_consents (
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL,
    opted_out   BOOLEAN NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    source      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, channel)
);

CREATE TABLE products (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               TEXT NOT NULL,
    model              TEXT NOT NULL DEFAULT '',
    warranty_months    INTEGER NOT NULL DEFAULT 12,
    maintenance_months INTEGER NOT NULL DEFAULT 0,
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (name, model)
);

CREATE TABLE customer_products (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    product_id      BIGINT NOT NULL REFERENCES products(id),
    serial          TEXT NOT NULL DEFAULT '',
    purchase_date   TEXT NOT NULL,
    warranty_end    TEXT NOT NULL,
    install_address TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX customer_products_customer ON customer_products(customer_id);
CREATE INDEX customer_products_serial ON customer_products(serial) WHERE serial <> '';

CREATE TABLE service_contracts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    number      TEXT NOT NULL DEFAULT '',
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    coverage    TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX service_contracts_customer ON service_contracts(customer_id);

CREATE TABLE custom_fields (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    type     TEXT NOT NULL,
    choices  TEXT NOT NULL DEFAULT '[]',
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE timeline_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    BIGINT,
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
DROP TABLE customers;
