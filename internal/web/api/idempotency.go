package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"net/http"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/web/httpx"
)

// recorder captures a handler's answer so it can be stored and replayed.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}

var errNotStored = errors.New("answer not stored")

// idempotent makes a create route honour Idempotency-Key: the first request
// with a key runs inside one transaction that also claims the key and stores
// the answer; a retry with the same key and body gets the stored answer and
// creates nothing. Concurrent retries wait on the key's row, then replay.
// Only successful answers are kept, so a corrected retry after a 4xx still
// works. When the answer carries a secret (a token, a generated password),
// only its status and Location are kept (the handler says so with
// markSecret): a replay says where the created thing is, and the secret
// never rests in the database.
func (a *API) idempotent(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			h(w, r)
			return
		}
		if !validKey(key) {
			a.Problem(w, r, http.StatusBadRequest, "error.idempotency_key", nil, nil)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpx.MaxJSONBody))
		if err != nil {
			a.Problem(w, r, http.StatusRequestEntityTooLarge, "error.too_large", map[string]any{"Max": "1 MB"}, nil)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		bodyHash := hex.EncodeToString(sum[:])
		p := httpx.Principal(r)
		rec := &recorder{header: http.Header{}}
		var replay *recorder
		err = a.DB.WithTx(r.Context(), func(ctx context.Context) error {
			q := a.DB.Q(ctx)
			res, err := q.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, key, method, path, status, body, body_hash, created_at)
				VALUES ($1, $2, $3, $4, 0, '', $5, $6) ON CONFLICT DO NOTHING`, p.UserID, key, r.Method, r.URL.Path, bodyHash, db.Now(a.Clock.Now()))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var method, path, body, location, hash string
				var status int
				err := q.QueryRowContext(ctx, `SELECT method, path, status, body, location, body_hash FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
					p.UserID, key).Scan(&method, &path, &status, &body, &location, &hash)
				if errors.Is(err, sql.ErrNoRows) {
					return errNotStored
				}
				if err != nil {
					return err
				}
				replay = &recorder{header: http.Header{}, status: status}
				if method != r.Method || path != r.URL.Path || hash != bodyHash {
					replay.status = -1
					return nil
				}
				replay.body.WriteString(body)
				if location != "" {
					replay.header.Set("Location", location)
				}
				return nil
			}
			secret := false
			h(rec, r.WithContext(context.WithValue(ctx, secretKey{}, &secret)))
			if rec.status < 200 || rec.status > 299 {
				return errNotStored
			}
			stored := rec.body.String()
			if secret {
				stored = ""
			}
			_, err = q.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, body = $2, location = $3 WHERE user_id = $4 AND key = $5`,
				rec.status, stored, rec.header.Get("Location"), p.UserID, key)
			return err
		})
		switch {
		case replay != nil && replay.status == -1:
			a.Problem(w, r, http.StatusUnprocessableEntity, "error.idempotency_reused", nil, nil)
		case replay != nil && replay.body.Len() == 0:
			// The first answer held a secret that was not kept.
			w.Header().Set("Idempotent-Replayed", "true")
			if l := replay.header.Get("Location"); l != "" {
				w.Header().Set("Location", l)
			}
			a.Problem(w, r, http.StatusConflict, "error.idempotency_secret", nil, nil)
		case replay != nil:
			w.Header().Set("Idempotent-Replayed", "true")
			if l := replay.header.Get("Location"); l != "" {
				w.Header().Set("Location", l)
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(replay.status)
			_, _ = w.Write(replay.body.Bytes())
		case err != nil && !errors.Is(err, errNotStored):
			a.Error(w, r, err)
		default:
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			for k, v := range rec.header {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.status)
			_, _ = w.Write(rec.body.Bytes())
		}
	}
}

// validKey accepts printable ASCII keys of at most 200 characters (a UUID is
// the usual choice).
func validKey(k string) bool {
	if len(k) > 200 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

type secretKey struct{}

// markSecret tells the idempotency layer that this answer carries a secret
// that must not be stored for replay.
func markSecret(r *http.Request) {
	if p, ok := r.Context().Value(secretKey{}).(*bool); ok {
		*p = true
	}
}
