-- +goose Up
-- PostgreSQL's search indexes changed in this version (see its migration);
-- SQLite's serve as they are. The version exists in both folders so that
-- both databases count their migrations alike.
SELECT 1;

-- +goose Down
SELECT 1;
