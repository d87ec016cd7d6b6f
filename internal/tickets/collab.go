package tickets

import (
	"context"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Follower is a colleague who follows a ticket (and so sees it).
type Follower struct {
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
}

// Follow makes userID follow ticket id; following twice changes nothing.
func (s *Store) Follow(ctx context.Context, p *identity.Principal, id, userID int64) error {
	return s.follow(ctx, p, id, userID, true)
}

// Unfollow stops userID following ticket id.
func (s *Store) Unfollow(ctx context.Context, p *identity.Principal, id, userID int64) error {
	return s.follow(ctx, p, id, userID, false)
}

func (s *Store) follow(ctx context.Context, p *identity.Principal, id, userID int64, on bool) error {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, id)
		if err != nil {
			return err
		}
		q := s.db.Q(ctx)
		var n int64
		if on {
			var active bool
			if err := q.QueryRowContext(ctx, `SELECT active FROM users WHERE id = $1`, userID).Scan(&active); err != nil || !active {
				return domain.Invalid("user_id", "validation.unknown_user", nil)
			}
			res, err := q.ExecContext(ctx, `INSERT INTO ticket_followers (ticket_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, userID)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
		} else {
			res, err := q.ExecContext(ctx, `DELETE FROM ticket_followers WHERE ticket_id = $1 AND user_id = $2`, id, userID)
			if err != nil {
				return err
			}
			n, _ = res.RowsAffected()
		}
		if n == 0 {
			return nil
		}
		action := "ticket.follow"
		if !on {
			action = "ticket.unfollow"
		}
		if err := s.audit.Record(ctx, action, "ticket", fmt.Sprint(id), map[string]audit.Change{"user_id": {After: userID}}); err != nil {
			return err
		}
		return s.emit(ctx, t, EventFollowersChanged, map[string]any{"user_id": userID, "following": on})
	})
	if err != nil {
		return fmt.Errorf("follow ticket: %w", err)
	}
	return nil
}

// Followers lists who follows ticket id, by name.
func (s *Store) Followers(ctx context.Context, p *identity.Principal, id int64) ([]Follower, error) {
	if err := s.Visible(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT u.id, u.name FROM ticket_followers f JOIN users u ON u.id = f.user_id
		WHERE f.ticket_id = $1 ORDER BY u.name, u.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Follower{}
	for rows.Next() {
		var f Follower
		if err := rows.Scan(&f.UserID, &f.Name); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// PresenceWindow is how long a colleague counts as having a ticket open
// after their page last said so (the page polls every 20 s or so).
const PresenceWindow = 60 * time.Second

// Viewer is a colleague who has the ticket open, maybe writing a reply.
type Viewer struct {
	UserID   int64     `json:"user_id"`
	Name     string    `json:"name"`
	Replying bool      `json:"replying"`
	SeenAt   time.Time `json:"seen_at"`
}

// Touch records that p has ticket id open now (replying: writing a reply).
// It is not audited: it changes nothing of the ticket.
func (s *Store) Touch(ctx context.Context, p *identity.Principal, id int64, replying bool) error {
	if err := s.Visible(ctx, p, id); err != nil {
		return err
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO ticket_presence (ticket_id, user_id, replying, seen_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (ticket_id, user_id) DO UPDATE SET replying = excluded.replying, seen_at = excluded.seen_at`,
		id, p.UserID, replying, db.Now(s.clock.Now()))
	if err != nil {
		return fmt.Errorf("ticket presence: %w", err)
	}
	return nil
}

// Presence returns the colleagues other than p seen on ticket id within
// PresenceWindow, those replying first.
func (s *Store) Presence(ctx context.Context, p *identity.Principal, id int64) ([]Viewer, error) {
	if err := s.Visible(ctx, p, id); err != nil {
		return nil, err
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT u.id, u.name, pr.replying, pr.seen_at FROM ticket_presence pr
		JOIN users u ON u.id = pr.user_id WHERE pr.ticket_id = $1 AND pr.user_id <> $2 AND pr.seen_at >= $3
		ORDER BY pr.replying DESC, pr.seen_at DESC`, id, p.UserID, db.Now(s.clock.Now().Add(-PresenceWindow)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Viewer{}
	for rows.Next() {
		var v Viewer
		if err := rows.Scan(&v.UserID, &v.Name, &v.Replying, &v.SeenAt); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// MarkMentionsRead marks p's mentions on a ticket read and returns how
// many were unread (they leave the home page's count, not the queue).
func (s *Store) MarkMentionsRead(ctx context.Context, p *identity.Principal, ticketID int64) (int, error) {
	if err := s.Visible(ctx, p, ticketID); err != nil {
		return 0, err
	}
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE ticket_mentions SET read_at = $1 WHERE ticket_id = $2 AND user_id = $3 AND read_at IS NULL`,
		db.Now(s.clock.Now()), ticketID, p.UserID)
	if err != nil {
		return 0, fmt.Errorf("mentions read: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
