package api

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"

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
// the answer; a retry with the same key gets the stored answer and creates
// nothing. Concurrent retries wait on the key's row, then replay. Only
// successful answers are kept, so a corrected retry after a 4xx still works.
func (a *API) idempotent(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			h(w, r)
			return
		}
		if len(key) > 200 || strings.ContainsAny(key, "\r\n") {
			a.Problem(w, r, http.StatusBadRequest, "error.idempotency_key", nil, nil)
			return
		}
		p := httpx.Principal(r)
		rec := &recorder{header: http.Header{}}
		var replay *recorder
		err := a.DB.WithTx(r.Context(), func(ctx context.Context) error {
			q := a.DB.Q(ctx)
			res, err := q.ExecContext(ctx, `INSERT INTO idempotency_keys (user_id, key, method, path, status, body, created_at)
				VALUES ($1, $2, $3, $4, 0, '', $5) ON CONFLICT DO NOTHING`, p.UserID, key, r.Method, r.URL.Path, db.Now(a.Clock.Now()))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var method, path, body, location string
				var status int
				err := q.QueryRowContext(ctx, `SELECT method, path, status, body, location FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
					p.UserID, key).Scan(&method, &path, &status, &body, &location)
				if errors.Is(err, sql.ErrNoRows) {
					return errNotStored
				}
				if err != nil {
					return err
				}
				replay = &recorder{header: http.Header{}, status: status}
				if method != r.Method || path != r.URL.Path {
					replay.status = -1
					return nil
				}
				replay.body.WriteString(body)
				if location != "" {
					replay.header.Set("Location", location)
				}
				return nil
			}
			h(rec, r.WithContext(ctx))
			if rec.status < 200 || rec.status > 299 {
				return errNotStored
			}
			_, err = q.ExecContext(ctx, `UPDATE idempotency_keys SET status = $1, body = $2, location = $3 WHERE user_id = $4 AND key = $5`,
				rec.status, rec.body.String(), rec.header.Get("Location"), p.UserID, key)
			return err
		})
		switch {
		case replay != nil && replay.status == -1:
			a.Problem(w, r, http.StatusUnprocessableEntity, "error.idempotency_reused", nil, nil)
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
