package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// principalCache keeps each signed-in user's principal (roles and
// permissions) with the users.auth_version it was read at. Every change to
// what a principal holds bumps auth_version in its own transaction (see
// bumpAuth), and every request reads the version in the same statement that
// checks its session or token, so a cached principal is used only while it
// is still what the database says: one read per request, and a change takes
// effect on the very next one, in every server sharing the database.
type principalCache struct {
	mu sync.RWMutex
	m  map[int64]*Principal // the template; requests get copies
}

// maxCachedPrincipals bounds the cache; staff lists are tens to hundreds, so
// reaching it means something unusual, and starting over is cheap.
const maxCachedPrincipals = 4096

func (c *principalCache) get(userID, version int64) *Principal {
	c.mu.RLock()
	p := c.m[userID]
	c.mu.RUnlock()
	if p == nil || p.authVersion != version {
		return nil
	}
	return p
}

func (c *principalCache) put(p *Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[p.UserID]; old != nil && old.authVersion > p.authVersion {
		return // a slower request read an older state
	}
	if c.m == nil || len(c.m) >= maxCachedPrincipals {
		c.m = make(map[int64]*Principal)
	}
	c.m[p.UserID] = p
}

// resolve returns a principal of user id at auth version (or newer) for one
// request: a copy of the cached one, so the caller may set SessionHash or
// TokenID.
func (s *Store) resolve(ctx context.Context, userID, version int64) (*Principal, error) {
	t := s.cache.get(userID, version)
	if t == nil {
		var active bool
		var err error
		if t, active, err = s.loadPrincipal(ctx, userID); err != nil {
			return nil, err
		}
		if !active {
			return nil, ErrNoSession // deactivated since the session lookup
		}
		s.cache.put(t)
	}
	p := *t
	return &p, nil
}

// loadPrincipalSQL reads the user, their version and their roles in one
// statement, so the version always matches the roles it comes with even
// when a change commits in between.
const loadPrincipalSQL = `SELECT u.email, u.name, u.locale, u.demo, u.active, u.auth_version, r.key, r.permissions
	FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id LEFT JOIN roles r ON r.id = ur.role_id
	WHERE u.id = $1 ORDER BY r.id`

// loadPrincipal reads user id's principal and whether the user is active;
// ErrNoSession when there is no such user.
func (s *Store) loadPrincipal(ctx context.Context, userID int64) (*Principal, bool, error) {
	rows, err := s.db.HotQuery(lookupContext(ctx), loadPrincipalSQL, userID)
	if err != nil {
		return nil, false, fmt.Errorf("principal: %w", err)
	}
	defer rows.Close()
	u := User{ID: userID}
	var version int64
	roles := []string{}
	var perms []Permission
	found := false
	for rows.Next() {
		var key, ps sql.NullString
		if err := rows.Scan(&u.Email, &u.Name, &u.Locale, &u.Demo, &u.Active, &version, &key, &ps); err != nil {
			return nil, false, fmt.Errorf("principal: %w", err)
		}
		found = true
		if key.Valid {
			roles = append(roles, key.String)
			perms = append(perms, splitPerms(ps.String)...)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("principal: %w", err)
	}
	if !found {
		return nil, false, ErrNoSession
	}
	p := NewPrincipal(u, slices.Clip(roles), perms)
	p.authVersion = version
	return p, u.Active, nil
}

// lookupContext is ctx without its cancellation, for the indexed reads of
// every request. Given a context that can end, database/sql starts a
// goroutine per query to watch it (and the SQLite driver another one to
// interrupt the statement); for a read of a few microseconds that costs
// more than the read, and a request whose client left can afford to finish
// it.
func lookupContext(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// errNoRows tells a lookup that found nothing.
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// bumpAuthAll marks every principal as changed: a role's permissions
// changed. Bumping only the role's holders would miss a user given the role
// by a transaction running alongside on PostgreSQL (its new row in
// user_roles is not visible yet); the UPDATE of every row waits for such a
// transaction instead. Staff are few and role edits rare.
func (s *Store) bumpAuthAll(ctx context.Context) error {
	if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE users SET auth_version = auth_version + 1`); err != nil {
		return fmt.Errorf("auth version: %w", err)
	}
	return nil
}
