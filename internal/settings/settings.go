package settings

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// DefaultTTL is how long a server trusts a value it read.
const DefaultTTL = 5 * time.Second

// MaxValueBytes bounds a setting's JSON value.
const MaxValueBytes = 64 << 10

// Catalog keys of the validation errors (fields "key" and "value").
const (
	KeyBadKey     = "settings.bad_key"
	KeyBadValue   = "settings.bad_value"
	KeyValueLarge = "settings.value_too_large"
)

// Entry is a stored setting.
type Entry struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updated_at"`
	UpdatedBy int64           `json:"updated_by,omitempty"` // 0: the system
}

// Store reads and writes settings.
type Store struct {
	db    *db.DB
	clock clock.Clock
	audit *audit.Log
	ttl   time.Duration

	mu    sync.RWMutex
	cache map[string]cached
}

type cached struct {
	value   []byte // nil when the key is absent
	expires time.Time
}

// New returns a store over d caching values for DefaultTTL.
func New(d *db.DB, c clock.Clock, a *audit.Log) *Store {
	return &Store{db: d, clock: c, audit: a, ttl: DefaultTTL, cache: map[string]cached{}}
}

// SetTTL changes how long values are cached (0 turns the cache off). Call it
// before the store is shared.
func (s *Store) SetTTL(d time.Duration) { s.ttl = d }

// Get decodes the value of key into dst and reports whether it is stored;
// when it is not, dst is left as it was, so the caller fills dst with its
// defaults first. The stored JSON is decoded over dst: fields absent from
// it keep their defaults.
func (s *Store) Get(ctx context.Context, key string, dst any) (bool, error) {
	raw, err := s.raw(ctx, key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return false, fmt.Errorf("settings: decode %s: %w", key, err)
	}
	return true, nil
}

func (s *Store) raw(ctx context.Context, key string) ([]byte, error) {
	if db.InTx(ctx) || s.ttl <= 0 {
		e, found, err := s.Entry(ctx, key)
		if err != nil || !found {
			return nil, err
		}
		return e.Value, nil
	}
	now := s.clock.Now()
	s.mu.RLock()
	c, ok := s.cache[key]
	s.mu.RUnlock()
	if ok && now.Before(c.expires) {
		return c.value, nil
	}
	e, found, err := s.Entry(ctx, key)
	if err != nil {
		return nil, err
	}
	var v []byte
	if found {
		v = e.Value
	}
	s.mu.Lock()
	s.cache[key] = cached{value: v, expires: now.Add(s.ttl)}
	s.mu.Unlock()
	return v, nil
}

// Entry reads key from the database (never the cache), with its version
// for an edit form.
func (s *Store) Entry(ctx context.Context, key string) (Entry, bool, error) {
	e := Entry{Key: key}
	var value string
	var by sql.NullInt64
	err := s.db.RQ(ctx).QueryRowContext(ctx,
		`SELECT value, version, updated_at, updated_by FROM settings WHERE key = $1`, key).
		Scan(&value, &e.Version, &e.UpdatedAt, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("settings: read %s: %w", key, err)
	}
	e.Value, e.UpdatedAt, e.UpdatedBy = json.RawMessage(value), e.UpdatedAt.UTC(), by.Int64
	return e, true, nil
}

// Set stores value (encoded as JSON) under key and returns the new version.
// version is the one the caller read (0 for a key not stored yet); another
// version is domain.ErrStale.
func (s *Store) Set(ctx context.Context, key string, value any, version int64) (int64, error) {
	if !validKey(key) {
		return 0, fmt.Errorf("settings: set: %w", domain.Invalid("key", KeyBadKey, map[string]any{"Max": maxKeyLen}))
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return 0, fmt.Errorf("settings: set %s: %w", key, domain.Invalid("value", KeyBadValue, nil))
	}
	if len(raw) > MaxValueBytes {
		return 0, fmt.Errorf("settings: set %s: %w", key, domain.Invalid("value", KeyValueLarge, map[string]any{"MaxKB": MaxValueBytes >> 10}))
	}
	actor := audit.ActorFrom(ctx)
	var by any
	if actor.UserID != 0 {
		by = actor.UserID
	}
	now := db.Now(s.clock.Now())
	var next int64
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		before, found, err := s.Entry(ctx, key)
		if err != nil {
			return err
		}
		if (!found && version != 0) || (found && before.Version != version) {
			return fmt.Errorf("settings: set %s: version %d: %w", key, version, domain.ErrStale)
		}
		if !found {
			_, err = s.db.Q(ctx).ExecContext(ctx, `INSERT INTO settings (key, value, version, updated_at, updated_by)
				VALUES ($1, $2, 1, $3, $4)`, key, string(raw), now, by)
			if db.IsUniqueViolation(err) {
				return fmt.Errorf("settings: set %s: %w", key, domain.ErrStale)
			}
			next = 1
		} else {
			var res sql.Result
			res, err = s.db.Q(ctx).ExecContext(ctx, `UPDATE settings SET value = $1, version = version + 1, updated_at = $2, updated_by = $3
				WHERE key = $4 AND version = $5`, string(raw), now, by, key, version)
			if err == nil {
				if n, _ := res.RowsAffected(); n != 1 {
					return fmt.Errorf("settings: set %s: %w", key, domain.ErrStale)
				}
			}
			next = version + 1
		}
		if err != nil {
			return fmt.Errorf("settings: set %s: %w", key, err)
		}
		var old any
		if found {
			old = before.Value
		}
		return s.audit.Record(ctx, "setting.update", "setting", key, map[string]audit.Change{
			"value":   {Before: old, After: json.RawMessage(raw)},
			"version": {Before: version, After: next},
		})
	})
	s.Forget(key)
	if err != nil {
		return 0, err
	}
	return next, nil
}

// Forget drops this server's cached value of key.
func (s *Store) Forget(key string) {
	s.mu.Lock()
	delete(s.cache, key)
	s.mu.Unlock()
}

const maxKeyLen = 100

func validKey(k string) bool {
	if k == "" || len(k) > maxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
