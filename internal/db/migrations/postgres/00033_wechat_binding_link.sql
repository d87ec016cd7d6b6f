-- +goose Up
-- Issue 13: an agent links a WeChat follower to the real customer
-- (internal/wechat/bind.go). A binding gets an id for the API
-- (/api/v1/wechat/bindings/{id}/link), the unionid the platform gives on
-- user info (empty until known), and who linked it when.
ALTER TABLE wechat_bindings ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE wechat_bindings ADD COLUMN unionid TEXT NOT NULL DEFAULT '';
ALTER TABLE wechat_bindings ADD COLUMN linked_at TIMESTAMPTZ;
ALTER TABLE wechat_bindings ADD COLUMN linked_by BIGINT REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX wechat_bindings_unionid ON wechat_bindings(unionid) WHERE unionid <> '';

-- +goose Down
DROP INDEX wechat_bindings_unionid;
ALTER TABLE wechat_bindings DROP COLUMN linked_by;
ALTER TABLE wechat_bindings DROP COLUMN linked_at;
ALTER TABLE wechat_bindings DROP COLUMN unionid;
ALTER TABLE wechat_bindings DROP COLUMN id;
