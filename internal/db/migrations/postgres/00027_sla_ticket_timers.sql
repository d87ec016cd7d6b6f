-- +goose Up
-- Issue 12: SLA timers bound to tickets (internal/ticketsla).
--
-- The ticket's next due target (the earliest due time of its running or
-- breached timers; NULL when none runs), kept by ticketsla in the
-- transaction of every change to the ticket's timers, so that queues show
-- and sort by it and the breaching/breached views are index ranges.
ALTER TABLE tickets ADD COLUMN sla_due_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN sla_due_target TEXT NOT NULL DEFAULT '';
CREATE INDEX tickets_sla_due ON tickets(sla_due_at, id) WHERE is_open = TRUE AND sla_due_at IS NOT NULL;

-- The escalation chain of a breached timer: the next step to run and when.
-- Set by the sweeper when it marks a breach; NULL when the chain is done or
-- the timer is no longer breached (cleared lazily by the sweep).
ALTER TABLE sla_timers ADD COLUMN escalate_at TIMESTAMPTZ;
ALTER TABLE sla_timers ADD COLUMN next_step INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sla_timers_escalate ON sla_timers(escalate_at, id) WHERE escalate_at IS NOT NULL;
-- Recomputing the open timers of a changed policy, ticket by ticket.
CREATE INDEX sla_timers_policy ON sla_timers(policy_id, ticket_id) WHERE state IN ('running', 'paused', 'breached');

-- The version of a calendar / policy whose change the timers have taken in:
-- the sweeper recomputes the open timers of any whose version is newer.
ALTER TABLE calendars ADD COLUMN timers_version INTEGER NOT NULL DEFAULT 0;
UPDATE calendars SET timers_version = version;
ALTER TABLE sla_policies ADD COLUMN timers_version INTEGER NOT NULL DEFAULT 0;
UPDATE sla_policies SET timers_version = version;
-- A deleted policy, written in its deletion's transaction: the sweeper
-- moves the open timers it leaves behind to the policy that matches their
-- ticket now, then removes the row.
CREATE TABLE sla_policies_removed (
    policy_id  BIGINT PRIMARY KEY,
    removed_at TIMESTAMPTZ NOT NULL
);

-- The outcome of each finished or breached target, for reports: met on
-- time or breached (and when met late), the business time taken with paused
-- time excluded, and the calendar, so that a month's compliance is a query
-- over this table, not a replay of events. Written with the timer's change.
CREATE TABLE sla_outcomes (
    ticket_id        BIGINT NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    target           TEXT NOT NULL,
    cycle            INTEGER NOT NULL,
    policy_id        BIGINT,
    calendar         TEXT NOT NULL,
    ticket_type      TEXT NOT NULL,
    severity         TEXT NOT NULL,
    team_id          BIGINT,
    owner_id         BIGINT,
    started_at       TIMESTAMPTZ NOT NULL,
    due_at           TIMESTAMPTZ NOT NULL,
    breached         BOOLEAN NOT NULL,
    breached_at      TIMESTAMPTZ,
    met_at           TIMESTAMPTZ,
    business_seconds BIGINT NOT NULL,
    paused_seconds   BIGINT NOT NULL,
    target_seconds   BIGINT NOT NULL,
    -- ended_at: met_at when met, else breached_at (the month it counts in).
    ended_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticket_id, target, cycle)
);
CREATE INDEX sla_outcomes_ended ON sla_outcomes(ended_at);

-- +goose Down
DROP TABLE sla_outcomes;
DROP TABLE sla_policies_removed;
DROP INDEX sla_timers_escalate;
DROP INDEX tickets_sla_due;
