-- +goose Up
-- Proactive care (internal/care, docs/care.md). A plan says when a customer
-- is owed a contact (kind, params), how early the task appears (lead_days)
-- and the window around the occasion's date (window_start..window_end days,
-- negative = before); target, assignee, channel and script are what the task
-- is made with. key names the plans shipped by default ('' for others), so
-- seeding them on start is idempotent.
CREATE TABLE care_plans (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    params        TEXT NOT NULL DEFAULT '{}',
    lead_days     INTEGER NOT NULL DEFAULT 0,
    window_start  INTEGER NOT NULL,
    window_end    INTEGER NOT NULL,
    target        TEXT NOT NULL DEFAULT '{}',
    assignee_rule TEXT NOT NULL DEFAULT 'owner',
    team_id       BIGINT REFERENCES teams(id) ON DELETE SET NULL,
    channel_rule  TEXT NOT NULL DEFAULT 'preference',
    script        TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX care_plans_key ON care_plans(key) WHERE key <> '';

-- One task per plan, customer and occasion ("spring_festival:2027"), however
-- many schedulers run: the scheduler inserts with ON CONFLICT DO NOTHING.
-- Dates are business-zone calendar days, 'YYYY-MM-DD'.
CREATE TABLE care_tasks (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id       BIGINT NOT NULL REFERENCES care_plans(id) ON DELETE CASCADE,
    customer_id   BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    occasion_key  TEXT NOT NULL,
    occasion_date TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    window_end    TEXT NOT NULL,
    assignee_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    channel       TEXT NOT NULL DEFAULT '',
    script        TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT 'open',
    done_at       TIMESTAMPTZ,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (plan_id, customer_id, occasion_key)
);
-- "My care tasks": an agent's open tasks by due date.
CREATE INDEX care_tasks_assignee ON care_tasks(assignee_id, state, due_on, id);
CREATE INDEX care_tasks_due ON care_tasks(state, due_on, id);
-- The scheduler reads a batch's existing tasks by customer range.
CREATE INDEX care_tasks_customer ON care_tasks(customer_id, window_end);

-- +goose Down
DROP TABLE care_tasks;
DROP TABLE care_plans;
