-- +goose Up
-- Issue 11: the email channel (internal/email).
-- A mailbox: where mail is fetched (IMAP) and sent (SMTP). Passwords are
-- sealed with the server's secret key (AES-GCM), never stored plain.
CREATE TABLE mailboxes (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT NOT NULL,
    address        TEXT NOT NULL UNIQUE,
    imap_host      TEXT NOT NULL DEFAULT '',
    imap_port      INTEGER NOT NULL DEFAULT 993,
    imap_security  TEXT NOT NULL DEFAULT 'tls',
    imap_username  TEXT NOT NULL DEFAULT '',
    imap_password  TEXT NOT NULL DEFAULT '',
    imap_folder    TEXT NOT NULL DEFAULT 'INBOX',
    smtp_host      TEXT NOT NULL DEFAULT '',
    smtp_port      INTEGER NOT NULL DEFAULT 465,
    smtp_security  TEXT NOT NULL DEFAULT 'tls',
    smtp_username  TEXT NOT NULL DEFAULT '',
    smtp_password  TEXT NOT NULL DEFAULT '',
    team_id        BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    is_default     BOOLEAN NOT NULL DEFAULT FALSE,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    -- IMAP position: the folder's UIDVALIDITY and the last UID taken.
    uid_validity   BIGINT NOT NULL DEFAULT 0,
    last_uid       BIGINT NOT NULL DEFAULT 0,
    last_polled_at TIMESTAMPTZ,
    last_error     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
-- Every Message-ID that belongs to a ticket's thread, both ways: what we
-- sent (outbound, written when the reply's outbox row is) and what we took
-- in. Replies find their ticket through In-Reply-To / References here.
CREATE TABLE email_threads (
    message_id  TEXT PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL,
    direction   TEXT NOT NULL,
    outbox_id   BIGINT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX email_threads_ticket ON email_threads(ticket_id);
-- Every mail taken in and what became of it (ticket, append, auto_reply,
-- bounce, loop, rejected), once per mailbox and Message-ID.
CREATE TABLE email_inbound (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id  BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    message_id  TEXT NOT NULL,
    uid         BIGINT NOT NULL DEFAULT 0,
    sender      TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    ticket_id   BIGINT,
    customer_id BIGINT,
    size        BIGINT NOT NULL DEFAULT 0,
    received_at TIMESTAMPTZ NOT NULL,
    UNIQUE (mailbox_id, message_id)
);
-- The sanitised HTML of a mail, shown on the ticket beside its text.
CREATE TABLE email_bodies (
    ticket_message_id BIGINT PRIMARY KEY,
    html              TEXT NOT NULL
);
-- Each agent's email signature.
CREATE TABLE staff_signatures (
    user_id    BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    signature  TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE staff_signatures;
DROP TABLE email_bodies;
DROP TABLE email_inbound;
DROP TABLE email_threads;
DROP TABLE mailboxes;
