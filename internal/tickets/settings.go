package tickets

import (
	"context"
	"fmt"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/settings"
)

// SettingsKey is where the ticket settings live (internal/settings).
const SettingsKey = "tickets.settings"

// Settings are the administrator's ticket settings.
type Settings struct {
	// AutoCloseDays closes a resolved ticket after this many days without
	// an answer from the customer (0: never; the agent closes it with the
	// customer's confirmation).
	AutoCloseDays int `json:"auto_close_days"`
	// FallbackTeamID takes the tickets no routing rule matches (0: the
	// team created first).
	FallbackTeamID int64 `json:"fallback_team_id"`
}

// DefaultSettings: seven days, as most helpdesks do.
func DefaultSettings() Settings { return Settings{AutoCloseDays: 7} }

// UseSettings gives the store the settings it reads (auto-close, the
// fallback team); without them it uses DefaultSettings.
func (s *Store) UseSettings(st *settings.Store) { s.settings = st }

// Settings returns the ticket settings and their version (0 when never
// saved).
func (s *Store) Settings(ctx context.Context) (Settings, int64, error) {
	v := DefaultSettings()
	if s.settings == nil {
		return v, 0, nil
	}
	e, found, err := s.settings.Entry(ctx, SettingsKey)
	if err != nil || !found {
		return v, 0, err
	}
	if _, err := s.settings.Get(ctx, SettingsKey, &v); err != nil {
		return v, 0, err
	}
	return v, e.Version, nil
}

func (s *Store) currentSettings(ctx context.Context) Settings {
	v := DefaultSettings()
	if s.settings != nil {
		_, _ = s.settings.Get(ctx, SettingsKey, &v)
	}
	return v
}

// SaveSettings checks and stores the ticket settings (audited by the
// settings store); version is the one read, 0 for the first save.
func (s *Store) SaveSettings(ctx context.Context, v Settings, version int64) (int64, error) {
	var ve domain.ValidationError
	if v.AutoCloseDays < 0 || v.AutoCloseDays > 90 {
		ve.Add("auto_close_days", "validation.range", map[string]any{"Min": 0, "Max": 90})
	}
	if v.FallbackTeamID != 0 {
		var one int
		if err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = $1`, v.FallbackTeamID).Scan(&one); err != nil {
			ve.Add("fallback_team_id", "validation.unknown_team", nil)
		}
	}
	if err := ve.Err(); err != nil {
		return 0, err
	}
	if s.settings == nil {
		return 0, fmt.Errorf("ticket settings: no settings store")
	}
	return s.settings.Set(ctx, SettingsKey, v, version)
}
