package portal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
)

// Purposes of a link.
const (
	PurposeSignIn = "sign_in" // asked for on the sign-in page
	PurposeFollow = "follow"  // in the web form's confirmation: opens its ticket
)

// LinkPath is where a link's token is redeemed.
const LinkPath = "/portal/auth"

// Why a link does not sign in.
var (
	ErrLinkUnknown = errors.New("unknown sign-in link")
	ErrLinkUsed    = errors.New("sign-in link already used")
	ErrLinkExpired = errors.New("sign-in link expired")
)

// LinkRequest asks for a sign-in link by email.
type LinkRequest struct {
	Email string
	IP    string
	Lang  string // of the mail, when the account has none yet
	Next  string // a portal path to open after signing in
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckEmail normalises an address and says what is wrong with it.
func CheckEmail(field, e string) (string, error) {
	e = identity.NormalizeEmail(e)
	switch a, err := mail.ParseAddress(e); {
	case e == "":
		return "", domain.Invalid(field, "validation.required", nil)
	case err != nil || a.Address != e || len(e) > 254:
		return "", domain.Invalid(field, "validation.email", nil)
	}
	return e, nil
}

// SafeNext keeps a redirect after sign-in inside the portal.
func SafeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") ||
		path.Clean(u.Path) != u.Path || (u.Path != "/portal" && !strings.HasPrefix(u.Path, "/portal/")) {
		return "/portal"
	}
	return next
}

// RequestLink sends a sign-in link to an address if it belongs to a
// customer, and does nothing otherwise: the answer (nil) is the same either
// way, so the page cannot tell who is a customer. A malformed address is a
// validation error; too many requests for the address or from the client
// address a *identity.ThrottledError, also for unknown addresses.
func (s *Store) RequestLink(ctx context.Context, in LinkRequest) error {
	addr, err := CheckEmail("email", in.Email)
	if err != nil {
		return err
	}
	if wait, _ := s.LinkLimit.Begin(addr, in.IP); wait > 0 {
		return &identity.ThrottledError{RetryAfter: wait}
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.EnsureEmailAccount(ctx, addr)
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		lang := pickLang(a.Locale, in.Lang)
		token, id, err := s.newLink(ctx, a.ID, PurposeSignIn, SafeNext(in.Next), s.opts.LinkTTL)
		if err != nil {
			return err
		}
		params := map[string]any{"Name": a.CustomerName, "Link": s.link(LinkPath + "?token=" + token),
			"Minutes": int(s.opts.LinkTTL.Minutes())}
		if err := s.mail(ctx, a, "portal.sign_in", fmt.Sprintf("portal_link:%d", id), "portal_account", fmt.Sprint(a.ID),
			s.cat.T(lang, "portal.mail.sign_in.subject", params), s.cat.T(lang, "portal.mail.sign_in.body", params)); err != nil {
			return err
		}
		return s.audit.Record(ctx, "portal.link_send", "portal_account", fmt.Sprint(a.ID), map[string]audit.Change{
			"purpose": {After: PurposeSignIn}})
	})
}

func pickLang(account, fallback string) string {
	if l := i18n.Normalize(account); l != "" {
		return l
	}
	if l := i18n.Normalize(fallback); l != "" {
		return l
	}
	return i18n.Default
}

// newLink stores a link (its hash) in ctx's transaction and returns the
// token to put in the mail.
func (s *Store) newLink(ctx context.Context, accountID int64, purpose, next string, ttl time.Duration) (string, int64, error) {
	token := newSecret()
	now := db.Now(s.clock.Now())
	var id int64
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO portal_links (token_hash, account_id, purpose, next, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, identity.HashSecret(token), accountID, purpose, next, now, now.Add(ttl)).Scan(&id)
	if err != nil {
		return "", 0, fmt.Errorf("portal link: %w", err)
	}
	return token, id, nil
}

// mail enqueues a transactional email to the account's address in ctx's
// transaction.
func (s *Store) mail(ctx context.Context, a Account, kind, dedupe, entity, entityID, subject, body string) error {
	data, _ := json.Marshal(email.Data{ToName: a.CustomerName, Auto: true})
	_, err := s.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: kind, DedupeKey: dedupe, CustomerID: a.CustomerID,
		Recipient: a.Email, Subject: subject, Body: body, Data: data, Transactional: true, Entity: entity, EntityID: entityID})
	return err
}

// Link is what a link's page shows before it is used.
type Link struct {
	Purpose string
	Next    string
	Account Account
}

// LinkStatus tells what a token is without using it: the page a link opens
// shows whose it is and asks to sign in with a button, so that a mail
// scanner fetching the link does not spend it. ErrLinkUnknown, ErrLinkUsed
// or ErrLinkExpired when it cannot sign in.
func (s *Store) LinkStatus(ctx context.Context, token string) (Link, error) {
	var l Link
	var accountID int64
	var expires time.Time
	var used sql.NullTime
	if token == "" || len(token) > 100 {
		return Link{}, ErrLinkUnknown
	}
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT account_id, purpose, next, expires_at, used_at FROM portal_links WHERE token_hash = $1`,
		identity.HashSecret(token)).Scan(&accountID, &l.Purpose, &l.Next, &expires, &used)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Link{}, ErrLinkUnknown
	case err != nil:
		return Link{}, fmt.Errorf("portal link: %w", err)
	case used.Valid:
		return Link{}, ErrLinkUsed
	case !s.clock.Now().Before(expires):
		return Link{}, ErrLinkExpired
	}
	if l.Account, err = s.Account(ctx, accountID); errors.Is(err, domain.ErrNotFound) {
		return Link{}, ErrLinkUnknown // the customer was erased or merged away meanwhile
	}
	return l, err
}

// Redeem uses a link: it is marked used in the statement that checks it is
// unused and unexpired (so two clicks at once sign in once), and a session
// starts for its account. It returns the session's secret and where to go.
// A used, expired or unknown link changes nothing.
func (s *Store) Redeem(ctx context.Context, token, ip, userAgent string) (string, Link, error) {
	l, err := s.LinkStatus(ctx, token)
	if err != nil {
		return "", Link{}, err
	}
	var sid string
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		now := db.Now(s.clock.Now())
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE portal_links SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1`,
			now, identity.HashSecret(token))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLinkUsed // spent by a click alongside, or expired this instant
		}
		sid, err = s.startSession(ctx, l.Account, "link:"+l.Purpose, ip, userAgent)
		return err
	})
	if err != nil {
		return "", Link{}, err
	}
	return sid, l, nil
}
