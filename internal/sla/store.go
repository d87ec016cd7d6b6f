package sla

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// TwentyFourSevenName is the name of the shipped 24×7 calendar.
const TwentyFourSevenName = "24x7"

// MaxStoredNameLength is the longest name the Store accepts for a calendar
// (it appears in URLs and on the command line).
const MaxStoredNameLength = 60

// CacheTTL is how long the Store trusts a compiled calendar without looking
// at the database. A process sees its own changes at once; changes made by
// another process (a second server on the same PostgreSQL, or the CLI while
// serve runs) are seen within CacheTTL: after it, one cheap
// "SELECT version" re-checks the calendar and it is rebuilt only when the
// version changed.
const CacheTTL = 5 * time.Second

// ErrDeleteDefault: the default calendar cannot be deleted (tickets fall back
// on it). It wraps domain.ErrConflict.
var ErrDeleteDefault = fmt.Errorf("the default calendar cannot be deleted: %w", domain.ErrConflict)

// ErrCalendarInUse: a calendar that an SLA policy runs on cannot be deleted
// (move the policies to another calendar first). It wraps
// domain.ErrConflict.
var ErrCalendarInUse = fmt.Errorf("the calendar is used by SLA policies: %w", domain.ErrConflict)

// Store keeps business calendars in the database (table calendars: the
// definition as JSON text, its import labels and a version) and caches
// their compiled form. It is safe for concurrent use.
type Store struct {
	db    *db.DB
	clock clock.Clock
	audit *audit.Log
	ttl   time.Duration

	mu    sync.RWMutex
	cache map[string]*cached
	gen   uint64 // bumped by every invalidation, so a slow load cannot put back an old version
}

// cached is a compiled calendar and what is derived from it once.
type cached struct {
	cal     *Calendar
	version int
	years   map[int]bool // years with at least one day off
	checked atomic.Int64 // clock time (Unix ns) of the last look at the database
}

// NewStore returns a Store over d; changes are audited in log.
func NewStore(d *db.DB, c clock.Clock, log *audit.Log) *Store {
	return &Store{db: d, clock: c, audit: log, ttl: CacheTTL, cache: map[string]*cached{}}
}

