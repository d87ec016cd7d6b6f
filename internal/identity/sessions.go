package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// ErrNoSession means the session or token is unknown, expired, revoked, or
// belongs to a deactivated user.
var ErrNoSession = errors.New("no valid session")

func randomToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret is how session ids and tokens are stored.
func HashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// CreateSession starts a session for user id and returns its secret id, to
// be sent as a cookie. A new id is made at every sign-in (no fixation).
func (s *Store) CreateSession(ctx context.Context, userID int64, ip, userAgent string) (string, error) {
	id := randomToken("")
	now := db.Now(s.clock.Now())
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`, HashSecret(id), userID, now, now.Add(s.opts.SessionMaxAge), ip, userAgent)
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return id, nil
}

// SessionIdle is how long a session lives without use.
func (s *Store) SessionIdle() time.Duration { return s.opts.SessionIdle }

// SessionMaxAge is how long a session lives at most.
func (s *Store) SessionMaxAge() time.Duration { return s.opts.SessionMaxAge }

// sessionSQL checks a session and reads its user's auth version in one
// statement; the principal itself usually comes from the cache.
const sessionSQL = `SELECT s.user_id, u.auth_version, s.last_seen_at, s.expires_at
	FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND u.active`

// SessionPrincipal resolves a session cookie to its user.
func (s *Store) SessionPrincipal(ctx context.Context, sessionID string) (*Principal, error) {
	if sessionID == "" || len(sessionID) > 100 {
		return nil, ErrNoSession
	}
	hash := HashSecret(sessionID)
	var userID, version int64
	var lastSeen, expires time.Time
	err := s.db.HotQueryRow(lookupContext(ctx), sessionSQL, hash).Scan(&userID, &version, &lastSeen, &expires)
	if errNoRows(err) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	now := s.clock.Now()
	if !now.Before(expires) || now.Sub(lastSeen) >= s.opts.SessionIdle {
		_, _ = s.db.W.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hash)
		return nil, ErrNoSession
	}
	// Writing last-seen on every request would serialise all readers behind
	// the single SQLite writer; a minute's precision is plenty for idle expiry.
	if now.Sub(lastSeen) > time.Minute {
		_, _ = s.db.W.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, db.Now(now), hash)
	}
	p, err := s.resolve(ctx, userID, version)
	if err != nil {
		return nil, err
	}
	p.SessionHash = hash
	return p, nil
}

// EndSession signs a session out.
func (s *Store) EndSession(ctx context.Context, sessionID string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, HashSecret(sessionID))
	return err
}

// DeleteExpiredSessions removes sessions past their absolute or idle expiry
// and returns how many went.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	now := s.clock.Now()
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`,
		db.Now(now), db.Now(now.Add(-s.opts.SessionIdle)))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// PrincipalFor returns the principal of user id (for the CLI and tests),
// read from the database.
func (s *Store) PrincipalFor(ctx context.Context, id int64) (*Principal, error) {
	p, _, err := s.loadPrincipal(ctx, id)
	if errors.Is(err, ErrNoSession) {
		return nil, fmt.Errorf("user %d: %w", id, domain.ErrNotFound)
	}
	return p, err
}
