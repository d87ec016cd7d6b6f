-- +goose Up
-- The search box on PostgreSQL runs generic plans shaped by the code
-- (internal/customers/store_search.go) instead of planning every keystroke:
-- the name indexes carry the id and leave out merged customers, so that a
-- name's matches are counted and sorted without reading rows.
DROP INDEX customers_name_prefix;
CREATE INDEX customers_name_prefix ON customers (name text_pattern_ops) INCLUDE (id) WHERE merged_into IS NULL;
DROP INDEX customers_pinyin;
CREATE INDEX customers_pinyin ON customers (name_pinyin text_pattern_ops) INCLUDE (id) WHERE merged_into IS NULL;
DROP INDEX customers_initials;
CREATE INDEX customers_initials ON customers (name_initials text_pattern_ops) INCLUDE (id) WHERE merged_into IS NULL;
DROP INDEX customers_pinyin_alt;
CREATE INDEX customers_pinyin_alt ON customers (name_pinyin_alt text_pattern_ops) INCLUDE (id)
    WHERE name_pinyin_alt <> '' AND merged_into IS NULL;
DROP INDEX customers_initials_alt;
CREATE INDEX customers_initials_alt ON customers (name_initials_alt text_pattern_ops) INCLUDE (id)
    WHERE name_initials_alt <> '' AND merged_into IS NULL;
-- No statement plans by the name statistics any more; the 1,000-entry sample
-- made every statement that mentions the name pay for reading it.
ALTER TABLE customers ALTER COLUMN name SET STATISTICS -1;

-- +goose Down
ALTER TABLE customers ALTER COLUMN name SET STATISTICS 1000;
DROP INDEX customers_initials_alt;
CREATE INDEX customers_initials_alt ON customers(name_initials_alt text_pattern_ops) WHERE name_initials_alt <> '';
DROP INDEX customers_pinyin_alt;
CREATE INDEX customers_pinyin_alt ON customers(name_pinyin_alt text_pattern_ops) WHERE name_pinyin_alt <> '';
DROP INDEX customers_initials;
CREATE INDEX customers_initials ON customers(name_initials text_pattern_ops);
DROP INDEX customers_pinyin;
CREATE INDEX customers_pinyin ON customers(name_pinyin text_pattern_ops);
DROP INDEX customers_name_prefix;
CREATE INDEX customers_name_prefix ON customers (name text_pattern_ops);
