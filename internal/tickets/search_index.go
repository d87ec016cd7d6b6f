package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/textindex"
)

// ticketText is the text index of tickets (package textindex, migration
// 00014): one document per ticket, keyed by its id, made of its number
// (its digits alone find it: 202612020001), subject, description, messages
// and internal notes. The document is staff-only:
// only the staff search (List with q, within the ticket scope) reads it,
// and nothing customer-facing may ever query it, because the notes are in
// it. Merged tickets are out of it (their messages moved to the target,
// whose document has them).
var ticketText = textindex.Index{Table: "ticket_text"}

// maxDocRunes caps the text one ticket's document is made of: a tsvector
// holds at most 1 MB, and fifty thousand characters of Chinese stay well
// under it (each distinct bigram a lexeme with its positions). The subject
// and description come first, then messages and notes oldest first; what
// lies past the cap is not found by its words. (The number comes first.)
const maxDocRunes = 50_000

// capTexts keeps texts within maxDocRunes, cutting the one that crosses it.
func capTexts(texts []string) []string {
	left := maxDocRunes
	for i, t := range texts {
		n := utf8.RuneCountInString(t)
		if n <= left {
			left -= n
			continue
		}
		cut := 0
		for j := range t {
			if left == 0 {
				cut = j
				break
			}
			left--
		}
		texts[i] = t[:cut]
		return texts[:i+1]
	}
	return texts
}

// reindex rewrites ticket id's document from its rows, in the transaction
// of ctx: called by every write of a subject, description, message or note
// (and by merge, for the target; the merged ticket leaves the index).
// Reading the ticket's texts again costs a few rows; tickets have tens of
// messages, not thousands.
func (s *Store) reindex(ctx context.Context, id int64) error {
	q := s.db.Q(ctx)
	var number, subject, desc string
	var merged sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT number, subject, description, merged_into FROM tickets WHERE id = $1`, id).Scan(&number, &subject, &desc, &merged)
	if errors.Is(err, sql.ErrNoRows) {
		return ticketText.Delete(ctx, s.db, id)
	}
	if err != nil {
		return fmt.Errorf("index ticket %d: %w", id, err)
	}
	if merged.Valid {
		return ticketText.Delete(ctx, s.db, id)
	}
	texts := []string{number, subject, desc}
	rows, err := q.QueryContext(ctx, `SELECT body FROM (SELECT 0 AS k, id, body FROM ticket_messages WHERE ticket_id = $1
		UNION ALL SELECT 1 AS k, id, body FROM ticket_notes WHERE ticket_id = $1) AS x ORDER BY k, id`, id)
	if err != nil {
		return fmt.Errorf("index ticket %d: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return err
		}
		texts = append(texts, body)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return ticketText.Put(ctx, s.db, textindex.Doc{ID: id, Texts: capTexts(texts)})
}

// textBackfillBatch is how many tickets a backfill transaction looks at.
var textBackfillBatch = 1000

// BackfillTextIndex indexes the tickets that existed when the text index
// was created (migration 00014), newest first, a batch per transaction;
// the app runs it at start. It returns how many tickets it indexed; once
// done it costs one lookup.
func (s *Store) BackfillTextIndex(ctx context.Context) (int, error) {
	lock := ""
	if s.db.Dialect == db.Postgres {
		lock = " FOR SHARE"
	}
	n, err := ticketText.Backfill(ctx, s.db, textBackfillBatch, func(ctx context.Context, below int64, n int) ([]textindex.Doc, int64, error) {
		q := s.db.Q(ctx)
		rows, err := q.QueryContext(ctx, `SELECT id, number, subject, description, merged_into IS NULL FROM tickets
			WHERE id < $1 ORDER BY id DESC LIMIT $2`+lock, below, n)
		if err != nil {
			return nil, 0, err
		}
		var docs []textindex.Doc
		at := map[int64]int{}
		var next int64
		for rows.Next() {
			var id int64
			var number, subject, desc string
			var live bool
			if err := rows.Scan(&id, &number, &subject, &desc, &live); err != nil {
				rows.Close()
				return nil, 0, err
			}
			next = id
			if live {
				at[id] = len(docs)
				docs = append(docs, textindex.Doc{ID: id, Texts: []string{number, subject, desc}})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil || next == 0 {
			return docs, next, err
		}
		// The batch's messages and notes by a range of ticket ids (their
		// indexes lead with ticket_id).
		rows, err = q.QueryContext(ctx, `SELECT ticket_id, body FROM (SELECT 0 AS k, ticket_id, id, body FROM ticket_messages WHERE ticket_id >= $1 AND ticket_id < $2
			UNION ALL SELECT 1 AS k, ticket_id, id, body FROM ticket_notes WHERE ticket_id >= $1 AND ticket_id < $2) AS x ORDER BY ticket_id, k, id`, next, below)
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var body string
			if err := rows.Scan(&id, &body); err != nil {
				return nil, 0, err
			}
			if i, ok := at[id]; ok {
				docs[i].Texts = append(docs[i].Texts, body)
			}
		}
		for i := range docs {
			docs[i].Texts = capTexts(docs[i].Texts)
		}
		return docs, next, rows.Err()
	})
	if err != nil {
		return n, fmt.Errorf("tickets: %w", err)
	}
	return n, nil
}
