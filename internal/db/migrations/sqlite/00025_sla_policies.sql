-- +goose Up
-- SLA policies (internal/sla, policy*.go). conditions and targets are JSON
-- text (the API shape); calendar names a calendars row, '' is calendar time
-- (24×7). priority orders matching (lowest first, then id); version drives
-- ETags. is_default marks the seeded policy (SPEC section 4), which cannot
-- be deleted.
CREATE TABLE sla_policies (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    priority   INTEGER NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    calendar   TEXT NOT NULL DEFAULT '',
    conditions TEXT NOT NULL DEFAULT '{}',
    targets    TEXT NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX sla_policies_priority ON sla_policies(priority, id);

-- +goose Down
DROP TABLE sla_policies;
