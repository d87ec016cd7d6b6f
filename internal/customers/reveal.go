package customers

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// RevealGrantTTL is how long the page has to show a revealed number: the
// browser follows the redirect at once; a later reload shows it masked.
const RevealGrantTTL = 2 * time.Minute

// Reveal returns a customer's phones in full for a call, and records who
// looked, when and why in the audit trail. The reason is required.
func (s *Store) Reveal(ctx context.Context, p *identity.Principal, id int64, reason string) (Customer, error) {
	c, _, err := s.reveal(ctx, p, id, reason, false)
	return c, err
}

// RevealOnce is Reveal for the page: besides the audit entry it leaves a
// single-use grant, valid for RevealGrantTTL, that lets this user's next
// GET of the record show the numbers (TakeReveal). The POST then redirects
// to the record, so a reload neither posts again nor reveals again.
func (s *Store) RevealOnce(ctx context.Context, p *identity.Principal, id int64, reason string) (string, error) {
	_, token, err := s.reveal(ctx, p, id, reason, true)
	return token, err
}

func (s *Store) reveal(ctx context.Context, p *identity.Principal, id int64, reason string, grant bool) (Customer, string, error) {
	if !p.Can(identity.CustomersContactReveal) && !p.Can(identity.CustomersContactView) {
		return Customer{}, "", fmt.Errorf("reveal: %w", domain.ErrForbidden)
	}
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return Customer{}, "", domain.Invalid("reason", "validation.required", nil)
	case n > 200:
		return Customer{}, "", domain.Invalid("reason", "validation.too_long", map[string]any{"Max": 200})
	}
	var c Customer
	var token string
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		c, err = s.get(ctx, id)
		if err != nil {
			return err
		}
		if grant {
			b := make([]byte, 18)
			_, _ = rand.Read(b)
			token = base64.RawURLEncoding.EncodeToString(b)
			now := db.Now(s.clock.Now())
			q := s.db.Q(ctx)
			if _, err := q.ExecContext(ctx, `DELETE FROM customer_reveal_grants WHERE expires_at < $1`, now); err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO customer_reveal_grants (token, user_id, customer_id, expires_at) VALUES ($1, $2, $3, $4)`,
				token, p.UserID, id, now.Add(RevealGrantTTL)); err != nil {
				return err
			}
		}
		return s.audit.Record(ctx, "customer.reveal", "customer", fmt.Sprint(id), map[string]audit.Change{"reason": {After: reason}})
	})
	if err != nil {
		return Customer{}, "", fmt.Errorf("reveal customer: %w", err)
	}
	return c, token, nil
}

// TakeReveal uses up a grant of RevealOnce: when token is this user's
// unexpired grant for customer id, it is deleted and the customer returned
// unmasked (ok); otherwise ok is false and nothing is shown.
func (s *Store) TakeReveal(ctx context.Context, p *identity.Principal, id int64, token string) (Customer, bool, error) {
	if token == "" || p == nil || p.UserID == 0 {
		return Customer{}, false, nil
	}
	var got string
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		return s.db.Q(ctx).QueryRowContext(ctx, `DELETE FROM customer_reveal_grants
			WHERE token = $1 AND user_id = $2 AND customer_id = $3 AND expires_at > $4 RETURNING token`,
			token, p.UserID, id, db.Now(s.clock.Now())).Scan(&got)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, false, nil
	}
	if err != nil {
		return Customer{}, false, fmt.Errorf("take reveal: %w", err)
	}
	c, err := s.get(ctx, id)
	if err != nil {
		return Customer{}, false, err
	}
	return c, true, nil
}
