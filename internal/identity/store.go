package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Options tune the store; zero values take the defaults.
type Options struct {
	Hash          HashParams
	SessionIdle   time.Duration // default 12 h
	SessionMaxAge time.Duration // default 7 days
}

// Store is the identity store.
type Store struct {
	db     *db.DB
	clock  clock.Clock
	audit  *audit.Log
	hasher *Hasher
	opts   Options
	// Throttle limits failed sign-ins per account and per address.
	Throttle *Throttle

	touchMu sync.Mutex
	touched map[int64]time.Time // token id → when its last use was last written

	cache principalCache
}

// NewStore returns the identity store.
func NewStore(d *db.DB, c clock.Clock, a *audit.Log, o Options) *Store {
	if o.Hash.Time == 0 {
		o.Hash = DefaultHashParams
	}
	if o.SessionIdle == 0 {
		o.SessionIdle = 12 * time.Hour
	}
	if o.SessionMaxAge == 0 {
		o.SessionMaxAge = 7 * 24 * time.Hour
	}
	return &Store{db: d, clock: c, audit: a, hasher: NewHasher(o.Hash, 2), opts: o,
		Throttle: NewThrottle(c), touched: map[int64]time.Time{}}
}

// User is a staff account.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Locale    string    `json:"locale"`
	Active    bool      `json:"active"`
	Demo      bool      `json:"demo"`
	Roles     []string  `json:"roles"`
	TeamIDs   []int64   `json:"team_ids"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewUser is what creating a user takes.
type NewUser struct {
	Email    string
	Name     string
	Password string
	Locale   string
	Roles    []string
	TeamIDs  []int64
	Demo     bool
}

// Locales Careloop speaks.
var Locales = []string{"zh-CN", "en"}

// NormalizeEmail trims and lower-cases an address.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

func validateUserFields(v *domain.ValidationError, email, name, locale *string) {
	if email != nil {
		*email = NormalizeEmail(*email)
		if *email == "" {
			v.Add("email", "validation.required", nil)
		} else if a, err := mail.ParseAddress(*email); err != nil || a.Address != *email || len(*email) > 254 {
			v.Add("email", "validation.email", nil)
		}
	}
	if name != nil {
		*name = strings.TrimSpace(*name)
		switch n := utf8.RuneCountInString(*name); {
		case n == 0:
			v.Add("name", "validation.required", nil)
		case n > 100:
			v.Add("name", "validation.too_long", map[string]any{"Max": 100})
		}
	}
	if locale != nil && *locale != "" && *locale != "zh-CN" && *locale != "en" {
		v.Add("locale", "validation.one_of", map[string]any{"Values": "zh-CN, en"})
	}
}

// ValidatePassword checks a new password's length.
func ValidatePassword(v *domain.ValidationError, field, pw string) {
	switch n := utf8.RuneCountInString(pw); {
	case n < 10:
		v.Add(field, "validation.password_short", map[string]any{"Min": 10})
	case len(pw) > 256:
		v.Add(field, "validation.too_long", map[string]any{"Max": 256})
	}
}

// CreateUser adds a staff user with roles and teams.
func (s *Store) CreateUser(ctx context.Context, nu NewUser) (User, error) {
	var v domain.ValidationError
	validateUserFields(&v, &nu.Email, &nu.Name, &nu.Locale)
	ValidatePassword(&v, "password", nu.Password)
	if len(nu.Roles) == 0 {
		v.Add("roles", "validation.required", nil)
	}
	if err := s.checkRoles(ctx, &v, nu.Roles); err != nil {
		return User{}, err
	}
	if err := v.Err(); err != nil {
		return User{}, err
	}
	if nu.Locale == "" {
		nu.Locale = "zh-CN"
	}
	hash, err := s.hasher.Hash(ctx, nu.Password)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	var id int64
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		if err := s.checkGrant(ctx, 0, nu.Roles); err != nil {
			return err
		}
		now := db.Now(s.clock.Now())
		err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO users (email, name, password_hash, locale, active, demo, created_at, updated_at)
			VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6) RETURNING id`, nu.Email, nu.Name, hash, nu.Locale, nu.Demo, now).Scan(&id)
		if db.IsUniqueViolation(err) {
			return domain.Invalid("email", "validation.email_taken", nil)
		}
		if err != nil {
			return err
		}
		if err := s.setRoles(ctx, id, nu.Roles); err != nil {
			return err
		}
		if err := s.setTeams(ctx, id, nu.TeamIDs); err != nil {
			return err
		}
		return s.audit.Record(ctx, "user.create", "user", fmt.Sprint(id), map[string]audit.Change{
			"email": {After: nu.Email}, "name": {After: nu.Name}, "roles": {After: nu.Roles}, "team_ids": {After: nu.TeamIDs}})
	})
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return s.GetUser(ctx, id)
}

