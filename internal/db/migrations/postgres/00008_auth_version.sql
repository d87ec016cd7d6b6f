-- +goose Up
-- auth_version changes with everything a signed-in request's principal is
-- made of (active, roles, teams, password, name, email, language, and every
-- role's permissions): the session or token lookup reads it in the same
-- statement, and the server reuses its cached principal only while it matches.
ALTER TABLE users ADD COLUMN auth_version BIGINT NOT NULL DEFAULT 1;

-- Deactivation now revokes API tokens for good; tokens of accounts that are
-- already deactivated must not come back if the account is re-activated.
UPDATE api_tokens SET revoked_at = date_trunc('microseconds', now())
WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE NOT active);

-- +goose Down
ALTER TABLE users DROP COLUMN auth_version;
