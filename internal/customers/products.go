package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Product is an entry of the product catalog: what customers can own.
type Product struct {
	ID                int64     `json:"id"`
	Name              string    `json:"name"`
	Model             string    `json:"model"`
	WarrantyMonths    int       `json:"warranty_months"`
	MaintenanceMonths int       `json:"maintenance_months"`
	Active            bool      `json:"active"`
	Version           int       `json:"version"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// ProductInput creates or changes a product; nil fields stay (on create,
// they take their defaults: 12 warranty months, no maintenance interval).
type ProductInput struct {
	Name              *string `json:"name,omitempty"`
	Model             *string `json:"model,omitempty"`
	WarrantyMonths    *int    `json:"warranty_months,omitempty"`
	MaintenanceMonths *int    `json:"maintenance_months,omitempty"`
	Active            *bool   `json:"active,omitempty"`
	Version           *int    `json:"version,omitempty"`
}

// Catalog keeps the product catalog.
type Catalog struct {
	db    *db.DB
	clock clock.Clock
	audit *audit.Log
}

// NewCatalog returns the product catalog store.
func NewCatalog(d *db.DB, c clock.Clock, a *audit.Log) *Catalog {
	return &Catalog{db: d, clock: c, audit: a}
}

func (in *ProductInput) apply(p *Product) error {
	var v domain.ValidationError
	if in.Name != nil {
		p.Name = strings.TrimSpace(*in.Name)
	}
	if in.Model != nil {
		p.Model = strings.TrimSpace(*in.Model)
	}
	if in.WarrantyMonths != nil {
		p.WarrantyMonths = *in.WarrantyMonths
	}
	if in.MaintenanceMonths != nil {
		p.MaintenanceMonths = *in.MaintenanceMonths
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	switch n := utf8.RuneCountInString(p.Name); {
	case n == 0:
		v.Add("name", "validation.required", nil)
	case n > 100:
		v.Add("name", "validation.too_long", map[string]any{"Max": 100})
	}
	if utf8.RuneCountInString(p.Model) > 100 {
		v.Add("model", "validation.too_long", map[string]any{"Max": 100})
	}
	if p.WarrantyMonths < 0 || p.WarrantyMonths > 240 {
		v.Add("warranty_months", "validation.range", map[string]any{"Min": 0, "Max": 240})
	}
	if p.MaintenanceMonths < 0 || p.MaintenanceMonths > 120 {
		v.Add("maintenance_months", "validation.range", map[string]any{"Min": 0, "Max": 120})
	}
	return v.Err()
}

func productChanges(b, a Product) map[string]audit.Change {
	return audit.Diff(
		map[string]any{"name": b.Name, "model": b.Model, "warranty_months": b.WarrantyMonths, "maintenance_months": b.MaintenanceMonths, "active": b.Active},
		map[string]any{"name": a.Name, "model": a.Model, "warranty_months": a.WarrantyMonths, "maintenance_months": a.MaintenanceMonths, "active": a.Active})
}

// Create adds a product to the catalog.
func (c *Catalog) Create(ctx context.Context, in ProductInput) (Product, error) {
	p := Product{WarrantyMonths: 12, Active: true}
	if err := in.apply(&p); err != nil {
		return Product{}, err
	}
	err := c.db.WithTx(ctx, func(ctx context.Context) error {
		now := db.Now(c.clock.Now())
		err := c.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO products (name, model, warranty_months, maintenance_months, active, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, p.Name, p.Model, p.WarrantyMonths, p.MaintenanceMonths, p.Active, now).Scan(&p.ID)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("model", "validation.product_taken", nil)
		}
		if err != nil {
			return err
		}
		return c.audit.Record(ctx, "product.create", "product", fmt.Sprint(p.ID), productChanges(Product{}, p))
	})
	if err != nil {
		return Product{}, fmt.Errorf("create product: %w", err)
	}
	return c.Get(ctx, p.ID)
}

// Update changes a product; a stale version fails with domain.ErrStale.
func (c *Catalog) Update(ctx context.Context, id int64, in ProductInput, version int) (Product, error) {
	err := c.db.WithTx(ctx, func(ctx context.Context) error {
		before, err := c.Get(ctx, id)
		if err != nil {
			return err
		}
		if version != 0 && version != before.Version {
			return fmt.Errorf("product %d: %w", id, domain.ErrStale)
		}
		after := before
		if err := in.apply(&after); err != nil {
			return err
		}
		_, err = c.db.Q(ctx).ExecContext(ctx, `UPDATE products SET name = $1, model = $2, warranty_months = $3, maintenance_months = $4,
			active = $5, version = version + 1, updated_at = $6 WHERE id = $7`,
			after.Name, after.Model, after.WarrantyMonths, after.MaintenanceMonths, after.Active, db.Now(c.clock.Now()), id)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("model", "validation.product_taken", nil)
		}
		if err != nil {
			return err
		}
		return c.audit.Record(ctx, "product.update", "product", fmt.Sprint(id), productChanges(before, after))
	})
	if err != nil {
		return Product{}, fmt.Errorf("update product: %w", err)
	}
	return c.Get(ctx, id)
}

const productColumns = `id, name, model, warranty_months, maintenance_months, active, version, created_at, updated_at`

func scanProduct(sc interface{ Scan(...any) error }) (Product, error) {
	var p Product
	err := sc.Scan(&p.ID, &p.Name, &p.Model, &p.WarrantyMonths, &p.MaintenanceMonths, &p.Active, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p, err
}

// Get returns one product.
func (c *Catalog) Get(ctx context.Context, id int64) (Product, error) {
	p, err := scanProduct(c.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, fmt.Errorf("product %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product: %w", err)
	}
	return p, nil
}

// List returns the catalog by name and model; after is the id cursor of
// the previous page (0 for the first).
func (c *Catalog) List(ctx context.Context, q string, after int64, limit int) ([]Product, error) {
	args := []any{after, limit}
	where := "id > $1"
	if q = strings.TrimSpace(q); q != "" {
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q))+"%")
		where += ` AND (LOWER(name) LIKE $3 ESCAPE '\' OR LOWER(model) LIKE $3 ESCAPE '\')`
	}
	rows, err := c.db.RQ(ctx).QueryContext(ctx, `SELECT `+productColumns+` FROM products WHERE `+where+` ORDER BY id LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	defer rows.Close()
	out := []Product{}
	for rows.Next() {
		p, err := scanProduct(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
