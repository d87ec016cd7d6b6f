// Package domain holds the error kinds every business package returns, so the
// web layer can map them to HTTP in one place: not found, conflict, stale
// version, forbidden, and validation failures whose messages are catalog keys
// (translated by the caller's language, never by the domain).
package domain

import (
	"errors"
	"strings"
)

// The error kinds. Wrap them with fmt.Errorf("op: %w", ErrX) to add context.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrStale     = errors.New("stale version")
	ErrForbidden = errors.New("forbidden")
)

// FieldError says what is wrong with one field. Key is a message-catalog key;
// Params fill its placeholders.
type FieldError struct {
	Field  string
	Key    string
	Params map[string]any
}

// ValidationError lists every invalid field of a request.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid input:")
	for _, f := range e.Fields {
		b.WriteString(" ")
		b.WriteString(f.Field)
		b.WriteString(" (")
		b.WriteString(f.Key)
		b.WriteString(")")
	}
	return b.String()
}

// Add records a problem with field.
func (e *ValidationError) Add(field, key string, params map[string]any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Key: key, Params: params})
}

// Err returns e when it holds at least one field, else nil.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Invalid returns a ValidationError for a single field.
func Invalid(field, key string, params map[string]any) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Key: key, Params: params}}}
}

// ConflictError is a conflict that says why, in the caller's language: the
// state a ticket is in, who took it first. Key is a catalog key, Params
// fill it; Data is given to API clients as is (e.g. {"state": "closed"}).
type ConflictError struct {
	Key    string
	Params map[string]any
	Data   map[string]any
}

func (e *ConflictError) Error() string { return "conflict: " + e.Key }

// Unwrap makes it a conflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Conflict returns a ConflictError.
func Conflict(key string, params, data map[string]any) error {
	return &ConflictError{Key: key, Params: params, Data: data}
}
