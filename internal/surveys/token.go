package surveys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/careloop/careloop/internal/domain"
)

// tokenBytes is the link token's randomness: 128 bits, 22 characters in
// base64url, short enough to be one SMS template variable.
const tokenBytes = 16

// TokenLen is a token's length in characters.
var TokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// Errors of the public page (the page words each kindly).
var (
	// ErrNoSurvey: a token that is forged, truncated or of no survey.
	ErrNoSurvey = fmt.Errorf("survey link: %w", domain.ErrNotFound)
	// ErrExpired: the link's time is over.
	ErrExpired = errors.New("survey link expired")
	// ErrAnswered: the survey has its answer already.
	ErrAnswered = errors.New("survey already answered")
)

func newToken() (token, hash string, err error) {
	var b [tokenBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, tokenHash(token), nil
}

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// wellFormed: the right length of base64url characters (a cheap refusal
// before any lookup).
func wellFormed(token string) bool {
	if len(token) != TokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil
}

// ByToken returns the survey of a link: ErrNoSurvey for a token of none,
// ErrExpired after its time, ErrAnswered (with the survey) once answered.
func (s *Store) ByToken(ctx context.Context, token string) (Survey, error) {
	if !wellFormed(token) {
		return Survey{}, ErrNoSurvey
	}
	sv, err := scanSurvey(s.db.HotRow(ctx, `SELECT `+surveyCols+` FROM surveys WHERE token_hash = $1`, tokenHash(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return Survey{}, ErrNoSurvey
	}
	if err != nil {
		return Survey{}, err
	}
	return sv, linkState(sv, s.clock.Now())
}
