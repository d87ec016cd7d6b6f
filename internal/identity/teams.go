package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Team groups staff, e.g. the tech support team or a region's technicians.
type Team struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	MemberIDs []int64   `json:"member_ids"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

func validateTeamName(name *string) error {
	*name = strings.TrimSpace(*name)
	switch n := utf8.RuneCountInString(*name); {
	case n == 0:
		return domain.Invalid("name", "validation.required", nil)
	case n > 60:
		return domain.Invalid("name", "validation.too_long", map[string]any{"Max": 60})
	}
	return nil
}

// CreateTeam adds a team.
func (s *Store) CreateTeam(ctx context.Context, name string) (Team, error) {
	if err := validateTeamName(&name); err != nil {
		return Team{}, err
	}
	var id int64
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		now := db.Now(s.clock.Now())
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO teams (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`, name, now).Scan(&id)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("name", "validation.name_taken", nil)
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, "team.create", "team", fmt.Sprint(id), map[string]audit.Change{"name": {After: name}})
	})
	if err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	return s.GetTeam(ctx, id)
}

// RenameTeam changes a team's name.
func (s *Store) RenameTeam(ctx context.Context, id int64, name string, version int) (Team, error) {
	if err := validateTeamName(&name); err != nil {
		return Team{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		before, err := s.GetTeam(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && version != before.Version {
			return fmt.Errorf("team %d: %w", id, domain.ErrStale)
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE teams SET name = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4`,
			name, db.Now(s.clock.Now()), id, before.Version)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("name", "validation.name_taken", nil)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("team %d: %w", id, domain.ErrStale)
		}
		return s.audit.Record(ctx, "team.update", "team", fmt.Sprint(id), map[string]audit.Change{"name": {Before: before.Name, After: name}})
	})
	if err != nil {
		return Team{}, fmt.Errorf("rename team: %w", err)
	}
	return s.GetTeam(ctx, id)
}

// GetTeam returns a team with its members.
func (s *Store) GetTeam(ctx context.Context, id int64) (Team, error) {
	var t Team
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT id, name, version, created_at FROM teams WHERE id = $1`, id).Scan(&t.ID, &t.Name, &t.Version, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Team{}, fmt.Errorf("team %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Team{}, fmt.Errorf("get team: %w", err)
	}
	teams := []Team{t}
	if err := s.fillMembers(ctx, teams); err != nil {
		return Team{}, err
	}
	return teams[0], nil
}

// ListTeams returns every team with its members.
func (s *Store) ListTeams(ctx context.Context) ([]Team, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, name, version, created_at FROM teams ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	teams := []Team{}
	for rows.Next() {
		var t Team
		if err := rows.Scan(&t.ID, &t.Name, &t.Version, &t.CreatedAt); err != nil {
			return nil, err
		}
		teams = append(teams, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return teams, s.fillMembers(ctx, teams)
}

func (s *Store) fillMembers(ctx context.Context, teams []Team) error {
	idx := map[int64]int{}
	for i := range teams {
		teams[i].MemberIDs = []int64{}
		teams[i].CreatedAt = teams[i].CreatedAt.UTC()
		idx[teams[i].ID] = i
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT team_id, user_id FROM team_members ORDER BY user_id`)
	if err != nil {
		return fmt.Errorf("team members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tid, uid int64
		if err := rows.Scan(&tid, &uid); err != nil {
			return err
		}
		if i, ok := idx[tid]; ok {
			teams[i].MemberIDs = append(teams[i].MemberIDs, uid)
		}
	}
	return rows.Err()
}
