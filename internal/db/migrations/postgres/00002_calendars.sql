-- +goose Up
-- Business calendars (internal/sla). definition is the calendar's JSON
-- (the API shape, make-up days kept as {"date": …}); labels maps exception
-- dates to names from imports ("春节"); version drives ETags and the
-- compiled-calendar cache.
CREATE TABLE calendars (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    time_zone  TEXT NOT NULL,
    definition TEXT NOT NULL,
    labels     TEXT NOT NULL DEFAULT '{}',
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE calendars;
