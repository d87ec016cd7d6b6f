-- +goose Up
-- Issue 15: the survey after every case (internal/surveys). One row per
-- source and resolution cycle: a ticket (source_kind 'ticket', cycle = its
-- reopen count when resolved) and later a service order. The link's token
-- is never stored, only its SHA-256.
CREATE TABLE surveys (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_kind  TEXT NOT NULL,
    source_id    BIGINT NOT NULL,
    cycle        INTEGER NOT NULL,
    ticket_id    BIGINT REFERENCES tickets(id) ON DELETE CASCADE,
    customer_id  BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    team_id      BIGINT,
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL DEFAULT '',
    language     TEXT NOT NULL DEFAULT 'zh-CN',
    due_at       TIMESTAMPTZ NOT NULL,
    token_hash   TEXT UNIQUE,
    outbox_id    BIGINT,
    sent_at      TIMESTAMPTZ,
    expires_at   TIMESTAMPTZ,
    csat         INTEGER,
    nps          INTEGER,
    comment      TEXT NOT NULL DEFAULT '',
    answered_at  TIMESTAMPTZ,
    answered_via TEXT NOT NULL DEFAULT '',
    answered_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (source_kind, source_id, cycle)
);
CREATE INDEX surveys_due ON surveys(due_at, id) WHERE state = 'planned';
CREATE INDEX surveys_customer ON surveys(customer_id, sent_at);
CREATE INDEX surveys_ticket ON surveys(ticket_id, id);

-- An unhappy answer's follow-up by the supervisor of the ticket's team:
-- one per survey.
CREATE TABLE survey_follow_ups (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id    BIGINT NOT NULL UNIQUE REFERENCES surveys(id) ON DELETE CASCADE,
    ticket_id    BIGINT REFERENCES tickets(id) ON DELETE CASCADE,
    assignee_id  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    state        TEXT NOT NULL,
    due_at       TIMESTAMPTZ NOT NULL,
    contact_note TEXT NOT NULL DEFAULT '',
    cause        TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    closed_at    TIMESTAMPTZ,
    closed_by    BIGINT REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX survey_follow_ups_assignee ON survey_follow_ups(assignee_id, state, id);

-- +goose Down
DROP TABLE survey_follow_ups;
DROP TABLE surveys;
