// Package textindex is Careloop's one mechanism for searching Chinese (and
// mixed) text by its words: a two-character word such as 换货, 保修, 黑屏
// or 小红 finds the texts that contain it anywhere, on SQLite and
// PostgreSQL alike. Trigram indexes find nothing below three characters,
// and neither database can cut Chinese into words, so the text is cut here,
// in Go, into terms both databases index as they are.
//
// # Terms
//
// A text is cut into pieces at spaces, punctuation, symbols and emoji.
// Within a piece, a run of CJK characters (Han, kana, Hangul) becomes its
// overlapping bigrams followed by its last character alone (李小红: 李小 小红
// 红; a run of one character is its unigram); a run of letters is a word,
// lower-cased, and a run of digits another (RTX4090 is rtx 4090). Full-width
// ASCII is folded to half-width, combining marks are dropped, words are cut
// at 32 characters. Terms returns them, Document writes them for a
// database.
//
// A query (ParseQuery) is a phrase per piece: 换货快递 is 换货 货快 快递,
// adjacent, so a text with 换货 here and 快递 there does not match, nor one
// with 华X强 for 华强 (its bigrams are 华X X强). Every phrase must match. A
// single CJK character at the end of a piece is a prefix of a term (张 finds
// 张伟 and 主张: every character starts a term); the query's last word of
// two characters or more is a prefix too (erro finds error). Highlight
// finds the same pieces in the original text and returns segments, never
// markup.
//
// # Storage: one index table per entity
//
// Each entity has a table of its own, keyed by the entity's id, rather
// than a column on the entity's table or one table for all entities:
// on SQLite an FTS5 table's key is its rowid, and with rowid = the entity's
// id FTS5 yields matches newest first and lazily (ORDER BY id DESC LIMIT n
// stops after a page even for a word in half the rows); one shared table
// would interleave entities in that order and need a second key. On
// PostgreSQL a side table keeps the entity rows as narrow as they were
// (their scans of the newest rows, which the searches use, read no
// tsvectors). The tables, named <entity>_text:
//
//	-- SQLite: contentless (terms are not stored twice), rows deletable
//	CREATE VIRTUAL TABLE ticket_text USING fts5(terms, content='',
//	    contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
//	-- PostgreSQL: a tsvector from a literal with positions ('换货':1 '货快':2)
//	CREATE TABLE ticket_text (id BIGINT PRIMARY KEY REFERENCES tickets(id) ON DELETE CASCADE,
//	    terms TSVECTOR NOT NULL);
//	CREATE INDEX ticket_text_terms ON ticket_text USING gin (terms) WITH (gin_pending_list_limit = 256);
//
// The SQLite table uses FTS5's default unicode61 tokenizer on terms joined
// by spaces (each term is one token to it; diacritics kept, as on
// PostgreSQL); the texts of one document are separated by a private-use
// character, a token no query holds, so no phrase spans two texts. The
// PostgreSQL document is a tsvector literal, not to_tsvector: its parser
// is not asked to understand Chinese. A tsvector keeps positions up to
// 16383 and 256 per lexeme: past 16383 the positions wrap around (adjacent
// terms stay adjacent; a phrase may rarely match two terms that meet only
// through the wrap), and a term's occurrences after its 256th do not count
// for phrases. Index long texts in parts (a ticket's messages one by one)
// to stay well inside these limits.
//
// # Use
//
// In the store's transaction (db.WithTx), with the rows it indexes:
//
//	var ticketText = textindex.Index{Table: "ticket_text"}
//	err := ticketText.Put(ctx, s.db, textindex.Doc{ID: t.ID, Texts: []string{t.Subject, t.Description}})
//	err := ticketText.Delete(ctx, s.db, t.ID) // erased: no longer found by its words
//
// Put replaces what the index held for the id and writes any number of
// documents in batched INSERTs (imports). To search:
//
//	q, ok := textindex.ParseQuery(userInput) // !ok: nothing to search for
//	arg := w.arg(q.Arg(d))                   // "$3"; the value is an FTS5 query or a tsquery literal
//	ids := ticketText.IDs(d, arg)            // subquery: SELECT … AS id of the matches, unordered
//
// On SQLite drive the statement from the index, newest first: SELECT …
// FROM (SELECT id AS m_id FROM (ids)) AS m JOIN tickets ON tickets.id =
// m.m_id ORDER BY m.m_id DESC LIMIT n. On PostgreSQL the GIN index returns
// every match before any is sorted: a word in 1 % of a million rows is
// 10,000 rows to sort. There, scan the newest rows first and check each
// with Match (a primary-key probe of the index table and a tsvector test),
// or with a cheaper test on the row when one is equivalent (customers'
// two-character names use strpos), and only when that window does not fill
// a page take the rest from id IN (ids); internal/customers
// (store_search_pg.go) shows that plan, gated at run time so one generic
// plan serves every word.
//
// Existing rows are indexed by Backfill when an index is added to a table
// that has some: the migration records the starting id in
// text_index_backfill and the store's backfill, run at start, indexes the
// older rows newest first, a batch per transaction.
package textindex
