-- +goose Up
-- Issue 15: the survey after every case (internal/surveys). One row per
-- source and resolution cycle: a ticket (source_kind 'ticket', cycle = its
-- reopen count when resolved) and later a service order. The link's token
-- is never stored, only its SHA-256.
CREATE TABLE surveys (
    id           INTEGER PRIMARY KEY,
    source_kind  TEXT NOT NULL,
    source_id    INTEGER NOT NULL,
    cycle        INTEGER NOT NULL,
    ticket_id    INTEGER REFERENCES tickets(id) ON DELETE CASCADE,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    team_id      INTEGER,
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL DEFAULT '',
    language     TEXT NOT NULL DEFAULT 'zh-CN',
    due_at       DATETIME NOT NULL,
    token_hash   TEXT UNIQUE,
    outbox_id    INTEGER,
    sent_at      DATETIME,
    expires_at   DATETIME,
    csat         INTEGER,
    nps          INTEGER,
    comment      TEXT NOT NULL DEFAULT '',
    answered_at  DATETIME,
    answered_via TEXT NOT NULL DEFAULT '',
    answered_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   DATETIME NOT NULL,
    UNIQUE (source_kind, source_id, cycle)
);
CREATE INDEX surveys_due ON surveys(due_at, id) WHERE state = 'planned';
CREATE INDEX surveys_customer ON surveys(customer_id, sent_at);
CREATE INDEX surveys_ticket ON surveys(ticket_id, id);

-- An unhappy answer's follow-up by the supervisor of the ticket's team:
-- one per survey.
CREATE TABLE survey_follow_ups (
    id           INTEGER PRIMARY KEY,
    survey_id    INTEGER NOT NULL UNIQUE REFERENCES surveys(id) ON DELETE CASCADE,
    ticket_id    INTEGER REFERENCES tickets(id) ON DELETE CASCADE,
    assignee_id  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    state        TEXT NOT NULL,
    due_at       DATETIME NOT NULL,
    contact_note TEXT NOT NULL DEFAULT '',
    cause        TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    closed_at    DATETIME,
    closed_by    INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX survey_follow_ups_assignee ON survey_follow_ups(assignee_id, state, id);

-- +goose Down
DROP TABLE survey_follow_ups;
DROP TABLE surveys;
