-- +goose Up
-- Issue 13: an agent links a 微信客服 user to the real customer, as for
-- the Official Account (internal/wecomkf/bind.go over wechat.Linker). A
-- binding gets an id for the API (/api/v1/wecom-kf/bindings/{id}/link)
-- and who linked it when.
ALTER TABLE wecomkf_bindings ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE wecomkf_bindings ADD COLUMN linked_at TIMESTAMPTZ;
ALTER TABLE wecomkf_bindings ADD COLUMN linked_by BIGINT REFERENCES users(id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE wecomkf_bindings DROP COLUMN linked_by;
ALTER TABLE wecomkf_bindings DROP COLUMN linked_at;
ALTER TABLE wecomkf_bindings DROP COLUMN id;
