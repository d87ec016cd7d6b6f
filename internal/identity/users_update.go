package identity

import (
	"context"
	"fmt"
	"slices"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// UserPatch changes some fields of a user; nil fields stay as they are.
type UserPatch struct {
	Email   *string
	Name    *string
	Locale  *string
	Active  *bool
	Roles   *[]string
	TeamIDs *[]int64
	// Version, when not zero, must match the stored version (optimistic
	// locking); otherwise the update fails with domain.ErrStale.
	Version int
}

// UpdateUser applies p to user id. Deactivating a user ends their sessions
// and revokes their API tokens for good (re-activating brings neither back).
func (s *Store) UpdateUser(ctx context.Context, id int64, p UserPatch) (User, error) {
	var v domain.ValidationError
	validateUserFields(&v, p.Email, p.Name, p.Locale)
	if p.Roles != nil {
		if len(*p.Roles) == 0 {
			v.Add("roles", "validation.required", nil)
		}
		if err := s.checkRoles(ctx, &v, *p.Roles); err != nil {
			return User{}, err
		}
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		before, err := s.GetUser(ctx, id)
		if err != nil {
			return err
		}
		if p.Version != 0 && p.Version != before.Version {
			return fmt.Errorf("user %d: %w", id, domain.ErrStale)
		}
		var granted []string
		if p.Roles != nil {
			granted = *p.Roles
		}
		if err := s.checkGrant(ctx, id, granted); err != nil {
			return err
		}
		admins, err := s.adminCount(ctx)
		if err != nil {
			return err
		}
		after := before
		if p.Email != nil {
			after.Email = *p.Email
		}
		if p.Name != nil {
			after.Name = *p.Name
		}
		if p.Locale != nil && *p.Locale != "" {
			after.Locale = *p.Locale
		}
		if p.Active != nil {
			after.Active = *p.Active
		}
		q := s.db.Q(ctx)
		// The version in WHERE makes a concurrent change lose cleanly (412)
		// instead of being overwritten, on PostgreSQL's READ COMMITTED too.
		// Any change may alter the principal (name, roles, teams, active):
		// auth_version tells the principal cache.
		res, err := q.ExecContext(ctx, `UPDATE users SET email = $1, name = $2, locale = $3, active = $4,
			version = version + 1, auth_version = auth_version + 1, updated_at = $5 WHERE id = $6 AND version = $7`,
			after.Email, after.Name, after.Locale, after.Active, db.Now(s.clock.Now()), id, before.Version)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("email", "validation.email_taken", nil)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %d: %w", id, domain.ErrStale)
		}
		changes := audit.Diff(
			map[string]any{"email": before.Email, "name": before.Name, "locale": before.Locale, "active": before.Active},
			map[string]any{"email": after.Email, "name": after.Name, "locale": after.Locale, "active": after.Active})
		if p.Roles != nil && !slices.Equal(sortedCopy(*p.Roles), sortedCopy(before.Roles)) {
			if err := s.setRoles(ctx, id, *p.Roles); err != nil {
				return err
			}
			changes["roles"] = audit.Change{Before: before.Roles, After: *p.Roles}
		}
		if p.TeamIDs != nil && !slices.Equal(sortedCopy(*p.TeamIDs), sortedCopy(before.TeamIDs)) {
			if err := s.setTeams(ctx, id, *p.TeamIDs); err != nil {
				return err
			}
			changes["team_ids"] = audit.Change{Before: before.TeamIDs, After: *p.TeamIDs}
		}
		if before.Active && !after.Active {
			if err := s.endSessions(ctx, id); err != nil {
				return err
			}
			n, err := s.revokeAllTokens(ctx, id)
			if err != nil {
				return err
			}
			if n > 0 {
				changes["tokens_revoked"] = audit.Change{After: n}
			}
		}
		if (before.Active && !after.Active) || rolesChanged(changes) {
			if err := s.checkAdminsRemain(ctx, admins); err != nil {
				return err
			}
		}
		action := "user.update"
		if before.Active != after.Active {
			action = map[bool]string{true: "user.activate", false: "user.deactivate"}[after.Active]
		}
		return s.audit.Record(ctx, action, "user", fmt.Sprint(id), changes)
	})
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	return s.GetUser(ctx, id)
}

// SetPassword replaces a user's password and ends all their sessions; their
// API tokens stay (a user changing their own password keeps their
// integrations running).
func (s *Store) SetPassword(ctx context.Context, id int64, password string) error {
	_, err := s.ResetPassword(ctx, id, password, false)
	return err
}

// ResetPassword replaces a user's password, ends all their sessions and,
// with revokeTokens, revokes their API tokens too (an administrator's reset
// after a suspected compromise), in one transaction. It returns how many
// tokens were revoked.
func (s *Store) ResetPassword(ctx context.Context, id int64, password string, revokeTokens bool) (int64, error) {
	var v domain.ValidationError
	ValidatePassword(&v, "password", password)
	if err := v.Err(); err != nil {
		return 0, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return 0, fmt.Errorf("set password: %w", err)
	}
	var revoked int64
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.checkGrant(ctx, id, nil); err != nil {
			return err
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE users SET password_hash = $1, version = version + 1,
			auth_version = auth_version + 1, updated_at = $2 WHERE id = $3`, hash, db.Now(s.clock.Now()), id)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user %d: %w", id, domain.ErrNotFound)
		}
		if err := s.endSessions(ctx, id); err != nil {
			return err
		}
		var changes map[string]audit.Change
		if revokeTokens {
			if revoked, err = s.revokeAllTokens(ctx, id); err != nil {
				return err
			}
			changes = map[string]audit.Change{"tokens_revoked": {After: revoked}}
		}
		return s.audit.Record(ctx, "user.password", "user", fmt.Sprint(id), changes)
	})
	return revoked, err
}

// SetLocale remembers a user's language.
func (s *Store) SetLocale(ctx context.Context, id int64, locale string) error {
	if !slices.Contains(Locales, locale) {
		return domain.Invalid("locale", "validation.one_of", map[string]any{"Values": "zh-CN, en"})
	}
	// The principal carries the language, so the cache must hear of it.
	_, err := s.db.W.ExecContext(ctx, `UPDATE users SET locale = $1, auth_version = auth_version + 1 WHERE id = $2`, locale, id)
	if err != nil {
		return fmt.Errorf("set locale: %w", err)
	}
	return nil
}

func (s *Store) endSessions(ctx context.Context, userID int64) error {
	if _, err := s.db.Q(ctx).ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// revokeAllTokens revokes every live token of user id and tells how many.
func (s *Store) revokeAllTokens(ctx context.Context, userID int64) (int64, error) {
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`,
		db.Now(s.clock.Now()), userID)
	if err != nil {
		return 0, fmt.Errorf("revoke tokens: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func sortedCopy[T int64 | string](s []T) []T {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func rolesChanged(changes map[string]audit.Change) bool {
	_, ok := changes["roles"]
	return ok
}
