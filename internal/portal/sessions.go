package portal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
)

// Portal sessions are apart from staff sessions (their own table and
// cookie): a portal cookie never authenticates a staff route, and a staff
// cookie never a portal page.

// SessionMaxAge is how long a portal session lives at most (the cookie's
// Max-Age).
func (s *Store) SessionMaxAge() time.Duration { return s.opts.SessionMaxAge }

// startSession records a sign-in of account a by how (link:sign_in,
// link:follow, sms, demo) in ctx's transaction and returns the session's
// secret for the cookie.
func (s *Store) startSession(ctx context.Context, a Account, how, ip, userAgent string) (string, error) {
	sid := newSecret()
	now := db.Now(s.clock.Now())
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `INSERT INTO portal_sessions (id_hash, account_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`, identity.HashSecret(sid), a.ID, now, now.Add(s.opts.SessionMaxAge), ip, userAgent); err != nil {
		return "", fmt.Errorf("portal session: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE portal_accounts SET last_sign_in_at = $1 WHERE id = $2`, now, a.ID); err != nil {
		return "", err
	}
	ctx = audit.WithActor(ctx, portalActor(ctx, a))
	return sid, s.audit.Record(ctx, "portal.sign_in", "portal_account", fmt.Sprint(a.ID), map[string]audit.Change{
		"customer_id": {After: a.CustomerID}, "method": {After: how}})
}

// portalActor is the audit actor of a customer acting on the portal,
// keeping the address and request of ctx's actor.
func portalActor(ctx context.Context, a Account) audit.Actor {
	act := audit.ActorFrom(ctx)
	return audit.Actor{Label: "portal:" + a.Label(), IP: act.IP, RequestID: act.RequestID}
}

// DemoSignIn starts a session for the account of an address without a link:
// only for the demo account of a --demo server (the handler checks).
func (s *Store) DemoSignIn(ctx context.Context, email, ip, userAgent string) (string, error) {
	var sid string
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.EnsureEmailAccount(ctx, email)
		if err != nil {
			return err
		}
		sid, err = s.startSession(ctx, a, "demo", ip, userAgent)
		return err
	})
	return sid, err
}

// sessionSQL checks a session and reads its account in one statement.
const sessionSQL = `SELECT a.id, a.customer_id, c.name, a.email, a.phone, a.locale, a.created_at, a.last_sign_in_at,
	s.last_seen_at, s.expires_at
	FROM portal_sessions s JOIN portal_accounts a ON a.id = s.account_id
	JOIN customers c ON c.id = a.customer_id AND c.merged_into IS NULL AND c.erased_at IS NULL
	WHERE s.id_hash = $1`

// SessionPrincipal resolves a portal session cookie to its customer's
// portal principal; identity.ErrNoSession when it is unknown or expired.
func (s *Store) SessionPrincipal(ctx context.Context, sessionID string) (*identity.Principal, error) {
	if sessionID == "" || len(sessionID) > 100 {
		return nil, identity.ErrNoSession
	}
	hash := identity.HashSecret(sessionID)
	var a Account
	var last sql.NullTime
	var seen, expires time.Time
	err := s.db.HotQueryRow(context.WithoutCancel(ctx), sessionSQL, hash).Scan(&a.ID, &a.CustomerID, &a.CustomerName, &a.Email, &a.Phone,
		&a.Locale, &a.CreatedAt, &last, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, identity.ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("portal session: %w", err)
	}
	now := s.clock.Now()
	if !now.Before(expires) || now.Sub(seen) >= s.opts.SessionIdle {
		_, _ = s.db.W.ExecContext(ctx, `DELETE FROM portal_sessions WHERE id_hash = $1`, hash)
		return nil, identity.ErrNoSession
	}
	if now.Sub(seen) > time.Minute {
		_, _ = s.db.W.ExecContext(ctx, `UPDATE portal_sessions SET last_seen_at = $1 WHERE id_hash = $2`, db.Now(now), hash)
	}
	p := a.Principal()
	p.SessionHash = hash
	return p, nil
}

// EndSession signs a portal session out.
func (s *Store) EndSession(ctx context.Context, sessionID string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM portal_sessions WHERE id_hash = $1`, identity.HashSecret(sessionID))
	return err
}

// DeleteExpired removes expired sessions, links and codes; it returns how
// many rows went.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.clock.Now()
	var total int64
	for _, st := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM portal_sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, []any{db.Now(now), db.Now(now.Add(-s.opts.SessionIdle))}},
		// Links and codes are kept a day past expiry, so that a late click
		// is told "expired" rather than "unknown".
		{`DELETE FROM portal_links WHERE expires_at <= $1`, []any{db.Now(now.Add(-24 * time.Hour))}},
		{`DELETE FROM portal_codes WHERE expires_at <= $1`, []any{db.Now(now.Add(-24 * time.Hour))}},
	} {
		res, err := s.db.W.ExecContext(ctx, st.sql, st.args...)
		if err != nil {
			return total, fmt.Errorf("portal cleanup: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
