package tickets

import (
	"context"
	"errors"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// MaxBulk is the most tickets one bulk change takes.
const MaxBulk = 200

// BulkResult is the outcome for one ticket of a bulk change: OK, or the
// catalog key of why not with its parameters (and, for a refused field,
// the field).
type BulkResult struct {
	ID     int64          `json:"id"`
	OK     bool           `json:"ok"`
	Key    string         `json:"error_key,omitempty"`
	Params map[string]any `json:"-"`
	Field  string         `json:"field,omitempty"`
	// Message is Key in the caller's language; the API fills it.
	Message string `json:"message,omitempty"`
}

func checkBulk(ids []int64) ([]int64, error) {
	out := []int64{}
	for _, id := range ids {
		if id > 0 && !contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, domain.Invalid("ids", "validation.required", nil)
	}
	if len(out) > MaxBulk {
		return nil, domain.Invalid("ids", "validation.too_many", map[string]any{"Max": MaxBulk})
	}
	return out, nil
}

// BulkTransition moves each ticket in its own transaction, checked and
// audited one by one as Transition does: some may fail while others move.
func (s *Store) BulkTransition(ctx context.Context, p *identity.Principal, ids []int64, in TransitionInput) ([]BulkResult, error) {
	ids, err := checkBulk(ids)
	if err != nil {
		return nil, err
	}
	if err := in.check(); err != nil {
		return nil, err // the same for every ticket
	}
	in.Version = 0
	out := make([]BulkResult, 0, len(ids))
	for _, id := range ids {
		_, err := s.Transition(ctx, p, id, in)
		out = append(out, bulkResult(id, err))
		if errors.Is(err, context.Canceled) {
			break
		}
	}
	return out, nil
}

// BulkAssign assigns each ticket in its own transaction, as Assign does.
func (s *Store) BulkAssign(ctx context.Context, p *identity.Principal, ids []int64, in AssignInput) ([]BulkResult, error) {
	ids, err := checkBulk(ids)
	if err != nil {
		return nil, err
	}
	if in.OwnerID == nil && in.TeamID == nil {
		return nil, domain.Invalid("owner_id", "validation.required", nil)
	}
	out := make([]BulkResult, 0, len(ids))
	for _, id := range ids {
		_, err := s.Assign(ctx, p, id, in)
		var v *domain.ValidationError
		if errors.As(err, &v) && allFieldsOf(v, "owner_id", "team_id") {
			return nil, err // an unknown person or team: the same for every ticket
		}
		out = append(out, bulkResult(id, err))
		if errors.Is(err, context.Canceled) {
			break
		}
	}
	return out, nil
}

func allFieldsOf(v *domain.ValidationError, fields ...string) bool {
	for _, f := range v.Fields {
		if !containsString(fields, f.Field) {
			return false
		}
	}
	return len(v.Fields) > 0
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func bulkResult(id int64, err error) BulkResult {
	r := BulkResult{ID: id, OK: err == nil}
	if err == nil {
		return r
	}
	var c *domain.ConflictError
	var v *domain.ValidationError
	switch {
	case errors.As(err, &c):
		r.Key, r.Params = c.Key, c.Params
	case errors.As(err, &v) && len(v.Fields) > 0:
		r.Key, r.Params, r.Field = v.Fields[0].Key, v.Fields[0].Params, v.Fields[0].Field
	case errors.Is(err, domain.ErrNotFound):
		r.Key = "error.not_found"
	case errors.Is(err, domain.ErrStale):
		r.Key = "error.stale"
	case errors.Is(err, domain.ErrForbidden):
		r.Key = "error.forbidden"
	default:
		r.Key = "error.internal"
	}
	return r
}
