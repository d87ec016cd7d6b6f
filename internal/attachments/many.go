package attachments

import (
	"context"
	"fmt"
	"strings"
)

// listChunk bounds the ids of one ListMany query (SQLite's parameters).
const listChunk = 500

// ListMany returns the live attachments of many records of one entity, by
// record id, each oldest first: a thread's in one query, not one a message.
func (s *Store) ListMany(ctx context.Context, entity string, ids []int64) (map[int64][]Attachment, error) {
	out := map[int64][]Attachment{}
	for len(ids) > 0 {
		n := min(len(ids), listChunk)
		args := make([]any, 0, n+1)
		args = append(args, entity)
		marks := make([]string, n)
		for i, id := range ids[:n] {
			args = append(args, id)
			marks[i] = fmt.Sprintf("$%d", i+2)
		}
		ids = ids[n:]
		rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+columns+` FROM attachments
			WHERE entity = $1 AND entity_id IN (`+strings.Join(marks, ", ")+`) AND deleted_at IS NULL ORDER BY id`, args...)
		if err != nil {
			return nil, fmt.Errorf("attachments: list: %w", err)
		}
		for rows.Next() {
			a, err := scanAttachment(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("attachments: list: %w", err)
			}
			out[a.EntityID] = append(out[a.EntityID], a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("attachments: list: %w", err)
		}
	}
	return out, nil
}
