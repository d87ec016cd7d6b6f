package tickets

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Skills returns a user's skills, sorted.
func (s *Store) Skills(ctx context.Context, userID int64) ([]string, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT skill FROM staff_skills WHERE user_id = $1 ORDER BY skill`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// SetSkills replaces a user's skills (what skill routing matches), audited.
func (s *Store) SetSkills(ctx context.Context, userID int64, skills []string) error {
	clean := []string{}
	for _, k := range skills {
		k = strings.TrimSpace(k)
		if k == "" || slices.Contains(clean, k) {
			continue
		}
		if utf8.RuneCountInString(k) > 30 {
			return domain.Invalid("skills", "validation.too_long", map[string]any{"Max": 30})
		}
		clean = append(clean, k)
	}
	if len(clean) > 30 {
		return domain.Invalid("skills", "validation.too_many", map[string]any{"Max": 30})
	}
	slices.Sort(clean)
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.userExists(ctx, userID); err != nil {
			return err
		}
		before, err := s.Skills(ctx, userID)
		if err != nil {
			return err
		}
		q := s.db.Q(ctx)
		if _, err := q.ExecContext(ctx, `DELETE FROM staff_skills WHERE user_id = $1`, userID); err != nil {
			return err
		}
		for _, k := range clean {
			if _, err := q.ExecContext(ctx, `INSERT INTO staff_skills (user_id, skill) VALUES ($1, $2)`, userID, k); err != nil {
				return err
			}
		}
		diff := audit.Diff(map[string]any{"skills": strings.Join(before, ", ")}, map[string]any{"skills": strings.Join(clean, ", ")})
		if len(diff) == 0 {
			return nil
		}
		return s.audit.Record(ctx, "staff.skills", "user", fmt.Sprint(userID), diff)
	})
	if err != nil {
		return fmt.Errorf("set skills: %w", err)
	}
	return nil
}

// OnDuty tells whether a user is on duty (no record: on duty).
func (s *Store) OnDuty(ctx context.Context, userID int64) (bool, error) { return s.onDuty(ctx, userID) }

// SetOnDuty says whether routing may give a user tickets now, audited.
func (s *Store) SetOnDuty(ctx context.Context, userID int64, on bool) error {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.userExists(ctx, userID); err != nil {
			return err
		}
		before, err := s.onDuty(ctx, userID)
		if err != nil {
			return err
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO staff_presence (user_id, on_duty, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (user_id) DO UPDATE SET on_duty = excluded.on_duty, updated_at = excluded.updated_at`,
			userID, on, db.Now(s.clock.Now())); err != nil {
			return err
		}
		if before == on {
			return nil
		}
		return s.audit.Record(ctx, "staff.on_duty", "user", fmt.Sprint(userID), map[string]audit.Change{"on_duty": {Before: before, After: on}})
	})
	if err != nil {
		return fmt.Errorf("set on duty: %w", err)
	}
	return nil
}

func (s *Store) userExists(ctx context.Context, id int64) error {
	var one int
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = $1`, id).Scan(&one)
	if err == sql.ErrNoRows {
		return fmt.Errorf("user %d: %w", id, domain.ErrNotFound)
	}
	return err
}

// StaffProfile is what routing knows of a staff member: the skills skill
// routing matches and whether they are on duty (routing and the VIP
// manager's pick skip those off duty).
type StaffProfile struct {
	UserID int64    `json:"user_id"`
	Skills []string `json:"skills"`
	OnDuty bool     `json:"on_duty"`
}

// StaffProfile returns a user's skills and on-duty flag.
func (s *Store) StaffProfile(ctx context.Context, userID int64) (StaffProfile, error) {
	if err := s.userExists(ctx, userID); err != nil {
		return StaffProfile{}, err
	}
	out := StaffProfile{UserID: userID}
	var err error
	if out.Skills, err = s.Skills(ctx, userID); err != nil {
		return StaffProfile{}, err
	}
	out.OnDuty, err = s.onDuty(ctx, userID)
	return out, err
}

// SetStaffProfile replaces a user's skills and on-duty flag in one
// transaction (each change audited as SetSkills and SetOnDuty do).
func (s *Store) SetStaffProfile(ctx context.Context, userID int64, skills []string, onDuty bool) (StaffProfile, error) {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.SetSkills(ctx, userID, skills); err != nil {
			return err
		}
		return s.SetOnDuty(ctx, userID, onDuty)
	})
	if err != nil {
		return StaffProfile{}, err
	}
	return s.StaffProfile(ctx, userID)
}

// SplitSkills reads skills typed in one box, separated by commas (，、,)
// or new lines.
func SplitSkills(text string) []string {
	out := []string{}
	for _, k := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == '\n' || r == ';' || r == '；' }) {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}
