package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Role is a named permission set.
type Role struct {
	ID          int64        `json:"id"`
	Key         string       `json:"key"`
	NameZH      string       `json:"name_zh"`
	NameEN      string       `json:"name_en"`
	Permissions []Permission `json:"permissions"`
	Builtin     bool         `json:"builtin"`
	Version     int          `json:"version"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// EnsureDefaultRoles creates the built-in roles that do not exist yet; it
// never overwrites an admin's edits.
func (s *Store) EnsureDefaultRoles(ctx context.Context) error {
	now := db.Now(s.clock.Now())
	for _, r := range DefaultRoles {
		_, err := s.db.W.ExecContext(ctx, `INSERT INTO roles (key, name_zh, name_en, permissions, builtin, updated_at)
			VALUES ($1, $2, $3, $4, TRUE, $5) ON CONFLICT (key) DO NOTHING`, r.Key, r.NameZH, r.NameEN, joinPerms(r.Permissions), now)
		if err != nil {
			return fmt.Errorf("default roles: %w", err)
		}
	}
	return nil
}

// ListRoles returns every role.
func (s *Store) ListRoles(ctx context.Context) ([]Role, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, key, name_zh, name_en, permissions, builtin, version, updated_at FROM roles ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func scanRole(sc interface{ Scan(...any) error }) (Role, error) {
	var r Role
	var perms string
	if err := sc.Scan(&r.ID, &r.Key, &r.NameZH, &r.NameEN, &perms, &r.Builtin, &r.Version, &r.UpdatedAt); err != nil {
		return r, err
	}
	r.Permissions = splitPerms(perms)
	if r.Permissions == nil {
		r.Permissions = []Permission{}
	}
	r.UpdatedAt = r.UpdatedAt.UTC()
	return r, nil
}

// GetRole returns the role with that key.
func (s *Store) GetRole(ctx context.Context, key string) (Role, error) {
	r, err := scanRole(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT id, key, name_zh, name_en, permissions, builtin, version, updated_at FROM roles WHERE key = $1`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return Role{}, fmt.Errorf("role %s: %w", key, domain.ErrNotFound)
	}
	if err != nil {
		return Role{}, fmt.Errorf("get role: %w", err)
	}
	return r, nil
}

// RolePatch changes a role; nil fields stay.
type RolePatch struct {
	NameZH      *string
	NameEN      *string
	Permissions *[]Permission
	Version     int // when not zero, must match
}

// UpdateRole edits a role's names or permissions.
func (s *Store) UpdateRole(ctx context.Context, key string, p RolePatch) (Role, error) {
	var v domain.ValidationError
	for _, n := range []struct {
		field string
		val   *string
	}{{"name_zh", p.NameZH}, {"name_en", p.NameEN}} {
		if n.val != nil {
			*n.val = strings.TrimSpace(*n.val)
			if *n.val == "" {
				v.Add(n.field, "validation.required", nil)
			} else if len([]rune(*n.val)) > 60 {
				v.Add(n.field, "validation.too_long", map[string]any{"Max": 60})
			}
		}
	}
	if p.Permissions != nil {
		for _, perm := range *p.Permissions {
			if !Known(perm) {
				v.Add("permissions", "validation.unknown_permission", map[string]any{"Value": string(perm)})
			}
		}
	}
	if err := v.Err(); err != nil {
		return Role{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		before, err := s.GetRole(ctx, key)
		if err != nil {
			return err
		}
		if p.Version != 0 && p.Version != before.Version {
			return fmt.Errorf("role %s: %w", key, domain.ErrStale)
		}
		admins, err := s.adminCount(ctx)
		if err != nil {
			return err
		}
		after := before
		if p.NameZH != nil {
			after.NameZH = *p.NameZH
		}
		if p.NameEN != nil {
			after.NameEN = *p.NameEN
		}
		if p.Permissions != nil {
			after.Permissions = slices.Clone(*p.Permissions)
			slices.Sort(after.Permissions)
			after.Permissions = slices.Compact(after.Permissions)
		}
		if key == "admin" && (!slices.Contains(after.Permissions, RolesManage) || !slices.Contains(after.Permissions, UsersManage)) {
			// Without this an admin could lock everyone out of role editing.
			return domain.Invalid("permissions", "validation.admin_keeps_roles", nil)
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE roles SET name_zh = $1, name_en = $2, permissions = $3,
			version = version + 1, updated_at = $4 WHERE id = $5 AND version = $6`,
			after.NameZH, after.NameEN, joinPerms(after.Permissions), db.Now(s.clock.Now()), before.ID, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("role %s: %w", key, domain.ErrStale)
		}
		if err := s.checkAdminsRemain(ctx, admins); err != nil {
			return err
		}
		if err := s.bumpAuthAll(ctx); err != nil {
			return err
		}
		return s.audit.Record(ctx, "role.update", "role", key, audit.Diff(
			map[string]any{"name_zh": before.NameZH, "name_en": before.NameEN, "permissions": joinPerms(before.Permissions)},
			map[string]any{"name_zh": after.NameZH, "name_en": after.NameEN, "permissions": joinPerms(after.Permissions)}))
	})
	if err != nil {
		return Role{}, fmt.Errorf("update role: %w", err)
	}
	return s.GetRole(ctx, key)
}
