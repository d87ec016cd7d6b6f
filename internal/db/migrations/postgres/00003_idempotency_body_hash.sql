-- +goose Up
-- A retried request must carry the same body as the first: the hash tells.
ALTER TABLE idempotency_keys ADD COLUMN body_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE idempotency_keys DROP COLUMN body_hash;
