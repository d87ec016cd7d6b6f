package tickets

import (
	"context"
)

// Record writes an event of another domain into ticket id's history (a
// survey answered, a follow-up opened), in ctx's transaction or its own:
// the ticket page lists it with the ticket's own events, and the
// listeners hear it like any other (the ones that know it not pass).
func (s *Store) Record(ctx context.Context, id int64, kind string, data map[string]any) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockAndRead(ctx, id)
		if err != nil {
			return err
		}
		return s.emit(ctx, t, kind, data)
	})
}
