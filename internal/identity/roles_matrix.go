package identity

import (
	"context"
	"fmt"
	"slices"
)

// RoleChange is one role's column of the role editor: the permissions
// ticked among the available ones, and the version the editor showed.
type RoleChange struct {
	Key         string
	Permissions []Permission
	Version     int
}

// UpdateRoles saves the role editor's matrix in one transaction: every
// changed role or none. A role keeps the unavailable permissions it holds
// (KeepHidden), since the editor does not show them. A role whose
// permissions do not change is not written (no new version, no audit
// entry); a changed role whose version is not the one shown fails the whole
// save with domain.ErrStale. It returns the keys of the roles it changed.
func (s *Store) UpdateRoles(ctx context.Context, changes []RoleChange) ([]string, error) {
	var changed []string
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		changed = changed[:0]
		for _, c := range changes {
			cur, err := s.GetRole(ctx, c.Key)
			if err != nil {
				return err
			}
			next := KeepHidden(cur.Permissions, c.Permissions)
			have := slices.Clone(cur.Permissions)
			slices.Sort(have)
			if slices.Equal(have, next) {
				continue
			}
			version := c.Version
			if version == 0 {
				version = -1 // a changed role must name the version it was shown at
			}
			if _, err := s.UpdateRole(ctx, c.Key, RolePatch{Permissions: &next, Version: version}); err != nil {
				return err
			}
			changed = append(changed, c.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update roles: %w", err)
	}
	return changed, nil
}
