package portal

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
)

// Sign-in by phone: a six-digit code sent as a text message through the
// outbox's SMS channel. It exists only while such a channel is registered
// (SMSAvailable); the SMS gateway itself is the messaging issue's.

// MaxCodeAttempts is how many wrong tries a code allows before it is spent.
const MaxCodeAttempts = 5

// ErrNoSMS says no SMS channel is set up, so phone sign-in is off.
var ErrNoSMS = errors.New("no SMS channel is configured")

// ErrBadCode says the code is wrong, spent or expired (never which).
var ErrBadCode = errors.New("wrong or expired code")

// SMSAvailable tells whether phone sign-in can work: an SMS channel is
// registered with the outbox.
func (s *Store) SMSAvailable() bool { return s.outbox.HasChannel(notify.ChannelSMS) }

// CheckPhone parses a phone to its canonical form, naming field in the
// error when it is not one.
func CheckPhone(field, raw string) (string, error) {
	p, err := customers.ParsePhone(raw)
	if err != nil {
		var v *domain.ValidationError
		if errors.As(err, &v) && len(v.Fields) > 0 {
			return "", domain.Invalid(field, v.Fields[0].Key, v.Fields[0].Params)
		}
		return "", domain.Invalid(field, "validation.phone", nil)
	}
	return p.String(), nil
}

// CodeRequest asks for a sign-in code by phone.
type CodeRequest struct {
	Phone string
	IP    string
	Lang  string
}

func sixDigits() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return fmt.Sprintf("%06d", n.Int64())
}

func codeHash(accountID int64, code string) string {
	return identity.HashSecret(fmt.Sprintf("%d:%s", accountID, code))
}

// RequestCode sends a sign-in code to a phone if it belongs to a customer,
// and does nothing otherwise (the same answer either way). It returns the
// phone in canonical form, for the page that asks for the code.
func (s *Store) RequestCode(ctx context.Context, in CodeRequest) (string, error) {
	if !s.SMSAvailable() {
		return "", ErrNoSMS
	}
	phone, err := CheckPhone("phone", in.Phone)
	if err != nil {
		return "", err
	}
	if wait, _ := s.CodeLimit.Begin(phone, in.IP); wait > 0 {
		return "", &identity.ThrottledError{RetryAfter: wait}
	}
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.EnsurePhoneAccount(ctx, phone)
		if errors.Is(err, domain.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		code := sixDigits()
		now := db.Now(s.clock.Now())
		q := s.db.Q(ctx)
		// A new code replaces the account's earlier ones.
		if _, err := q.ExecContext(ctx, `UPDATE portal_codes SET used_at = $1 WHERE account_id = $2 AND used_at IS NULL`, now, a.ID); err != nil {
			return err
		}
		var id int64
		if err := q.QueryRowContext(ctx, `INSERT INTO portal_codes (account_id, code_hash, created_at, expires_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			a.ID, codeHash(a.ID, code), now, now.Add(s.opts.CodeTTL)).Scan(&id); err != nil {
			return err
		}
		lang := pickLang(a.Locale, in.Lang)
		body := s.cat.T(lang, "portal.sms.code", map[string]any{"Code": code, "Minutes": int(s.opts.CodeTTL.Minutes())})
		if _, err := s.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelSMS, Kind: "portal.sign_in_code", DedupeKey: fmt.Sprintf("portal_code:%d", id),
			CustomerID: a.CustomerID, Recipient: phone, Body: body, Transactional: true, Entity: "portal_account", EntityID: fmt.Sprint(a.ID),
			// The SMS template's variables (internal/sms.Data); a code is
			// urgent: quiet hours do not hold it.
			Data: json.RawMessage(fmt.Sprintf(`{"vars":{"code":%q,"minutes":"%d"},"urgent":true}`, code, int(s.opts.CodeTTL.Minutes())))}); err != nil {
			return err
		}
		return s.audit.Record(ctx, "portal.code_send", "portal_account", fmt.Sprint(a.ID), map[string]audit.Change{
			"phone": {After: customers.MaskPhone(phone)}})
	})
	return phone, err
}

// VerifyCode signs in with a phone's latest code: a session's secret on
// success; ErrBadCode for a wrong, spent or expired code (each wrong try
// counts, the code is spent after MaxCodeAttempts); a *ThrottledError after
// too many wrong codes for the phone or from the client address.
func (s *Store) VerifyCode(ctx context.Context, rawPhone, code, ip, userAgent string) (string, error) {
	if !s.SMSAvailable() {
		return "", ErrNoSMS
	}
	phone, err := CheckPhone("phone", rawPhone)
	if err != nil {
		return "", err
	}
	wait, attempt := s.VerifyLimit.Begin(phone, ip)
	if wait > 0 {
		return "", &identity.ThrottledError{RetryAfter: wait}
	}
	var sid string
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		a, err := s.account(ctx, `a.phone = $1`, phone)
		if errors.Is(err, domain.ErrNotFound) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		q := s.db.Q(ctx)
		var id int64
		var hash string
		var attempts int
		var expires time.Time
		err = q.QueryRowContext(ctx, `SELECT id, code_hash, attempts, expires_at FROM portal_codes
			WHERE account_id = $1 AND used_at IS NULL ORDER BY id DESC LIMIT 1`, a.ID).Scan(&id, &hash, &attempts, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrBadCode
		}
		if err != nil {
			return err
		}
		now := db.Now(s.clock.Now())
		if !now.Before(expires) || attempts >= MaxCodeAttempts {
			return ErrBadCode
		}
		if subtle.ConstantTimeCompare([]byte(hash), []byte(codeHash(a.ID, code))) != 1 {
			// Counted outside this transaction, which rolls back with
			// the error.
			return errWrongCode{id: id, spent: attempts+1 >= MaxCodeAttempts}
		}
		res, err := q.ExecContext(ctx, `UPDATE portal_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrBadCode
		}
		sid, err = s.startSession(ctx, a, "sms", ip, userAgent)
		return err
	})
	var wrong errWrongCode
	if errors.As(err, &wrong) {
		now := db.Now(s.clock.Now())
		if wrong.spent {
			_, _ = s.db.W.ExecContext(ctx, `UPDATE portal_codes SET attempts = attempts + 1, used_at = $1 WHERE id = $2`, now, wrong.id)
		} else {
			_, _ = s.db.W.ExecContext(ctx, `UPDATE portal_codes SET attempts = attempts + 1 WHERE id = $1`, wrong.id)
		}
		return "", ErrBadCode
	}
	if err != nil {
		return "", err
	}
	s.VerifyLimit.Succeed(phone, ip, attempt)
	return sid, nil
}

type errWrongCode struct {
	id    int64
	spent bool
}

func (errWrongCode) Error() string { return "wrong code" }
