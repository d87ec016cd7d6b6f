package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/domain"
)

// checkGrant stops a staff manager from giving away more than they hold:
// whoever acts (the audit actor in ctx) must hold every permission of the
// roles being granted and of the target user's current roles, unless they
// may edit roles anyway (roles.manage). The command line (no actor user) is
// the operator and may do anything.
func (s *Store) checkGrant(ctx context.Context, targetID int64, roles []string) error {
	actor := audit.ActorFrom(ctx).UserID
	if actor == 0 {
		return nil
	}
	have, err := s.permissionsOf(ctx, "ur.user_id = $1", actor)
	if err != nil {
		return err
	}
	if slices.Contains(have, RolesManage) {
		return nil
	}
	var need []Permission
	if len(roles) > 0 {
		ph := make([]string, len(roles))
		args := make([]any, len(roles))
		for i, r := range roles {
			ph[i], args[i] = fmt.Sprintf("$%d", i+1), r
		}
		p, err := s.rolePermissions(ctx, "r.key IN ("+strings.Join(ph, ",")+")", args...)
		if err != nil {
			return err
		}
		need = append(need, p...)
	}
	if targetID != 0 {
		p, err := s.permissionsOf(ctx, "ur.user_id = $1", targetID)
		if err != nil {
			return err
		}
		need = append(need, p...)
	}
	for _, p := range need {
		if !slices.Contains(have, p) {
			return fmt.Errorf("grant %s: %w", p, domain.ErrForbidden)
		}
	}
	return nil
}

func (s *Store) permissionsOf(ctx context.Context, cond string, args ...any) ([]Permission, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT r.permissions FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("permissions: %w", err)
	}
	defer rows.Close()
	var out []Permission
	for rows.Next() {
		var ps string
		if err := rows.Scan(&ps); err != nil {
			return nil, err
		}
		out = append(out, splitPerms(ps)...)
	}
	return out, rows.Err()
}

func (s *Store) rolePermissions(ctx context.Context, cond string, args ...any) ([]Permission, error) {
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT r.permissions FROM roles r WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("role permissions: %w", err)
	}
	defer rows.Close()
	var out []Permission
	for rows.Next() {
		var ps string
		if err := rows.Scan(&ps); err != nil {
			return nil, err
		}
		out = append(out, splitPerms(ps)...)
	}
	return out, rows.Err()
}

// adminCount counts active users able to manage both users and roles.
func (s *Store) adminCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(DISTINCT u.id) FROM users u
		JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
		WHERE u.active AND r.permissions LIKE '%users.manage%' AND r.permissions LIKE '%roles.manage%'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count administrators: %w", err)
	}
	return n, nil
}

// checkAdminsRemain refuses a change that leaves no active user able to
// manage both users and roles when there was one before: nobody could
// repair it from the web. before is adminCount from the start of the
// transaction.
func (s *Store) checkAdminsRemain(ctx context.Context, before int) error {
	if before == 0 {
		return nil
	}
	n, err := s.adminCount(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return domain.Invalid("roles", "validation.last_admin", nil)
	}
	return nil
}