// Record is a stored calendar. Its Definition's exceptions carry the labels
// of imports (Exception.Name).
type Record struct {
	Definition Definition
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Summary describes a calendar in a list.
type Summary struct {
	Name         string    `json:"name"`
	TimeZone     string    `json:"time_zone"`
	Exceptions   int       `json:"exceptions"`
	HolidayYears []int     `json:"holiday_years"`
	Version      int       `json:"version"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ValidateName checks a calendar name for the Store: 1–60 letters, digits,
// '-' or '_'.
func ValidateName(name string) error {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return domain.Invalid("name", "calendar.name.required", nil)
	}
	if n > MaxStoredNameLength {
		return domain.Invalid("name", "calendar.name.too_long", map[string]any{"Max": MaxStoredNameLength})
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return domain.Invalid("name", "calendar.name.invalid", map[string]any{"Max": MaxStoredNameLength})
		}
	}
	return nil
}

// AsDomainError turns the engine's *ValidationError into a
// *domain.ValidationError whose keys are the engine's stable codes; other
// errors pass unchanged.
func AsDomainError(err error) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &domain.ValidationError{}
	for _, f := range ve.Fields {
		field := f.Field
		if field == "" {
			field = "body"
		}
		out.Add(field, f.Code, nil)
	}
	return out
}

// EnsureBuiltins seeds the shipped calendars on first start: "default"
// (Asia/Shanghai, Monday–Friday 09:00–12:00 and 13:30–18:00, the built-in
// Chinese holidays) and "24x7". It does nothing once any calendar exists, so
// it never overwrites an administrator's edits and a deleted 24x7 stays
// deleted.
func (s *Store) EnsureBuiltins(ctx context.Context) error {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var n int
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM calendars`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		for _, def := range []Definition{DefaultDefinition(), TwentyFourSevenDefinition(TwentyFourSevenName, DefaultTimeZone)} {
			if err := s.insert(ctx, def, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed calendars: %w", err)
	}
	return nil
}

// insert writes a new calendar and audits it; seed ignores a name taken
// meanwhile by another server seeding at the same time.
func (s *Store) insert(ctx context.Context, def Definition, seed bool) error {
	body, labels := EncodeDefinition(def), encodeLabels(def)
	now := db.Now(s.clock.Now())
	// timers_version = version: no timer runs on a new calendar yet, so the
	// sweep has nothing to recompute (see PolicyStore.insert).
	q := `INSERT INTO calendars (name, time_zone, definition, labels, created_at, updated_at, timers_version) VALUES ($1, $2, $3, $4, $5, $5, 1)`
	if seed {
		q += ` ON CONFLICT (name) DO NOTHING`
	}
	_, err := s.db.Q(ctx).ExecContext(ctx, q, def.Name, def.zone(), string(body), labels, now)
	if db.IsUniqueViolation(err) {
		return domain.Invalid("name", "calendar.name.taken", nil)
	}
	if err != nil {
		return err
	}
	return s.audit.Record(ctx, "calendar.create", "calendar", def.Name, map[string]audit.Change{
		"time_zone":  {After: def.zone()},
		"hours":      {After: hoursText(def.Hours)},
		"exceptions": {After: len(def.Exceptions)},
	})
}

// Create stores a new calendar.
func (s *Store) Create(ctx context.Context, def Definition) (Record, error) {
	if err := ValidateName(def.Name); err != nil {
		return Record{}, err
	}
	if err := def.Validate(); err != nil {
		return Record{}, AsDomainError(err)
	}
	def.TimeZone = def.zone()
	err := s.db.WithTx(ctx, func(ctx context.Context) error { return s.insert(ctx, def, false) })
	if err != nil {
		return Record{}, fmt.Errorf("create calendar %q: %w", def.Name, err)
	}
	s.invalidate(def.Name)
	return s.Get(ctx, def.Name)
}

// Get reads one calendar; a missing one is domain.ErrNotFound.
func (s *Store) Get(ctx context.Context, name string) (Record, error) {
	var body, labels string
	var r Record
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT definition, labels, version, created_at, updated_at FROM calendars WHERE name = $1`, name).
		Scan(&body, &labels, &r.Version, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, fmt.Errorf("calendar %q: %w", name, domain.ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("get calendar %q: %w", name, err)
	}
	r.Definition, err = decodeStored(body, labels)
	if err != nil {
		return Record{}, fmt.Errorf("calendar %q: stored definition: %w", name, err)
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

// List returns every calendar, default first, then by name.
func (s *Store) List(ctx context.Context) ([]Summary, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT name, definition, version, updated_at FROM calendars ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var sm Summary
		var body string
		if err := rows.Scan(&sm.Name, &body, &sm.Version, &sm.UpdatedAt); err != nil {
			return nil, fmt.Errorf("list calendars: %w", err)
		}
		def, err := decodeStored(body, "{}")
		if err != nil {
			return nil, fmt.Errorf("calendar %q: stored definition: %w", sm.Name, err)
		}
		sm.TimeZone, sm.Exceptions, sm.UpdatedAt = def.zone(), len(def.Exceptions), sm.UpdatedAt.UTC()
		sm.HolidayYears = sortedYears(holidayYears(def.Exceptions))
		out = append(out, sm)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	slices.SortStableFunc(out, func(a, b Summary) int {
		if (a.Name == DefaultName) != (b.Name == DefaultName) {
			if a.Name == DefaultName {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// Update replaces the definition of calendar name. version is the version
// the caller read (0: do not check); a different one is domain.ErrStale.
// The name cannot change. Labels of dates still listed are kept unless def
// brings its own.
func (s *Store) Update(ctx context.Context, name string, def Definition, version int) (Record, error) {
	if def.Name != name {
		return Record{}, domain.Invalid("name", "calendar.name.rename", map[string]any{"Name": name})
	}
	if err := def.Validate(); err != nil {
		return Record{}, AsDomainError(err)
	}
	def = def.Clone()
	def.TimeZone = def.zone()
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.Get(ctx, name)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return fmt.Errorf("calendar %q version %d, not %d: %w", name, cur.Version, version, domain.ErrStale)
		}
		keepLabels(&def, cur.Definition)
		if err := s.write(ctx, cur, def); err != nil {
			return err
		}
		changes := map[string]audit.Change{}
		if cur.Definition.zone() != def.zone() {
			changes["time_zone"] = audit.Change{Before: cur.Definition.zone(), After: def.zone()}
		}
		if b, a := hoursText(cur.Definition.Hours), hoursText(def.Hours); b != a {
			changes["hours"] = audit.Change{Before: b, After: a}
		}
		if d := DiffExceptions(cur.Definition.Exceptions, def.Exceptions); !d.Empty() {
			changes["exceptions"] = audit.Change{After: diffDates(d)}
		}
		return s.audit.Record(ctx, "calendar.update", "calendar", name, changes)
	})
	if err != nil {
		return Record{}, fmt.Errorf("update calendar %q: %w", name, err)
	}
	s.invalidate(name)
	return s.Get(ctx, name)
}

// write stores def over cur inside the caller's transaction, guarded by
// cur's version so that a concurrent writer on PostgreSQL cannot be lost.
func (s *Store) write(ctx context.Context, cur Record, def Definition) error {
	res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE calendars SET time_zone = $1, definition = $2, labels = $3,
		version = version + 1, updated_at = $4 WHERE name = $5 AND version = $6`,
		def.zone(), string(EncodeDefinition(def)), encodeLabels(def), db.Now(s.clock.Now()), def.Name, cur.Version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("calendar %q changed meanwhile: %w", def.Name, domain.ErrStale)
	}
	return nil
}

// Delete removes a calendar (version 0: do not check). The default calendar
// is refused with ErrDeleteDefault, one an SLA policy runs on with
// ErrCalendarInUse.
func (s *Store) Delete(ctx context.Context, name string, version int) error {
	if name == DefaultName {
		return ErrDeleteDefault
	}
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		cur, err := s.Get(ctx, name)
		if err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return fmt.Errorf("calendar %q: %w", name, domain.ErrStale)
		}
		var used int
		if err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_policies WHERE calendar = $1`, name).Scan(&used); err != nil {
			return err
		}
		if used > 0 {
			return fmt.Errorf("calendar %q is the calendar of %d SLA policies: %w", name, used, ErrCalendarInUse)
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `DELETE FROM calendars WHERE name = $1`, name); err != nil {
			return err
		}
		return s.audit.Record(ctx, "calendar.delete", "calendar", name, map[string]audit.Change{
			"time_zone":  {Before: cur.Definition.zone()},
			"exceptions": {Before: len(cur.Definition.Exceptions)},
		})
	})
	if err != nil {
		return fmt.Errorf("delete calendar %q: %w", name, err)
	}
	s.invalidate(name)
	return nil
}

// Calendar returns the compiled calendar called name, from the cache when
// it was checked within CacheTTL (see there); a missing one is
// domain.ErrNotFound.
func (s *Store) Calendar(ctx context.Context, name string) (*Calendar, error) {
	e, err := s.entry(ctx, name)
	if err != nil {
		return nil, err
	}
	return e.cal, nil
}

func (s *Store) entry(ctx context.Context, name string) (*cached, error) {
	now := s.clock.Now().UnixNano()
	s.mu.RLock()
	e, gen := s.cache[name], s.gen
	s.mu.RUnlock()
	if e != nil {
		if age := now - e.checked.Load(); age >= 0 && age < int64(s.ttl) {
			return e, nil
		}
		var v int
		err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT version FROM calendars WHERE name = $1`, name).Scan(&v)
		if err == nil && v == e.version {
			e.checked.Store(now)
			return e, nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("calendar %q: %w", name, err)
		}
	}
	rec, err := s.Get(ctx, name)
	if errors.Is(err, domain.ErrNotFound) {
		s.invalidate(name)
	}
	if err != nil {
		return nil, err
	}
	cal, err := New(rec.Definition)
	if err != nil {
		return nil, fmt.Errorf("calendar %q: stored definition: %w", name, err)
	}
	e = &cached{cal: cal, version: rec.Version, years: holidayYears(rec.Definition.Exceptions)}
	e.checked.Store(now)
	s.mu.Lock()
	if s.gen == gen {
		s.cache[name] = e
	}
	s.mu.Unlock()
	return e, nil
}

