-- +goose Up
-- Issue 10: custom fields of tickets (per ticket type) share the customer
-- fields' table and mechanism (internal/customfields).
ALTER TABLE custom_fields ADD COLUMN entity TEXT NOT NULL DEFAULT 'customer';
ALTER TABLE custom_fields ADD COLUMN applies_to TEXT NOT NULL DEFAULT '[]';
ALTER TABLE custom_fields DROP CONSTRAINT custom_fields_key_key;
ALTER TABLE custom_fields ADD CONSTRAINT custom_fields_entity_key UNIQUE (entity, key);

-- +goose Down
ALTER TABLE custom_fields DROP CONSTRAINT custom_fields_entity_key;
DELETE FROM custom_fields WHERE entity <> 'customer';
ALTER TABLE custom_fields ADD CONSTRAINT custom_fields_key_key UNIQUE (key);
ALTER TABLE custom_fields DROP COLUMN applies_to;
ALTER TABLE custom_fields DROP COLUMN entity;
