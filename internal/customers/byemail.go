package customers

import (
	"context"
	"strings"
)

// IDsByEmail returns the live customers (not merged, not erased) whose
// email is address (compared lower-cased, as emails are stored), oldest
// first, at most 20: what email intake finds a sender by. More than one
// when duplicates were allowed.
func (s *Store) IDsByEmail(ctx context.Context, address string) ([]int64, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	if address == "" {
		return nil, nil
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT id FROM customers WHERE email = $1 AND merged_into IS NULL AND erased_at IS NULL
		ORDER BY id LIMIT 20`, address)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
