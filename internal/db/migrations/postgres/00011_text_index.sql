-- +goose Up
-- The text index of customer names (internal/textindex): overlapping
-- character bigrams, as a tsvector built in Go from a literal with positions
-- ('李小':1 '小红':2 '红':3; the text search parser is not asked to cut
-- Chinese) and written by the store in the transaction that writes the name,
-- so that a two-character part anywhere in a name finds the customer; the
-- trigram index customers_name_trgm needs three. A table of its own keyed
-- by the customer's id, so the customers rows stay as narrow as they were.
CREATE TABLE customer_text (
    id    BIGINT PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    terms TSVECTOR NOT NULL
);
CREATE INDEX customer_text_terms ON customer_text USING gin (terms) WITH (gin_pending_list_limit = 256);
-- Indexes created over existing rows are filled at start, in Go (the
-- tokenizer is Go), newest first, from below down (textindex.Backfill).
CREATE TABLE text_index_backfill (
    name  TEXT PRIMARY KEY,
    below BIGINT NOT NULL
);
INSERT INTO text_index_backfill (name, below)
    SELECT 'customer_text', (SELECT MAX(id) FROM customers) + 1 WHERE EXISTS (SELECT 1 FROM customers);

-- +goose Down
DROP TABLE text_index_backfill;
DROP TABLE customer_text;
