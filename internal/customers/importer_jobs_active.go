package customers

import (
	"context"
	"fmt"

	"github.com/careloop/careloop/internal/identity"
)

// ActiveImports returns the caller's background imports that are queued or
// running, newest first (at most limit), with their progress: the home
// page's "imports in progress".
func (s *Store) ActiveImports(ctx context.Context, p *identity.Principal, limit int) ([]ImportJob, error) {
	if p == nil || !p.Can(identity.CustomersImport) {
		return nil, nil
	}
	if limit <= 0 || limit > 50 {
		limit = 10
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id FROM customer_imports
		WHERE created_by = $1 AND status IN ($2, $3) ORDER BY id DESC LIMIT $4`, p.UserID, ImportQueued, ImportRunning, limit)
	if err != nil {
		return nil, fmt.Errorf("active imports: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("active imports: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("active imports: %w", err)
	}
	out := make([]ImportJob, 0, len(ids))
	for _, id := range ids {
		j, err := s.ImportJob(ctx, p, id)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}
