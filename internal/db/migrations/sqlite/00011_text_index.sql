-- +goose Up
-- The text index of customer names (internal/textindex): overlapping
-- character bigrams written by the store in the transaction that writes the
-- name, so that a two-character part anywhere in a name (小红 in 李小红)
-- finds the customer; the trigram table customers_fts needs three. FTS5 with
-- the default unicode61 tokenizer, fed terms separated by spaces; contentless
-- (the terms are not stored twice), rowid = customers.id.
CREATE VIRTUAL TABLE customer_text USING fts5(terms, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
-- Indexes created over existing rows are filled at start, in Go (the
-- tokenizer is Go), newest first, from below down (textindex.Backfill).
CREATE TABLE text_index_backfill (
    name  TEXT PRIMARY KEY,
    below INTEGER NOT NULL
);
INSERT INTO text_index_backfill (name, below)
    SELECT 'customer_text', (SELECT MAX(id) FROM customers) + 1 WHERE EXISTS (SELECT 1 FROM customers);

-- +goose Down
DROP TABLE text_index_backfill;
DROP TABLE customer_text;
