-- +goose Up
-- Issue 10, tickets. Replies (what the customer sees) and internal notes live
-- in two tables, so a customer-facing path that never reads ticket_notes can
-- never leak one.

-- Staff attributes that routing reads: skills, and whether someone is on
-- duty (absent row: on duty).
CREATE TABLE staff_skills (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    skill   TEXT NOT NULL,
    PRIMARY KEY (user_id, skill)
);
CREATE INDEX staff_skills_skill ON staff_skills(skill);
CREATE TABLE staff_presence (
    user_id    BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    on_duty    BOOLEAN NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE ticket_categories (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id  BIGINT REFERENCES ticket_categories(id),
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL DEFAULT '',
    position   INTEGER NOT NULL DEFAULT 0,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX ticket_categories_name ON ticket_categories(COALESCE(parent_id, 0), name);

-- Conditions are JSON arrays (empty: any); strategy picks the person inside
-- the team: round_robin, least_load, skill, or queue (the team takes it).
CREATE TABLE ticket_routing_rules (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    types      TEXT NOT NULL DEFAULT '[]',
    categories TEXT NOT NULL DEFAULT '[]',
    channels   TEXT NOT NULL DEFAULT '[]',
    severities TEXT NOT NULL DEFAULT '[]',
    tiers      TEXT NOT NULL DEFAULT '[]',
    team_id    BIGINT NOT NULL REFERENCES teams(id),
    strategy   TEXT NOT NULL,
    skill      TEXT NOT NULL DEFAULT '',
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
-- The round-robin pointer of a team: the member who got the last ticket.
CREATE TABLE ticket_routing_cursor (
    team_id      BIGINT PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,
    last_user_id BIGINT NOT NULL
);

CREATE TABLE ticket_number_seq (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE tickets (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    customer_id       BIGINT NOT NULL REFERENCES customers(id),
    owned_product_id  BIGINT REFERENCES customer_products(id) ON DELETE SET NULL,
    category_id       BIGINT REFERENCES ticket_categories(id),
    type              TEXT NOT NULL,
    channel           TEXT NOT NULL,
    severity          TEXT NOT NULL,
    severity_rank     SMALLINT NOT NULL,
    state             TEXT NOT NULL,
    is_open           BOOLEAN NOT NULL,
    subject           TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    expectation       TEXT NOT NULL DEFAULT '',
    complaint         TEXT,
    major_complaint   BOOLEAN NOT NULL DEFAULT FALSE,
    tags              TEXT NOT NULL DEFAULT '[]',
    custom            TEXT NOT NULL DEFAULT '{}',
    owner_id          BIGINT REFERENCES users(id),
    team_id           BIGINT REFERENCES teams(id),
    created_by        BIGINT REFERENCES users(id),
    merged_into       BIGINT REFERENCES tickets(id),
    reopen_count      INTEGER NOT NULL DEFAULT 0,
    time_spent        INTEGER NOT NULL DEFAULT 0,
    first_response_at TIMESTAMPTZ,
    resolved_at       TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ,
    confirmation      TEXT NOT NULL DEFAULT '',
    last_message_id   BIGINT NOT NULL DEFAULT 0,
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    -- A ticket always has an owner: a person, or its team until someone takes it.
    CHECK (owner_id IS NOT NULL OR team_id IS NOT NULL)
);
-- Queues walk one index each, newest change first, by keyset.
CREATE INDEX tickets_updated ON tickets(updated_at, id);
CREATE INDEX tickets_created ON tickets(created_at, id);
CREATE INDEX tickets_owner_open ON tickets(owner_id, is_open, updated_at, id);
CREATE INDEX tickets_team_open ON tickets(team_id, is_open, updated_at, id);
CREATE INDEX tickets_state ON tickets(state, updated_at, id);
CREATE INDEX tickets_customer ON tickets(customer_id, created_at, id);
CREATE INDEX tickets_unassigned ON tickets(team_id, updated_at, id) WHERE owner_id IS NULL AND is_open;
CREATE INDEX tickets_major ON tickets(updated_at, id) WHERE major_complaint AND is_open;

-- What the customer sees: their messages and the agents' replies.
CREATE TABLE ticket_messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets(id),
    from_customer BOOLEAN NOT NULL,
    author_id   BIGINT REFERENCES users(id),
    body        TEXT NOT NULL,
    channel     TEXT NOT NULL DEFAULT '',
    time_spent  INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages(ticket_id, id);

-- What never reaches the customer.
CREATE TABLE ticket_notes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets(id),
    author_id   BIGINT REFERENCES users(id),
    body        TEXT NOT NULL,
    time_spent  INTEGER NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX ticket_notes_ticket ON ticket_notes(ticket_id, id);

-- The one place later parts (SLA timers, the outbox, notifications, reports)
-- learn what happened to a ticket, in order.
CREATE TABLE ticket_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id  BIGINT NOT NULL REFERENCES tickets(id),
    kind       TEXT NOT NULL,
    actor_id   BIGINT,
    at         TIMESTAMPTZ NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
CREATE INDEX ticket_events_kind ON ticket_events(kind, at);

CREATE TABLE ticket_commitments (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id  BIGINT NOT NULL REFERENCES tickets(id),
    owner_id   BIGINT REFERENCES users(id),
    text       TEXT NOT NULL,
    due_at     TIMESTAMPTZ NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    kept_at    TIMESTAMPTZ,
    kept_by    BIGINT REFERENCES users(id)
);
CREATE INDEX ticket_commitments_ticket ON ticket_commitments(ticket_id, id);
CREATE INDEX ticket_commitments_open ON ticket_commitments(owner_id, due_at) WHERE kept_at IS NULL;

CREATE TABLE ticket_mentions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id  BIGINT NOT NULL REFERENCES tickets(id),
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    note_id    BIGINT REFERENCES ticket_notes(id),
    message_id BIGINT REFERENCES ticket_messages(id),
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    read_at    TIMESTAMPTZ
);
CREATE INDEX ticket_mentions_user ON ticket_mentions(user_id, created_at, id);

CREATE TABLE ticket_followers (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    user_id   BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (ticket_id, user_id)
);
CREATE INDEX ticket_followers_user ON ticket_followers(user_id);

-- Related tickets, stored once per pair with the smaller id first.
CREATE TABLE ticket_links (
    ticket_id  BIGINT NOT NULL REFERENCES tickets(id),
    related_id BIGINT NOT NULL REFERENCES tickets(id),
    created_by BIGINT REFERENCES users(id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticket_id, related_id),
    CHECK (ticket_id < related_id)
);
CREATE INDEX ticket_links_related ON ticket_links(related_id);

-- Who has a ticket open, and who is writing a reply (collision notice).
CREATE TABLE ticket_presence (
    ticket_id BIGINT NOT NULL REFERENCES tickets(id),
    user_id   BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    replying  BOOLEAN NOT NULL DEFAULT FALSE,
    seen_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticket_id, user_id)
);

CREATE TABLE reply_templates (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE ticket_macros (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    template_id BIGINT REFERENCES reply_templates(id),
    set_state   TEXT NOT NULL DEFAULT '',
    add_tags    TEXT NOT NULL DEFAULT '[]',
    owner_id    BIGINT REFERENCES users(id),
    team_id     BIGINT REFERENCES teams(id),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE ticket_saved_views (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (user_id, name)
);

-- Issue 10: every team's tickets, for the roles that oversee them.
UPDATE roles SET permissions = permissions || ',tickets.view_all'
    WHERE builtin AND key IN ('supervisor', 'quality', 'manager', 'admin') AND permissions NOT LIKE '%tickets.view_all%';

-- +goose Down
DROP TABLE ticket_saved_views;
DROP TABLE ticket_macros;
DROP TABLE reply_templates;
DROP TABLE ticket_presence;
DROP TABLE ticket_links;
DROP TABLE ticket_followers;
DROP TABLE ticket_mentions;
DROP TABLE ticket_commitments;
DROP TABLE ticket_events;
DROP TABLE ticket_notes;
DROP TABLE ticket_messages;
DROP TABLE tickets;
DROP TABLE ticket_number_seq;
DROP TABLE ticket_routing_cursor;
DROP TABLE ticket_routing_rules;
DROP TABLE ticket_categories;
DROP TABLE staff_presence;
DROP TABLE staff_skills;
