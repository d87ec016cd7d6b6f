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
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/timeline"
)

// Owned is a product a customer bought.
type Owned struct {
	ID             int64  `json:"id"`
	CustomerID     int64  `json:"customer_id"`
	ProductID      int64  `json:"product_id"`
	ProductName    string `json:"product_name"`
	Model          string `json:"model"`
	Serial         string `json:"serial"`
	PurchaseDate   string `json:"purchase_date"`
	WarrantyEnd    string `json:"warranty_end"`
	InstallAddress string `json:"install_address"`
	InWarranty     bool   `json:"in_warranty"`
}

// OwnedInput records a purchase; WarrantyEnd defaults to the purchase date
// plus the product's warranty months.
type OwnedInput struct {
	ProductID      int64  `json:"product_id"`
	Serial         string `json:"serial"`
	PurchaseDate   string `json:"purchase_date"`
	WarrantyEnd    string `json:"warranty_end,omitempty"`
	InstallAddress string `json:"install_address,omitempty"`
}

// Contract is a service contract with its period and coverage.
type Contract struct {
	ID         int64  `json:"id"`
	CustomerID int64  `json:"customer_id"`
	Number     string `json:"number"`
	StartsOn   string `json:"starts_on"`
	EndsOn     string `json:"ends_on"`
	Coverage   string `json:"coverage"`
	Active     bool   `json:"active"`
}

// Coverage says at a glance what service the customer is entitled to today.
type Coverage struct {
	// State is "contract", "warranty" or "none".
	State string `json:"state"`
	// Until is the last covered day (YYYY-MM-DD) when State is not "none".
	Until string `json:"until,omitempty"`
}

func (s *Store) today() string { return s.clock.Now().In(BusinessZone).Format("2006-01-02") }

// AddOwned records that a customer owns a product.
func (s *Store) AddOwned(ctx context.Context, customerID int64, in OwnedInput) (Owned, error) {
	var v domain.ValidationError
	in.Serial = strings.TrimSpace(in.Serial)
	checkLen(&v, "serial", in.Serial, 100)
	in.InstallAddress = strings.TrimSpace(in.InstallAddress)
	checkLen(&v, "install_address", in.InstallAddress, 300)
	if in.PurchaseDate == "" {
		v.Add("purchase_date", "validation.required", nil)
	}
	today, _ := time.Parse("2006-01-02", s.today())
	checkDate(&v, "purchase_date", in.PurchaseDate, today)
	checkDate(&v, "warranty_end", in.WarrantyEnd, time.Time{})
	if in.ProductID <= 0 {
		v.Add("product_id", "validation.required", nil)
	}
	if err := v.Err(); err != nil {
		return Owned{}, err
	}
	var o Owned
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.get(ctx, customerID); err != nil {
			return err
		}
		var months int
		var name string
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT warranty_months, name FROM products WHERE id = $1`, in.ProductID).Scan(&months, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.Invalid("product_id", "validation.unknown_product", map[string]any{"Value": in.ProductID})
		}
		if err != nil {
			return err
		}
		if in.WarrantyEnd == "" {
			p, _ := time.Parse("2006-01-02", in.PurchaseDate)
			// The last day covered: a 12-month warranty bought on 2024-05-10
			// ends on 2025-05-09.
			in.WarrantyEnd = p.AddDate(0, months, -1).Format("2006-01-02")
			if months == 0 {
				in.WarrantyEnd = in.PurchaseDate
			}
		}
		now := db.Now(s.clock.Now())
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO customer_products (customer_id, product_id, serial, purchase_date, warranty_end,
			install_address, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
			customerID, in.ProductID, in.Serial, in.PurchaseDate, in.WarrantyEnd, in.InstallAddress, now).Scan(&o.ID)
		if err != nil {
			return err
		}
		if err := s.refreshLifecycle(ctx, customerID); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "customer.product_add", "customer", fmt.Sprint(customerID), map[string]audit.Change{
			"product": {After: name}, "serial": {After: in.Serial}}); err != nil {
			return err
		}
		// The purchase shows on the timeline at its purchase date (its
		// business time); the event keeps when it was recorded.
		bought, _ := time.ParseInLocation("2006-01-02", in.PurchaseDate, BusinessZone)
		return s.timeline.Append(ctx, timeline.Event{CustomerID: customerID, At: bought, Kind: "customer.product_added", Key: "timeline.product_added",
			Params: map[string]any{"Product": name, "Serial": in.Serial}, Entity: "customer_product", EntityID: fmt.Sprint(o.ID)})
	})
	if err != nil {
		return Owned{}, fmt.Errorf("add product: %w", err)
	}
	list, err := s.ListOwned(ctx, customerID)
	if err != nil {
		return Owned{}, err
	}
	for _, x := range list {
		if x.ID == o.ID {
			return x, nil
		}
	}
	return Owned{}, fmt.Errorf("owned product %d: %w", o.ID, domain.ErrNotFound)
}

// ListOwned returns a customer's products, newest purchase first.
func (s *Store) ListOwned(ctx context.Context, customerID int64) ([]Owned, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT cp.id, cp.customer_id, cp.product_id, p.name, p.model, cp.serial, cp.purchase_date,
		cp.warranty_end, cp.install_address FROM customer_products cp JOIN products p ON p.id = cp.product_id
		WHERE cp.customer_id = $1 ORDER BY cp.purchase_date DESC, cp.id DESC`, customerID)
	if err != nil {
		return nil, fmt.Errorf("owned products: %w", err)
	}
	defer rows.Close()
	today := s.today()
	out := []Owned{}
	for rows.Next() {
		var o Owned
		if err := rows.Scan(&o.ID, &o.CustomerID, &o.ProductID, &o.ProductName, &o.Model, &o.Serial, &o.PurchaseDate, &o.WarrantyEnd, &o.InstallAddress); err != nil {
			return nil, err
		}
		o.InWarranty = o.WarrantyEnd >= today
		out = append(out, o)
	}
	return out, rows.Err()
}

