package customers

import (
	"errors"
	"testing"

	"github.com/careloop/careloop/internal/domain"
)

// errKey returns the catalog key of the first field of a validation error,
// "" for nil, and fails the test for any other error.
func errKey(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 {
		t.Fatalf("error %v is not a *domain.ValidationError", err)
	}
	return ve.Fields[0].Key
}

// errParams returns the params of the first field of a validation error.
func errParams(t *testing.T, err error) map[string]any {
	t.Helper()
	var ve *domain.ValidationError
	if !errors.As(err, &ve) || len(ve.Fields) == 0 {
		t.Fatalf("error %v is not a *domain.ValidationError", err)
	}
	return ve.Fields[0].Params
}

// SetRestageBatch makes ApplyLifecycleRules work in batches of n ids (the
// external tests see it, being in the same test binary); it returns the
// undo.
func SetRestageBatch(n int64) (undo func()) {
	old := restageBatch
	restageBatch = n
	return func() { restageBatch = old }
}

// SetBackfillBatch makes BackfillNameIndex look at n customers per
// transaction; it returns the undo.
func SetBackfillBatch(n int) (undo func()) {
	old := backfillBatch
	backfillBatch = n
	return func() { backfillBatch = old }
}
