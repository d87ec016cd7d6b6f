package portal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/tickets"
)

// Options tune the portal; zero values take the defaults.
type Options struct {
	// BaseURL makes the links in mails and text messages absolute
	// (--base-url; without it, the server's own address).
	BaseURL string
	// LinkTTL is how long a sign-in link works (15 minutes).
	LinkTTL time.Duration
	// FollowTTL is how long the link of a web-form confirmation works (3
	// days: it is read later than a sign-in link asked for just now).
	FollowTTL time.Duration
	// CodeTTL is how long an SMS code works (10 minutes).
	CodeTTL time.Duration
	// SessionMaxAge and SessionIdle bound a portal session (30 days, 7
	// days without use).
	SessionMaxAge time.Duration
	SessionIdle   time.Duration
}

func (o *Options) defaults() {
	if o.LinkTTL <= 0 {
		o.LinkTTL = 15 * time.Minute
	}
	if o.FollowTTL <= 0 {
		o.FollowTTL = 72 * time.Hour
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = 10 * time.Minute
	}
	if o.SessionMaxAge <= 0 {
		o.SessionMaxAge = 30 * 24 * time.Hour
	}
	if o.SessionIdle <= 0 {
		o.SessionIdle = 7 * 24 * time.Hour
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
}

// Store is the portal's store.
type Store struct {
	db        *db.DB
	clock     clock.Clock
	audit     *audit.Log
	outbox    *notify.Outbox
	tickets   *tickets.Store
	customers *customers.Store
	cat       *i18n.Catalog
	opts      Options

	// Limits, in the process (like the staff sign-in throttle): sign-in
	// links and SMS codes asked for, wrong codes, web-form requests; each
	// per address (email or phone) and per client address.
	LinkLimit   *identity.Throttle
	CodeLimit   *identity.Throttle
	VerifyLimit *identity.Throttle
	FormLimit   *identity.Throttle

	touchMu sync.Mutex
	touched map[int64]time.Time // token id → when its last use was written
}

// Deps are what the store is built from.
type Deps struct {
	DB        *db.DB
	Clock     clock.Clock
	Audit     *audit.Log
	Outbox    *notify.Outbox
	Tickets   *tickets.Store
	Customers *customers.Store
	Catalog   *i18n.Catalog
}

// NewStore returns the portal store.
func NewStore(d Deps, o Options) *Store {
	o.defaults()
	limit := func(window time.Duration, perAddress, perIP int) *identity.Throttle {
		t := identity.NewThrottle(d.Clock)
		t.Window, t.PerAccount, t.PerIP = window, perAddress, perIP
		return t
	}
	return &Store{db: d.DB, clock: d.Clock, audit: d.Audit, outbox: d.Outbox, tickets: d.Tickets, customers: d.Customers,
		cat: d.Catalog, opts: o, touched: map[int64]time.Time{},
		LinkLimit:   limit(15*time.Minute, 5, 30),
		CodeLimit:   limit(15*time.Minute, 3, 20),
		VerifyLimit: limit(15*time.Minute, 10, 50),
		FormLimit:   limit(time.Hour, 5, 20),
	}
}

// Account is a customer's way into the portal.
type Account struct {
	ID           int64      `json:"id"`
	CustomerID   int64      `json:"customer_id"`
	CustomerName string     `json:"customer_name"`
	Email        string     `json:"email"`
	Phone        string     `json:"phone"`
	Locale       string     `json:"locale"`
	CreatedAt    time.Time  `json:"created_at"`
	LastSignIn   *time.Time `json:"last_sign_in_at"`
}

// Label names the account in the audit trail and on the page: its address,
// else its phone masked.
func (a Account) Label() string {
	if a.Email != "" {
		return a.Email
	}
	return customers.MaskPhone(a.Phone)
}

// Principal is the account's portal principal.
func (a Account) Principal() *identity.Principal {
	return identity.NewPortalPrincipal(a.ID, a.CustomerID, a.Label(), a.CustomerName, a.Locale)
}

// accountSQL reads an account with its customer's name, only while the
// customer is live (not merged away, not erased).
const accountSQL = `SELECT a.id, a.customer_id, c.name, a.email, a.phone, a.locale, a.created_at, a.last_sign_in_at
	FROM portal_accounts a JOIN customers c ON c.id = a.customer_id AND c.merged_into IS NULL AND c.erased_at IS NULL `

func scanAccount(sc interface{ Scan(...any) error }) (Account, error) {
	var a Account
	var last sql.NullTime
	err := sc.Scan(&a.ID, &a.CustomerID, &a.CustomerName, &a.Email, &a.Phone, &a.Locale, &a.CreatedAt, &last)
	if last.Valid {
		t := last.Time.UTC()
		a.LastSignIn = &t
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

func (s *Store) account(ctx context.Context, cond string, arg any) (Account, error) {
	a, err := scanAccount(s.db.RQ(ctx).QueryRowContext(ctx, accountSQL+`WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fmt.Errorf("portal account: %w", domain.ErrNotFound)
	}
	if err != nil {
		return Account{}, fmt.Errorf("portal account: %w", err)
	}
	return a, nil
}

// Account returns portal account id.
func (s *Store) Account(ctx context.Context, id int64) (Account, error) {
	return s.account(ctx, `a.id = $1`, id)
}

// AccountByEmail returns the account of an address.
func (s *Store) AccountByEmail(ctx context.Context, email string) (Account, error) {
	return s.account(ctx, `a.email = $1`, identity.NormalizeEmail(email))
}

// live is the condition of a customer who can have a portal account.
const live = `c.merged_into IS NULL AND c.erased_at IS NULL`

// CustomerByEmail finds the customer an address belongs to: the customer's
// own address, else a contact's; the oldest live customer when several
// share it (a duplicate allowed by staff). 0 when none.
func (s *Store) CustomerByEmail(ctx context.Context, email string) (int64, error) {
	email = identity.NormalizeEmail(email)
	if email == "" {
		return 0, nil
	}
	q := s.db.RQ(ctx)
	var id int64
	err := q.QueryRowContext(ctx, `SELECT c.id FROM customers c WHERE c.email = $1 AND `+live+` ORDER BY c.id LIMIT 1`, email).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRowContext(ctx, `SELECT c.id FROM customer_contacts ct JOIN customers c ON c.id = ct.customer_id
			WHERE ct.email = $1 AND `+live+` ORDER BY c.id LIMIT 1`, email).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// CustomerByPhone finds the customer of a phone (canonical form, as
// customers.ParsePhone writes it): the oldest live one. 0 when none.
func (s *Store) CustomerByPhone(ctx context.Context, phone string) (int64, error) {
	var id int64
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT c.id FROM customer_phones p JOIN customers c ON c.id = p.customer_id
		WHERE p.phone = $1 AND `+live+` ORDER BY c.id LIMIT 1`, phone).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// EnsureEmailAccount returns the account of an address, making one for the
// customer the address belongs to when there is none yet; ErrNotFound when
// no customer has it. It runs in ctx's transaction or its own.
func (s *Store) EnsureEmailAccount(ctx context.Context, email string) (Account, error) {
	email = identity.NormalizeEmail(email)
	return s.ensureAccount(ctx, "email", email, s.CustomerByEmail)
}

// EnsurePhoneAccount is EnsureEmailAccount for a phone (canonical form).
func (s *Store) EnsurePhoneAccount(ctx context.Context, phone string) (Account, error) {
	return s.ensureAccount(ctx, "phone", phone, s.CustomerByPhone)
}

func (s *Store) ensureAccount(ctx context.Context, column, value string, find func(context.Context, string) (int64, error)) (Account, error) {
	if value == "" {
		return Account{}, fmt.Errorf("portal account: %w", domain.ErrNotFound)
	}
	var a Account
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if a, err = s.account(ctx, `a.`+column+` = $1`, value); err == nil || !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		cid, err := find(ctx, value)
		if err != nil || cid == 0 {
			if err == nil {
				err = fmt.Errorf("portal account: %w", domain.ErrNotFound)
			}
			return err
		}
		var id int64
		err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO portal_accounts (customer_id, `+column+`, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING RETURNING id`, cid, value, db.Now(s.clock.Now())).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			// Made by a request alongside.
			a, err = s.account(ctx, `a.`+column+` = $1`, value)
			return err
		}
		if err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "portal.account_create", "portal_account", fmt.Sprint(id), map[string]audit.Change{
			"customer_id": {After: cid}, column: {After: maskedFor(column, value)}}); err != nil {
			return err
		}
		a, err = s.account(ctx, `a.id = $1`, id)
		return err
	})
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

// maskedFor keeps phones out of the audit trail in full.
func maskedFor(column, value string) string {
	if column == "phone" {
		return customers.MaskPhone(value)
	}
	return value
}

// SetLocale remembers the language an account chose.
func (s *Store) SetLocale(ctx context.Context, accountID int64, locale string) error {
	if i18n.Normalize(locale) == "" {
		return domain.Invalid("lang", "validation.one_of", map[string]any{"Values": "zh-CN, en"})
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE portal_accounts SET locale = $1 WHERE id = $2`, i18n.Normalize(locale), accountID)
	return err
}

// link makes path absolute for a mail.
func (s *Store) link(path string) string { return s.opts.BaseURL + path }
