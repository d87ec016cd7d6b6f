// Package customfields is the one mechanism for admin-defined fields, on
// customer records and on tickets (per ticket type): definitions, and the
// check of the values a record carries.
//
// Invariants: a key is unique per entity; values are checked against the
// entity's definitions on every write (unknown keys and wrong types are
// refused, values normalised), so what is stored always reads back as its
// type; definitions are audited.
package customfields

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Entities that carry custom fields.
const (
	Customer = "customer"
	Ticket   = "ticket"
)

// Field is an admin-defined field.
type Field struct {
	ID      int64    `json:"id"`
	Entity  string   `json:"entity"`
	Key     string   `json:"key"`
	LabelZH string   `json:"label_zh"`
	LabelEN string   `json:"label_en"`
	Type    string   `json:"type"` // text, number, date, choice
	Choices []string `json:"choices"`
	// AppliesTo limits a ticket field to some ticket types (empty: all).
	AppliesTo []string `json:"applies_to"`
}

// Types are the kinds of custom field.
var Types = []string{"text", "number", "date", "choice"}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Store keeps the definitions.
type Store struct {
	db    *db.DB
	audit *audit.Log
}

// New returns the definitions store.
func New(d *db.DB, a *audit.Log) *Store { return &Store{db: d, audit: a} }

// Create defines a field of an entity. subtypes are the values AppliesTo
// may name (ticket types), nil when the entity has none.
func (s *Store) Create(ctx context.Context, f Field, subtypes []string) (Field, error) {
	var v domain.ValidationError
	f.Key, f.LabelZH, f.LabelEN = strings.TrimSpace(f.Key), strings.TrimSpace(f.LabelZH), strings.TrimSpace(f.LabelEN)
	if f.Entity != Customer && f.Entity != Ticket {
		v.Add("entity", "validation.one_of", map[string]any{"Values": Customer + ", " + Ticket})
	}
	if !keyRE.MatchString(f.Key) {
		v.Add("key", "validation.field_key", nil)
	}
	for _, l := range []struct{ field, val string }{{"label_zh", f.LabelZH}, {"label_en", f.LabelEN}} {
		if l.val == "" {
			v.Add(l.field, "validation.required", nil)
		}
		if utf8.RuneCountInString(l.val) > 60 {
			v.Add(l.field, "validation.too_long", map[string]any{"Max": 60})
		}
	}
	if !slices.Contains(Types, f.Type) {
		v.Add("type", "validation.one_of", map[string]any{"Values": strings.Join(Types, ", ")})
	}
	if f.Type == "choice" && len(f.Choices) == 0 {
		v.Add("choices", "validation.required", nil)
	}
	if f.Type != "choice" {
		f.Choices = []string{}
	}
	if f.AppliesTo == nil {
		f.AppliesTo = []string{}
	}
	for _, t := range f.AppliesTo {
		if !slices.Contains(subtypes, t) {
			v.Add("applies_to", "validation.one_of", map[string]any{"Values": strings.Join(subtypes, ", ")})
			break
		}
	}
	if err := v.Err(); err != nil {
		return Field{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO custom_fields (entity, key, label_zh, label_en, type, choices, applies_to, position)
			VALUES ($1, $2, $3, $4, $5, $6, $7, (SELECT COALESCE(MAX(position), 0) + 1 FROM custom_fields)) RETURNING id`,
			f.Entity, f.Key, f.LabelZH, f.LabelEN, f.Type, jsonText(f.Choices), jsonText(f.AppliesTo)).Scan(&f.ID)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("key", "validation.name_taken", nil)
		}
		if err != nil {
			return err
		}
		changes := map[string]audit.Change{"type": {After: f.Type}, "entity": {After: f.Entity}}
		if len(f.AppliesTo) > 0 {
			changes["applies_to"] = audit.Change{After: strings.Join(f.AppliesTo, ", ")}
		}
		return s.audit.Record(ctx, "custom_field.create", "custom_field", f.Key, changes)
	})
	if err != nil {
		return Field{}, fmt.Errorf("create custom field: %w", err)
	}
	return f, nil
}

// List returns an entity's fields in display order; with subtype, only
// those that apply to it.
func (s *Store) List(ctx context.Context, entity, subtype string) ([]Field, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, entity, key, label_zh, label_en, type, choices, applies_to
		FROM custom_fields WHERE entity = $1 ORDER BY position, id`, entity)
	if err != nil {
		return nil, fmt.Errorf("custom fields: %w", err)
	}
	defer rows.Close()
	out := []Field{}
	for rows.Next() {
		var f Field
		var choices, applies string
		if err := rows.Scan(&f.ID, &f.Entity, &f.Key, &f.LabelZH, &f.LabelEN, &f.Type, &choices, &applies); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(choices), &f.Choices)
		_ = json.Unmarshal([]byte(applies), &f.AppliesTo)
		if subtype != "" && len(f.AppliesTo) > 0 && !slices.Contains(f.AppliesTo, subtype) {
			continue
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Check validates values against defs: unknown keys and wrong types are
// refused (field "custom.<key>"); values are normalised (numbers as
// numbers, dates as YYYY-MM-DD, text trimmed); empty values are dropped.
func Check(defs []Field, values map[string]any) (map[string]any, error) {
	out := map[string]any{}
	if len(values) == 0 {
		return out, nil
	}
	byKey := map[string]Field{}
	for _, d := range defs {
		byKey[d.Key] = d
	}
	var v domain.ValidationError
	for k, val := range values {
		field := "custom." + k
		d, ok := byKey[k]
		if !ok {
			v.Add(field, "validation.unknown_field", nil)
			continue
		}
		if val == nil || val == "" {
			continue
		}
		switch d.Type {
		case "text":
			s, ok := val.(string)
			if !ok {
				v.Add(field, "validation.type", map[string]any{"Type": "string"})
				continue
			}
			if utf8.RuneCountInString(s) > 500 {
				v.Add(field, "validation.too_long", map[string]any{"Max": 500})
				continue
			}
			out[k] = strings.TrimSpace(s)
		case "number":
			switch n := val.(type) {
			case float64:
				out[k] = n
			case string:
				f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
				if err != nil {
					v.Add(field, "validation.type", map[string]any{"Type": "number"})
					continue
				}
				out[k] = f
			default:
				v.Add(field, "validation.type", map[string]any{"Type": "number"})
			}
		case "date":
			s, ok := val.(string)
			if _, err := time.Parse("2006-01-02", s); !ok || err != nil {
				v.Add(field, "validation.date", nil)
				continue
			}
			out[k] = s
		case "choice":
			s, ok := val.(string)
			if !ok || !slices.Contains(d.Choices, s) {
				v.Add(field, "validation.one_of", map[string]any{"Values": strings.Join(d.Choices, ", ")})
				continue
			}
			out[k] = s
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
