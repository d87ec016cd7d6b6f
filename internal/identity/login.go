package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrBadCredentials means the email or password is wrong (never which).
var ErrBadCredentials = errors.New("wrong email or password")

// ThrottledError means too many failed sign-ins; retry after RetryAfter.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; retry in %s", e.RetryAfter.Round(time.Second))
}

var (
	dummyOnce sync.Once
	dummyHash string
)

// Authenticate checks an email and password. It takes as long for an unknown
// email as for a wrong password, so timing does not reveal accounts.
func (s *Store) Authenticate(ctx context.Context, email, password, ip string) (User, error) {
	email = NormalizeEmail(email)
	wait, attempt := s.Throttle.Begin(email, ip)
	if wait > 0 {
		return User{}, &ThrottledError{RetryAfter: wait}
	}
	var u User
	var hash string
	err := s.db.R.QueryRowContext(ctx, `SELECT id, email, name, locale, active, demo, password_hash FROM users WHERE email = $1`, email).
		Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.Active, &u.Demo, &hash)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !u.Active) {
		dummyOnce.Do(func() { dummyHash, _ = s.hasher.Hash(context.Background(), "careloop-dummy-password") })
		_, _ = s.hasher.Verify(ctx, dummyHash, password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	ok, err := s.hasher.Verify(ctx, hash, password)
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	s.Throttle.Succeed(email, ip, attempt)
	if s.hasher.NeedsRehash(hash) {
		s.rehash(ctx, u.ID, hash, password)
	}
	return u, nil
}

// rehash replaces a hash made with older parameters (the 64 MiB ones, say)
// now that the password is known to be right. It changes neither the
// password nor what the user may do, so sessions stay and auth_version does
// not move. A failure is ignored: the old hash still verifies, and the next
// sign-in tries again.
func (s *Store) rehash(ctx context.Context, userID int64, old, password string) {
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return
	}
	_ = s.db.WithTx(ctx, func(ctx context.Context) error {
		// Only if the hash is still the one verified: a password set in the
		// meantime wins.
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`, hash, userID, old)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.audit.Record(ctx, "user.password_rehash", "user", fmt.Sprint(userID), nil)
	})
}
