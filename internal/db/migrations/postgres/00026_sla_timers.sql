-- +goose Up
-- Issue 12: SLA timers (internal/sla TimerStore). One row per ticket,
-- target and cycle (a recurring target's cycles are rows of their own);
-- the UNIQUE key makes a timer exist once even when two servers create it.
-- data is the sla.Timer's JSON (history, pauses, finished cycles); state,
-- due_at and warn_at are copies of its fields for the sweeps' indexes.
-- calendar_id names the calendar the timer was computed on (recomputed when
-- that calendar changes); policy_id has no foreign key yet.
CREATE TABLE sla_timers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    target      TEXT NOT NULL,
    cycle       INTEGER NOT NULL,
    state       TEXT NOT NULL,
    due_at      TIMESTAMPTZ,
    warn_at     TIMESTAMPTZ,
    warned      BOOLEAN NOT NULL DEFAULT FALSE,
    calendar_id BIGINT,
    policy_id   BIGINT,
    data        TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (ticket_id, target, cycle)
);
-- The due sweep: running timers by due time.
CREATE INDEX sla_timers_due ON sla_timers(due_at, id) WHERE state = 'running';
-- The warning sweep: running timers whose warning is not yet sent.
CREATE INDEX sla_timers_warn ON sla_timers(warn_at, id) WHERE state = 'running' AND warned = FALSE;
-- Recomputing the open timers of a calendar, in batches by id.
CREATE INDEX sla_timers_calendar ON sla_timers(calendar_id, id) WHERE state IN ('running', 'paused', 'breached');

-- Each warning (step 0) and escalation step (1, 2, …) of a timer's cycle is
-- claimed here once: the server whose INSERT lands sends it.
CREATE TABLE sla_escalations (
    ticket_id  BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    target     TEXT NOT NULL,
    cycle      INTEGER NOT NULL,
    step       INTEGER NOT NULL,
    claimed_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticket_id, target, cycle, step)
);

-- +goose Down
DROP TABLE sla_escalations;
DROP TABLE sla_timers;
