package tickets

import (
	"context"

	"github.com/careloop/careloop/internal/customfields"
)

// CustomFields returns the admin-defined fields of tickets of a type (all
// ticket fields when typ is "").
func (s *Store) CustomFields(ctx context.Context, typ string) ([]customfields.Field, error) {
	return customfields.New(s.db, s.audit).List(ctx, customfields.Ticket, typ)
}

// CreateCustomField defines a ticket field, for every type or those of
// f.AppliesTo.
func (s *Store) CreateCustomField(ctx context.Context, f customfields.Field) (customfields.Field, error) {
	f.Entity = customfields.Ticket
	return customfields.New(s.db, s.audit).Create(ctx, f, Types)
}

// checkCustom checks a ticket's custom values against its type's fields.
func (s *Store) checkCustom(ctx context.Context, typ string, values map[string]any) (map[string]any, error) {
	if len(values) == 0 {
		return map[string]any{}, nil
	}
	defs, err := s.CustomFields(ctx, typ)
	if err != nil {
		return nil, err
	}
	return customfields.Check(defs, values)
}
