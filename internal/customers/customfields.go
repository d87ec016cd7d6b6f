package customers

import (
	"context"

	"github.com/careloop/careloop/internal/customfields"
)

// CustomField is an admin-defined field of customer records (the shared
// mechanism of internal/customfields, with Entity "customer").
type CustomField = customfields.Field

// FieldTypes are the kinds of custom field.
var FieldTypes = customfields.Types

// CreateField defines a custom field of customer records.
func (s *Store) CreateField(ctx context.Context, f CustomField) (CustomField, error) {
	f.Entity = customfields.Customer
	return customfields.New(s.db, s.audit).Create(ctx, f, nil)
}

// Fields lists the customer fields in display order.
func (s *Store) Fields(ctx context.Context) ([]CustomField, error) {
	return customfields.New(s.db, s.audit).List(ctx, customfields.Customer, "")
}

// checkCustom validates custom values against the definitions: unknown keys
// and wrong types are refused; values are normalised (numbers as numbers,
// dates as YYYY-MM-DD).
func (s *Store) checkCustom(ctx context.Context, values map[string]any) (map[string]any, error) {
	if len(values) == 0 {
		return map[string]any{}, nil
	}
	defs, err := s.Fields(ctx)
	if err != nil {
		return nil, err
	}
	return customfields.Check(defs, values)
}
