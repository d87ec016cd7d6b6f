package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Category is a node of the admin-editable category tree.
type Category struct {
	ID        int64     `json:"id"`
	ParentID  *int64    `json:"parent_id"`
	Name      string    `json:"name"`
	NameEN    string    `json:"name_en"`
	Position  int       `json:"position"`
	Active    bool      `json:"active"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Depth is 0 for a root; Categories returns the tree depth first.
	Depth int `json:"depth"`
}

// Label is the category's name in lang (the Chinese name when it has no
// English one).
func (c Category) Label(lang string) string {
	if strings.HasPrefix(lang, "en") && c.NameEN != "" {
		return c.NameEN
	}
	return c.Name
}

// DefaultCategories are created on first start (SPEC section 3).
var DefaultCategories = []struct{ Name, NameEN string }{
	{"产品质量", "Product quality"}, {"服务态度", "Service attitude"}, {"费用账单", "Billing"},
	{"物流配送", "Logistics and delivery"}, {"使用咨询", "Usage question"}, {"技术故障", "Technical fault"},
	{"其他", "Other"},
}

// EnsureDefaultCategories creates the default categories when there are none.
func (s *Store) EnsureDefaultCategories(ctx context.Context) error {
	var n int
	if err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_categories`).Scan(&n); err != nil || n > 0 {
		return err
	}
	now := db.Now(s.clock.Now())
	for i, c := range DefaultCategories {
		if _, err := s.db.W.ExecContext(ctx, `INSERT INTO ticket_categories (name, name_en, position, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING`, c.Name, c.NameEN, (i+1)*10, now); err != nil {
			return fmt.Errorf("default categories: %w", err)
		}
	}
	return nil
}

const categoryCols = `id, parent_id, name, name_en, position, active, version, created_at, updated_at`

func scanCategory(sc interface{ Scan(...any) error }) (Category, error) {
	var c Category
	var parent sql.NullInt64
	err := sc.Scan(&c.ID, &parent, &c.Name, &c.NameEN, &c.Position, &c.Active, &c.Version, &c.CreatedAt, &c.UpdatedAt)
	if parent.Valid {
		c.ParentID = &parent.Int64
	}
	return c, err
}

// Categories returns the tree depth first, siblings by position.
func (s *Store) Categories(ctx context.Context) ([]Category, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+categoryCols+` FROM ticket_categories ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	defer rows.Close()
	children := map[int64][]Category{}
	for rows.Next() {
		c, err := scanCategory(rows)
		if err != nil {
			return nil, err
		}
		var p int64
		if c.ParentID != nil {
			p = *c.ParentID
		}
		children[p] = append(children[p], c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Category{}
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		for _, c := range children[parent] {
			c.Depth = depth
			out = append(out, c)
			walk(c.ID, depth+1)
		}
	}
	walk(0, 0)
	return out, nil
}

// Category returns one category.
func (s *Store) Category(ctx context.Context, id int64) (Category, error) {
	c, err := scanCategory(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+categoryCols+` FROM ticket_categories WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Category{}, fmt.Errorf("category %d: %w", id, domain.ErrNotFound)
	}
	return c, err
}

// lineage returns the category and its ancestors, nearest first.
func (s *Store) lineage(ctx context.Context, id int64) ([]int64, error) {
	out := []int64{}
	for id != 0 && len(out) < 10 {
		out = append(out, id)
		var parent sql.NullInt64
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT parent_id FROM ticket_categories WHERE id = $1`, id).Scan(&parent); err != nil {
			return nil, err
		}
		id = parent.Int64
	}
	return out, nil
}

// SaveCategory creates (ID 0) or updates a category. A category cannot
// become its own descendant, and the tree is at most four levels deep.
func (s *Store) SaveCategory(ctx context.Context, c Category) (Category, error) {
	var v domain.ValidationError
	c.Name, c.NameEN = strings.TrimSpace(c.Name), strings.TrimSpace(c.NameEN)
	if c.Name == "" {
		v.Add("name", "validation.required", nil)
	}
	checkLen(&v, "name", c.Name, 40)
	checkLen(&v, "name_en", c.NameEN, 60)
	if c.ParentID != nil {
		line, err := s.lineage(ctx, *c.ParentID)
		switch {
		case err != nil:
			v.Add("parent_id", "validation.unknown_category", map[string]any{"Value": *c.ParentID})
		case c.ID != 0 && contains(line, c.ID):
			v.Add("parent_id", "validation.category_cycle", nil)
		case len(line) >= 4:
			v.Add("parent_id", "validation.category_depth", map[string]any{"Max": 4})
		}
	}
	if err := v.Err(); err != nil {
		return Category{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		q := s.db.Q(ctx)
		now := db.Now(s.clock.Now())
		if c.ID == 0 {
			if c.Position == 0 {
				if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) + 10 FROM ticket_categories`).Scan(&c.Position); err != nil {
					return err
				}
			}
			err := q.QueryRowContext(ctx, `INSERT INTO ticket_categories (parent_id, name, name_en, position, active, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, c.ParentID, c.Name, c.NameEN, c.Position, c.Active, now).Scan(&c.ID)
			if db.IsUniqueViolation(err) {
				return domain.Invalid("name", "validation.name_taken", nil)
			}
			if err != nil {
				return err
			}
			return s.audit.Record(ctx, "ticket_category.create", "ticket_category", fmt.Sprint(c.ID), map[string]audit.Change{
				"name": {After: c.Name}, "parent_id": {After: idOrNil(c.ParentID)}})
		}
		before, err := s.Category(ctx, c.ID)
		if err != nil {
			return err
		}
		if c.Position == 0 {
			c.Position = before.Position
		}
		res, err := q.ExecContext(ctx, `UPDATE ticket_categories SET parent_id = $1, name = $2, name_en = $3, position = $4, active = $5,
			version = version + 1, updated_at = $6 WHERE id = $7 AND version = $8`,
			c.ParentID, c.Name, c.NameEN, c.Position, c.Active, now, c.ID, c.Version)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("name", "validation.name_taken", nil)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("category %d: %w", c.ID, domain.ErrStale)
		}
		return s.audit.Record(ctx, "ticket_category.update", "ticket_category", fmt.Sprint(c.ID), audit.Diff(
			map[string]any{"name": before.Name, "name_en": before.NameEN, "parent_id": idOrNil(before.ParentID), "active": before.Active, "position": before.Position},
			map[string]any{"name": c.Name, "name_en": c.NameEN, "parent_id": idOrNil(c.ParentID), "active": c.Active, "position": c.Position}))
	})
	if err != nil {
		return Category{}, fmt.Errorf("save category: %w", err)
	}
	return s.Category(ctx, c.ID)
}

func contains(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// idOrNil is an optional id as a value (nil when absent), for audit diffs
// that compare printed values.
func idOrNil(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