// AddContract records a service contract.
func (s *Store) AddContract(ctx context.Context, customerID int64, c Contract) (Contract, error) {
	var v domain.ValidationError
	c.Number, c.Coverage = strings.TrimSpace(c.Number), strings.TrimSpace(c.Coverage)
	checkLen(&v, "number", c.Number, 60)
	if utf8.RuneCountInString(c.Coverage) > 500 {
		v.Add("coverage", "validation.too_long", map[string]any{"Max": 500})
	}
	for _, f := range []struct{ field, val string }{{"starts_on", c.StartsOn}, {"ends_on", c.EndsOn}} {
		if f.val == "" {
			v.Add(f.field, "validation.required", nil)
		}
		checkDate(&v, f.field, f.val, time.Time{})
	}
	if c.StartsOn != "" && c.EndsOn != "" && c.EndsOn < c.StartsOn {
		v.Add("ends_on", "validation.end_before_start", nil)
	}
	if err := v.Err(); err != nil {
		return Contract{}, err
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		if _, err := s.get(ctx, customerID); err != nil {
			return err
		}
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO service_contracts (customer_id, number, starts_on, ends_on, coverage, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, customerID, c.Number, c.StartsOn, c.EndsOn, c.Coverage, db.Now(s.clock.Now())).Scan(&c.ID)
		if err != nil {
			return err
		}
		c.CustomerID = customerID
		return s.audit.Record(ctx, "customer.contract_add", "customer", fmt.Sprint(customerID), map[string]audit.Change{
			"contract": {After: c.Number}, "period": {After: c.StartsOn + " – " + c.EndsOn}})
	})
	if err != nil {
		return Contract{}, fmt.Errorf("add contract: %w", err)
	}
	today := s.today()
	c.Active = c.StartsOn <= today && today <= c.EndsOn
	return c, nil
}

// ListContracts returns a customer's service contracts, latest end first.
func (s *Store) ListContracts(ctx context.Context, customerID int64) ([]Contract, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, customer_id, number, starts_on, ends_on, coverage FROM service_contracts
		WHERE customer_id = $1 ORDER BY ends_on DESC, id DESC`, customerID)
	if err != nil {
		return nil, fmt.Errorf("contracts: %w", err)
	}
	defer rows.Close()
	today := s.today()
	out := []Contract{}
	for rows.Next() {
		var c Contract
		if err := rows.Scan(&c.ID, &c.CustomerID, &c.Number, &c.StartsOn, &c.EndsOn, &c.Coverage); err != nil {
			return nil, err
		}
		c.Active = c.StartsOn <= today && today <= c.EndsOn
		out = append(out, c)
	}
	return out, rows.Err()
}

// CoverageOf says whether the customer is under contract, in warranty, or
// neither, today; a contract wins over a warranty.
func CoverageOf(owned []Owned, contracts []Contract) Coverage {
	best := Coverage{State: "none"}
	for _, c := range contracts {
		if c.Active && (best.State != "contract" || c.EndsOn > best.Until) {
			best = Coverage{State: "contract", Until: c.EndsOn}
		}
	}
	if best.State == "contract" {
		return best
	}
	for _, o := range owned {
		if o.InWarranty && o.WarrantyEnd > best.Until {
			best = Coverage{State: "warranty", Until: o.WarrantyEnd}
		}
	}
	return best
}