// invalidate forgets every cached calendar called name.
func (s *Store) invalidate(name string) {
	s.mu.Lock()
	delete(s.cache, name)
	s.gen++
	s.mu.Unlock()
}

// MissingHolidayYear returns the year whose statutory holidays the default
// calendar lacks and should be loaded now, or 0: the current year (in the
// calendar's zone) when it has no day off at all, else from 1 November the
// next year (the State Council usually publishes its notice in November).
func (s *Store) MissingHolidayYear(ctx context.Context) (int, error) {
	e, err := s.entry(ctx, DefaultName)
	if errors.Is(err, domain.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := s.clock.Now().In(e.cal.Location())
	y := now.Year()
	switch {
	case !e.years[y]:
		return y, nil
	case now.Month() >= time.November && !e.years[y+1]:
		return y + 1, nil
	}
	return 0, nil
}

// holidayYears lists the years in which ex has a day off.
func holidayYears(ex []Exception) map[int]bool {
	out := map[int]bool{}
	for _, e := range ex {
		if e.Off {
			out[e.Date.Year] = true
		}
	}
	return out
}

func sortedYears(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for y := range m {
		out = append(out, y)
	}
	slices.Sort(out)
	return out
}

// keepLabels gives def's exceptions without a name the label the same date
// had in prev.
func keepLabels(def *Definition, prev Definition) {
	labels := make(map[Date]string, len(prev.Exceptions))
	for _, e := range prev.Exceptions {
		if e.Name != "" {
			labels[e.Date] = e.Name
		}
	}
	for i, e := range def.Exceptions {
		if e.Name == "" {
			def.Exceptions[i].Name = labels[e.Date]
		}
	}
}

// hoursText renders a week for the audit trail: "mon 09:00–12:00 13:30–18:00; …".
func hoursText(w WeekHours) string {
	var parts []string
	for _, wd := range jsonWeekOrder {
		if len(w[wd]) == 0 {
			continue
		}
		p := weekdayKeys[wd]
		for _, iv := range w[wd] {
			p += " " + iv.String()
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// diffDates lists the dates of a diff for the audit trail.
func diffDates(d ExceptionDiff) map[string][]string {
	out := map[string][]string{}
	for _, e := range d.Added {
		out["added"] = append(out["added"], e.Date.String())
	}
	for _, c := range d.Changed {
		out["changed"] = append(out["changed"], c.Date.String())
	}
	for _, e := range d.Removed {
		out["removed"] = append(out["removed"], e.Date.String())
	}
	return out
}

// encodeLabels stores the exception names as {"2025-01-28": "春节"}.
func encodeLabels(def Definition) string {
	m := map[string]string{}
	for _, e := range def.Exceptions {
		if e.Name != "" {
			m[e.Date.String()] = e.Name
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}
