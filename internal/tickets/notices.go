package tickets

import (
	"context"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/db"
)

// What the staff notices (internal/notify) read of tickets: they run inside
// a ticket's transaction or as a background job, with no principal.

// FollowerIDs returns the ids of the ticket's followers, lowest first.
func (s *Store) FollowerIDs(ctx context.Context, ticketID int64) ([]int64, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT user_id FROM ticket_followers WHERE ticket_id = $1 ORDER BY user_id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("ticket followers: %w", err)
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

// CommitmentsToRemind returns up to limit open promises on open tickets,
// with an owner, due before until, whose reminder nobody has claimed yet;
// soonest first (index ticket_commitments_due_notice).
func (s *Store) CommitmentsToRemind(ctx context.Context, until time.Time, limit int) ([]Commitment, error) {
	return s.commitments(ctx, `c.kept_at IS NULL AND c.due_notified_at IS NULL AND c.due_at < $1 AND c.owner_id IS NOT NULL
		AND t.is_open = TRUE ORDER BY c.due_at, c.id LIMIT $2`, db.Now(until), limit)
}

// ClaimCommitmentReminder marks the promise's reminder as sent, in ctx's
// transaction; false when another server (or an earlier run) claimed it.
func (s *Store) ClaimCommitmentReminder(ctx context.Context, id int64) (bool, error) {
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE ticket_commitments SET due_notified_at = $1 WHERE id = $2 AND due_notified_at IS NULL AND kept_at IS NULL`,
		db.Now(s.clock.Now()), id)
	if err != nil {
		return false, fmt.Errorf("claim commitment reminder: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UnassignedByTeam counts the open tickets nobody owns, per team (0: no
// team), for the group robots' backlog alert.
func (s *Store) UnassignedByTeam(ctx context.Context) (map[int64]int, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT COALESCE(team_id, 0), COUNT(*) FROM tickets
		WHERE owner_id IS NULL AND is_open = TRUE GROUP BY team_id`)
	if err != nil {
		return nil, fmt.Errorf("unassigned tickets by team: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var team int64
		var n int
		if err := rows.Scan(&team, &n); err != nil {
			return nil, err
		}
		out[team] += n
	}
	return out, rows.Err()
}
