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

// TokenPrefix starts every API token, so leaked tokens are easy to grep for.
const TokenPrefix = "clt_"

// Token is an API token's record; the secret itself is shown once only.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// TokenName checks an API token's label (staff and portal tokens alike):
// required, at most 100 characters; it returns the label trimmed.
func TokenName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", domain.Invalid("name", "validation.required", nil)
	case n > 100:
		return "", domain.Invalid("name", "validation.too_long", map[string]any{"Max": 100})
	}
	return name, nil
}

// CreateToken makes an API token for user id and returns it with its secret.
func (s *Store) CreateToken(ctx context.Context, userID int64, name string) (Token, string, error) {
	name, err := TokenName(name)
	if err != nil {
		return Token{}, "", err
	}
	secret := randomToken(TokenPrefix)
	var t Token
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		now := db.Now(s.clock.Now())
		t = Token{UserID: userID, Name: name, Prefix: secret[:len(TokenPrefix)+6], CreatedAt: now}
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)
			SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM users WHERE id = $1) RETURNING id`,
			userID, name, HashSecret(secret), t.Prefix, now).Scan(&t.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", userID, domain.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, "token.create", "api_token", fmt.Sprint(t.ID), map[string]audit.Change{
			"name": {After: name}, "user_id": {After: userID}})
	})
	if err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// tokenSQL checks a token and reads its user's auth version in one
// statement; the principal itself usually comes from the cache.
const tokenSQL = `SELECT t.id, t.user_id, u.auth_version FROM api_tokens t JOIN users u ON u.id = t.user_id
	WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active`

// TokenPrincipal resolves a bearer token to its user.
func (s *Store) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 100 {
		return nil, ErrNoSession
	}
	var tokenID, userID, version int64
	err := s.db.HotQueryRow(lookupContext(ctx), tokenSQL, HashSecret(secret)).Scan(&tokenID, &userID, &version)
	if errNoRows(err) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	s.touchToken(ctx, tokenID)
	p, err := s.resolve(ctx, userID, version)
	if err != nil {
		return nil, err
	}
	p.TokenID = tokenID
	return p, nil
}

// touchToken records last use at most once a minute per token and process,
// so a busy integration does not turn every read into a write.
func (s *Store) touchToken(ctx context.Context, id int64) {
	now := s.clock.Now()
	s.touchMu.Lock()
	last, ok := s.touched[id]
	if ok && now.Sub(last) < time.Minute {
		s.touchMu.Unlock()
		return
	}
	s.touched[id] = now
	s.touchMu.Unlock()
	_, _ = s.db.W.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, db.Now(now), id)
}

// ListTokens returns a user's tokens, newest first.
func (s *Store) ListTokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at
		FROM api_tokens WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var used, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt = t.CreatedAt.UTC()
		if used.Valid {
			u := used.Time.UTC()
			t.LastUsedAt = &u
		}
		if revoked.Valid {
			r := revoked.Time.UTC()
			t.RevokedAt = &r
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes token id of user userID: the user's own, or, for a
// staff manager, someone else's (who may hold no permission the manager
// lacks, as for a password reset).
func (s *Store) RevokeToken(ctx context.Context, userID, id int64) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.checkGrant(ctx, userID, nil); err != nil {
			return err
		}
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`,
			db.Now(s.clock.Now()), id, userID)
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("token %d: %w", id, domain.ErrNotFound)
		}
		return s.audit.Record(ctx, "token.revoke", "api_token", fmt.Sprint(id), map[string]audit.Change{"user_id": {After: userID}})
	})
}
