package email

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// MaxSignature is the longest signature, in characters.
const MaxSignature = 1000

// Signature returns the user's email signature ("" when none).
func (s *Mailboxes) Signature(ctx context.Context, userID int64) (string, error) {
	var sig string
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT signature FROM staff_signatures WHERE user_id = $1`, userID).Scan(&sig)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return sig, err
}

// SetSignature sets the user's email signature; "" removes it.
func (s *Mailboxes) SetSignature(ctx context.Context, userID int64, sig string) error {
	sig = strings.TrimSpace(strings.ReplaceAll(sig, "\r\n", "\n"))
	if utf8.RuneCountInString(sig) > MaxSignature {
		return domain.Invalid("signature", "validation.too_long", map[string]any{"Max": MaxSignature})
	}
	if sig == "" {
		_, err := s.db.Q(ctx).ExecContext(ctx, `DELETE FROM staff_signatures WHERE user_id = $1`, userID)
		return err
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, `INSERT INTO staff_signatures (user_id, signature, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET signature = excluded.signature, updated_at = excluded.updated_at`, userID, sig, db.Now(s.clock.Now()))
	return err
}
