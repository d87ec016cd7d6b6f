-- +goose Up
-- Background customer imports (files over the synchronous row limit): the
-- job's state and report, and the uploaded file until the job has read it.
CREATE TABLE customer_imports (
    id               INTEGER PRIMARY KEY,
    status           TEXT NOT NULL,                 -- queued, running, done, failed, cancelled
    file_name        TEXT NOT NULL DEFAULT '',
    dry_run          BOOLEAN NOT NULL DEFAULT FALSE,
    valid_only       BOOLEAN NOT NULL DEFAULT FALSE,
    allow_duplicates BOOLEAN NOT NULL DEFAULT FALSE,
    phase            TEXT NOT NULL DEFAULT '',       -- checking, importing
    rows_total       INTEGER NOT NULL DEFAULT 0,
    rows_done        INTEGER NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    report           TEXT NOT NULL DEFAULT '',       -- JSON ImportReport when finished
    created_by       INTEGER REFERENCES users(id),
    actor_label      TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    finished_at      DATETIME
);
CREATE INDEX customer_imports_created ON customer_imports(created_at);

CREATE TABLE customer_import_files (
    import_id INTEGER PRIMARY KEY REFERENCES customer_imports(id) ON DELETE CASCADE,
    data      BLOB NOT NULL
);

-- +goose Down
DROP TABLE customer_import_files;
DROP TABLE customer_imports;
