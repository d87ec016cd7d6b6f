package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
)

// Kit is what every handler needs to answer: the catalog and the logger.
type Kit struct {
	Cat *i18n.Catalog
	Log *slog.Logger
}

// ProblemDoc is an RFC 9457 problem document.
type ProblemDoc struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	// ExistingID names the record a conflict is with (e.g. the customer
	// that already has this phone).
	ExistingID     int64  `json:"existing_id,omitempty"`
	ExistingNumber string `json:"existing_number,omitempty"`
	// Conflict carries what a domain.ConflictError tells a client, e.g.
	// {"state": "closed"} or who took a ticket first.
	Conflict map[string]any `json:"conflict,omitempty"`
}

// FieldProblem is one invalid field, in the caller's language.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// JSON writes v as JSON with status.
func (k Kit) JSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		k.Log.Error("encode response", "error", err)
		status, body = http.StatusInternalServerError, []byte(`{"title":"internal error","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

// Problem writes a problem document whose detail is the catalog message
// detailKey (may be empty).
func (k Kit) Problem(w http.ResponseWriter, r *http.Request, status int, detailKey string, params map[string]any, fields []FieldProblem) {
	k.ProblemDoc(w, r, k.NewProblem(r, status, detailKey, params, fields))
}

// NewProblem builds a problem document in the caller's language, for
// handlers that add fields before writing it with ProblemDoc.
func (k Kit) NewProblem(r *http.Request, status int, detailKey string, params map[string]any, fields []FieldProblem) ProblemDoc {
	lang := Lang(r)
	p := ProblemDoc{
		Type:      "about:blank",
		Title:     k.Cat.T(lang, "http."+strconv.Itoa(status), nil),
		Status:    status,
		Instance:  r.URL.Path,
		RequestID: RequestID(r.Context()),
		Errors:    fields,
	}
	if detailKey != "" {
		p.Detail = k.Cat.T(lang, detailKey, params)
	}
	return p
}

// ProblemDoc writes a problem document.
func (k Kit) ProblemDoc(w http.ResponseWriter, r *http.Request, p ProblemDoc) {
	body, _ := json.Marshal(p)
	h := w.Header()
	h.Set("Content-Type", "application/problem+json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

// Fields translates a validation error's fields.
func (k Kit) Fields(lang string, v *domain.ValidationError) []FieldProblem {
	out := make([]FieldProblem, len(v.Fields))
	for i, f := range v.Fields {
		out[i] = FieldProblem{Field: f.Field, Message: k.Cat.T(lang, f.Key, f.Params)}
	}
	return out
}

// Status maps a domain error to its HTTP status and catalog detail key. An
// error it does not know is a 500, logged with its cause.
func Status(err error) (int, string) {
	var v *domain.ValidationError
	var th *identity.ThrottledError
	var tl *TooLargeError
	switch {
	case errors.As(err, &tl):
		return http.StatusRequestEntityTooLarge, "error.validation"
	case errors.As(err, &v):
		return http.StatusBadRequest, "error.validation"
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound, "error.not_found"
	case errors.Is(err, domain.ErrStale):
		return http.StatusPreconditionFailed, "error.stale"
	case errors.Is(err, domain.ErrConflict):
		return http.StatusConflict, "error.conflict"
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden, "error.forbidden"
	case errors.As(err, &th):
		return http.StatusTooManyRequests, "error.throttled"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "error.unavailable"
	}
	return http.StatusInternalServerError, "error.internal"
}

// Error answers err as a problem document; internals never reach the client.
func (k Kit) Error(w http.ResponseWriter, r *http.Request, err error) {
	status, key := Status(err)
	var params map[string]any
	var fields []FieldProblem
	var v *domain.ValidationError
	var th *identity.ThrottledError
	switch {
	case errors.As(err, &v):
		fields = k.Fields(Lang(r), v)
	case errors.As(err, &th):
		secs := int(th.RetryAfter.Seconds()) + 1
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		params = map[string]any{"Minutes": (secs + 59) / 60}
	}
	if status >= 500 {
		k.Log.ErrorContext(r.Context(), "request failed", "error", err, "request_id", RequestID(r.Context()))
	}
	var c *domain.ConflictError
	if errors.As(err, &c) {
		p := k.NewProblem(r, status, c.Key, c.Params, nil)
		p.Conflict = c.Data
		k.ProblemDoc(w, r, p)
		return
	}
	k.Problem(w, r, status, key, params, fields)
}

// PathID parses the {id} path value as a positive integer; a malformed id is
// a 404, since such a resource cannot exist.
func PathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%s %q: %w", name, r.PathValue(name), domain.ErrNotFound)
	}
	return id, nil
}
