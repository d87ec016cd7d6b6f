-- +goose Up
-- Issue 13, replies out (internal/wechat): the 客服消息 API answers a
-- follower only within 48 hours of their last message, so each binding
-- remembers when its follower last wrote.
ALTER TABLE wechat_bindings ADD COLUMN last_inbound_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE wechat_bindings DROP COLUMN last_inbound_at;
