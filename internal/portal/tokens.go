package portal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// TokenPrefix starts every portal API token (staff tokens start with
// identity.TokenPrefix), so the server knows whose store to ask and a leaked
// token is easy to grep for.
const TokenPrefix = "clp_"

// Token is a portal API token's record; the secret is shown once only.
type Token struct {
	ID         int64      `json:"id"`
	AccountID  int64      `json:"account_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// CreateToken makes an API token for a portal account: with it, the ticket
// endpoints answer for that account's customer only.
func (s *Store) CreateToken(ctx context.Context, accountID int64, name string) (Token, string, error) {
	name, err := identity.TokenName(name)
	if err != nil {
		return Token{}, "", err
	}
	secret := TokenPrefix + newSecret()
	var t Token
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.account(ctx, `a.id = $1`, accountID)
		if err != nil {
			return err
		}
		now := db.Now(s.clock.Now())
		t = Token{AccountID: a.ID, Name: name, Prefix: secret[:len(TokenPrefix)+6], CreatedAt: now}
		if err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO portal_tokens (account_id, name, token_hash, prefix, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, a.ID, name, identity.HashSecret(secret), t.Prefix, now).Scan(&t.ID); err != nil {
			return err
		}
		return s.audit.Record(ctx, "portal.token_create", "portal_token", fmt.Sprint(t.ID), map[string]audit.Change{
			"name": {After: name}, "account_id": {After: a.ID}, "customer_id": {After: a.CustomerID}})
	})
	if err != nil {
		return Token{}, "", fmt.Errorf("create portal token: %w", err)
	}
	return t, secret, nil
}

// tokenSQL checks a token and reads its account in one statement.
const tokenSQL = `SELECT t.id, a.id, a.customer_id, c.name, a.email, a.phone, a.locale, a.created_at, a.last_sign_in_at
	FROM portal_tokens t JOIN portal_accounts a ON a.id = t.account_id
	JOIN customers c ON c.id = a.customer_id AND c.merged_into IS NULL AND c.erased_at IS NULL
	WHERE t.token_hash = $1 AND t.revoked_at IS NULL`

// IsToken tells a portal token from a staff one by its prefix.
func IsToken(secret string) bool { return strings.HasPrefix(secret, TokenPrefix) }

// TokenPrincipal resolves a portal bearer token to its customer's portal
// principal; identity.ErrNoSession when unknown or revoked.
func (s *Store) TokenPrincipal(ctx context.Context, secret string) (*identity.Principal, error) {
	if !IsToken(secret) || len(secret) > 100 {
		return nil, identity.ErrNoSession
	}
	var tokenID int64
	var a Account
	var last sql.NullTime
	err := s.db.HotQueryRow(context.WithoutCancel(ctx), tokenSQL, identity.HashSecret(secret)).Scan(&tokenID, &a.ID, &a.CustomerID,
		&a.CustomerName, &a.Email, &a.Phone, &a.Locale, &a.CreatedAt, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, identity.ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("portal token: %w", err)
	}
	s.touchToken(ctx, tokenID)
	p := a.Principal()
	p.TokenID = tokenID
	return p, nil
}

// touchToken records last use at most once a minute per token and process.
func (s *Store) touchToken(ctx context.Context, id int64) {
	now := s.clock.Now()
	s.touchMu.Lock()
	if last, ok := s.touched[id]; ok && now.Sub(last) < time.Minute {
		s.touchMu.Unlock()
		return
	}
	if len(s.touched) > 10000 {
		s.touched = map[int64]time.Time{}
	}
	s.touched[id] = now
	s.touchMu.Unlock()
	_, _ = s.db.W.ExecContext(ctx, `UPDATE portal_tokens SET last_used_at = $1 WHERE id = $2`, db.Now(now), id)
}

// RevokeToken revokes a portal token.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE portal_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
			db.Now(s.clock.Now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("portal token %d: %w", id, domain.ErrNotFound)
		}
		return s.audit.Record(ctx, "portal.token_revoke", "portal_token", fmt.Sprint(id), nil)
	})
}
