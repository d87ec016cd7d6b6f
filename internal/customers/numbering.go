package customers

import (
	"context"
	"fmt"
	"time"
)

// BusinessZone is the time zone whose calendar month starts a customer
// number (Asia/Shanghai).
var BusinessZone = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

// nextNumber allocates the next customer number of the month of now. The
// per-month counter row is updated atomically with RETURNING, so concurrent creators on either database never get the same
// serial (PostgreSQL locks the row; SQLite has one writer), and a number is
// never reused even when the customer is deleted or merged.
func (s *Store) nextNumber(ctx context.Context, now time.Time) (string, error) {
	month := now.In(BusinessZone).Format("200601")
	// On PostgreSQL the month's counter steps in a statement of its own
	// (db.Counters), as the tickets' does: inside the transaction its row
	// stayed locked until the commit, and a new caller's ticket, created
	// in the same transaction as the customer, queued behind every other.
	// A creation that fails afterwards leaves its number unused. Imports
	// and given numbers (reserveNumber) step it the same way, so that no
	// transaction ever holds the row.
	q := s.db.Q(ctx)
	if s.db.Counters != nil {
		q = s.db.Counters
	}
	var serial int
	err := q.QueryRowContext(ctx, `INSERT INTO customer_number_seq (month, last) VALUES ($1, 1)
		ON CONFLICT (month) DO UPDATE SET last = customer_number_seq.last + 1 RETURNING last`, month).Scan(&serial)
	if err != nil {
		return "", fmt.Errorf("allocate customer number: %w", err)
	}
	return fmt.Sprintf("%s%03d", month, serial), nil
}

// reserveNumber records an imported number so that later serials of its
// month continue after it.
func (s *Store) reserveNumber(ctx context.Context, month string, serial int) error {
	q := s.db.Q(ctx)
	if s.db.Counters != nil { // as nextNumber: never held until a commit
		q = s.db.Counters
	}
	_, err := q.ExecContext(ctx, `INSERT INTO customer_number_seq (month, last) VALUES ($1, $2)
		ON CONFLICT (month) DO UPDATE SET last = CASE WHEN customer_number_seq.last < excluded.last
			THEN excluded.last ELSE customer_number_seq.last END`, month, serial)
	if err != nil {
		return fmt.Errorf("reserve customer number: %w", err)
	}
	return nil
}
