package customers

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// CustomField is an admin-defined field of customer records.
type CustomField struct {
	ID      int64    `json:"id"`
	Key     string   `json:"key"`
	LabelZH string   `json:"label_zh"`
	LabelEN string   `json:"label_en"`
	Type    string   `json:"type"` // text, number, date, choice
	Choices []string `json:"choices"`
}

// FieldTypes are the kinds of custom field.
var FieldTypes = []string{"text", "number", "date", "choice"}

var fieldKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// CreateField defines a custom field.
func (s *Store) CreateField(ctx context.Context, f CustomField) (CustomField, error) {
	var v domain.ValidationError
	f.Key, f.LabelZH, f.LabelEN = strings.TrimSpace(f.Key), strings.TrimSpace(f.LabelZH), strings.TrimSpace(f.LabelEN)
	if !fieldKeyRE.MatchString(f.Key) {
		v.Add("key", "validation.field_key", nil)
	}
	for _, l := range []struct{ field, val string }{{"label_zh", f.LabelZH}, {"label_en", f.LabelEN}} {
		if l.val == "" {
			v.Add(l.field, "validation.required", nil)
		}
		checkLen(&v, l.field, l.val, 60)
	}
	if !slices.Contains(FieldTypes, f.Type) {
		v.Add("type", "validation.one_of", map[string]any{"Values": strings.Join(FieldTypes, ", ")})
	}
	if f.Type == "choice" && len(f.Choices) == 0 {
		v.Add("choices", "validation.required", nil)
	}
	if f.Type != "choice" {
		f.Choices = []string{}
	}
	if err := v.Err(); err != nil {
		return CustomField{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO custom_fields (key, label_zh, label_en, type, choices, position)
			VALUES ($1, $2, $3, $4, $5, (SELECT COALESCE(MAX(position), 0) + 1 FROM custom_fields)) RETURNING id`,
			f.Key, f.LabelZH, f.LabelEN, f.Type, jsonText(f.Choices)).Scan(&f.ID)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("key", "validation.name_taken", nil)
		}
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, "custom_field.create", "custom_field", f.Key, map[string]audit.Change{"type": {After: f.Type}})
	})
	if err != nil {
		return CustomField{}, fmt.Errorf("create custom field: %w", err)
	}
	return f, nil
}

// Fields lists the custom fields in display order.
func (s *Store) Fields(ctx context.Context) ([]CustomField, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, key, label_zh, label_en, type, choices FROM custom_fields ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("custom fields: %w", err)
	}
	defer rows.Close()
	out := []CustomField{}
	for rows.Next() {
		var f CustomField
		var choices string
		if err := rows.Scan(&f.ID, &f.Key, &f.LabelZH, &f.LabelEN, &f.Type, &choices); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(choices), &f.Choices)
		out = append(out, f)
	}
	return out, rows.Err()
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
	byKey := map[string]CustomField{}
	for _, d := range defs {
		byKey[d.Key] = d
	}
	var v domain.ValidationError
	out := map[string]any{}
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
			if len([]rune(s)) > 500 {
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