func (s *Store) setRoles(ctx context.Context, userID int64, roles []string) error {
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, userID); err != nil {
		return err
	}
	for _, r := range roles {
		res, err := q.ExecContext(ctx, `INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE key = $2
			ON CONFLICT DO NOTHING`, userID, r)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists bool
			if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM roles WHERE key = $1)`, r).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return domain.Invalid("roles", "validation.unknown_role", map[string]any{"Value": r})
			}
		}
	}
	return nil
}

func (s *Store) setTeams(ctx context.Context, userID int64, teams []int64) error {
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `DELETE FROM team_members WHERE user_id = $1`, userID); err != nil {
		return err
	}
	for _, t := range teams {
		res, err := q.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id) SELECT id, $1 FROM teams WHERE id = $2
			ON CONFLICT DO NOTHING`, userID, t)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var exists bool
			if err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1)`, t).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				return domain.Invalid("team_ids", "validation.unknown_team", map[string]any{"Value": t})
			}
		}
	}
	return nil
}

const userColumns = `id, email, name, locale, active, demo, version, created_at, updated_at`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.Active, &u.Demo, &u.Version, &u.CreatedAt, &u.UpdatedAt)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, err
}

// GetUser returns a user with roles and teams.
func (s *Store) GetUser(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	if err := s.fillMemberships(ctx, []*User{&u}); err != nil {
		return User{}, err
	}
	return u, nil
}

// GetUserBrief returns a user's own row without roles and teams: what a
// notice needs (name, address, language, active). It is read on the hot path
// of every ticket event, inside the event's transaction, where the two
// membership reads of GetUser cost more than the row itself.
func (s *Store) GetUserBrief(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.HotRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// GetUserByEmail returns the user with that address.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.db.RQ(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = $1`, NormalizeEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", email, domain.ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user: %w", err)
	}
	if err := s.fillMemberships(ctx, []*User{&u}); err != nil {
		return User{}, err
	}
	return u, nil
}

// ListUsers returns every staff user, by name. Staff lists stay small (an SME
// has tens to hundreds of staff), so there is no paging here.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY active DESC, name, id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	ptrs := make([]*User, len(users))
	for i := range users {
		ptrs[i] = &users[i]
	}
	return users, s.fillMemberships(ctx, ptrs)
}

// CountUsers tells how many users exist (zero means first run).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, err
}

// fillMemberships loads roles and teams of users in two queries.
func (s *Store) fillMemberships(ctx context.Context, users []*User) error {
	if len(users) == 0 {
		return nil
	}
	byID := make(map[int64]*User, len(users))
	for _, u := range users {
		u.Roles, u.TeamIDs = []string{}, []int64{}
		byID[u.ID] = u
	}
	q := s.db.RQ(ctx)
	filter, args := "", []any(nil)
	if len(users) == 1 {
		filter, args = " WHERE ur.user_id = $1", []any{users[0].ID}
	}
	rows, err := q.QueryContext(ctx, `SELECT ur.user_id, r.key FROM user_roles ur JOIN roles r ON r.id = ur.role_id`+filter+` ORDER BY r.id`, args...)
	if err != nil {
		return fmt.Errorf("user roles: %w", err)
	}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			rows.Close()
			return err
		}
		if u := byID[id]; u != nil {
			u.Roles = append(u.Roles, key)
		}
	}
	rows.Close()
	if filter != "" {
		filter = " WHERE user_id = $1"
	}
	rows, err = q.QueryContext(ctx, `SELECT user_id, team_id FROM team_members`+filter+` ORDER BY team_id`, args...)
	if err != nil {
		return fmt.Errorf("user teams: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, team int64
		if err := rows.Scan(&id, &team); err != nil {
			return err
		}
		if u := byID[id]; u != nil {
			u.TeamIDs = append(u.TeamIDs, team)
		}
	}
	return rows.Err()
}

// checkRoles reports unknown role keys together with the other field errors.
func (s *Store) checkRoles(ctx context.Context, v *domain.ValidationError, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	roles, err := s.ListRoles(ctx)
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(roles))
	for _, r := range roles {
		known[r.Key] = true
	}
	for _, k := range keys {
		if !known[k] {
			v.Add("roles", "validation.unknown_role", map[string]any{"Value": k})
		}
	}
	return nil
}
