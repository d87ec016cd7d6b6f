package surveys

import (
	"context"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/domain"
)

// SettingsKey is where the survey settings live (internal/settings).
const SettingsKey = "surveys.settings"

// MaxDelay is the latest a survey goes out after the resolution: the
// promise is "within 24 hours".
const MaxDelay = 24 * time.Hour

// MaxComment is the longest comment a customer may leave, in characters.
const MaxComment = 2000

// Settings are the administrator's survey settings.
type Settings struct {
	// Enabled plans a survey for every resolved ticket.
	Enabled bool `json:"enabled"`
	// DelayMinutes after the resolution the survey is sent (0 … 1440).
	DelayMinutes int `json:"delay_minutes"`
	// SuppressDays: at most one survey per customer in this many days
	// (0: no limit).
	SuppressDays int `json:"suppress_days"`
	// ExpiryDays: how long the link can be answered.
	ExpiryDays int `json:"expiry_days"`
	// AskNPS adds the 0–10 recommendation question.
	AskNPS bool `json:"ask_nps"`
	// UnhappyAt: a CSAT at or below it opens a follow-up (1 … 5; 0: never).
	UnhappyAt int `json:"unhappy_at"`
	// FollowUpHours: when the follow-up is due after the answer.
	FollowUpHours int `json:"follow_up_hours"`
}

// DefaultSettings: two hours after the resolution, one survey a month per
// customer, links for 14 days, NPS asked, 3 and below followed up within a
// day.
func DefaultSettings() Settings {
	return Settings{Enabled: true, DelayMinutes: 120, SuppressDays: 30, ExpiryDays: 14, AskNPS: true, UnhappyAt: 3, FollowUpHours: 24}
}

// Delay is the wait after the resolution.
func (s Settings) Delay() time.Duration { return time.Duration(s.DelayMinutes) * time.Minute }

// Check names every field out of range.
func (s Settings) Check() error {
	var ve domain.ValidationError
	rng := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			ve.Add(field, "validation.range", map[string]any{"Min": lo, "Max": hi})
		}
	}
	rng("delay_minutes", s.DelayMinutes, 0, int(MaxDelay/time.Minute))
	rng("suppress_days", s.SuppressDays, 0, 365)
	rng("expiry_days", s.ExpiryDays, 1, 90)
	rng("unhappy_at", s.UnhappyAt, 0, 5)
	rng("follow_up_hours", s.FollowUpHours, 1, 24*14)
	return ve.Err()
}

// Settings returns the survey settings and their version (0 when never
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

// current is the settings in force (the defaults when they cannot be read:
// a survey is never lost to a settings read).
func (s *Store) current(ctx context.Context) Settings {
	v := DefaultSettings()
	if s.settings != nil {
		_, _ = s.settings.Get(ctx, SettingsKey, &v)
	}
	return v
}

// SaveSettings checks and stores the settings (audited by the settings
// store); version is the one read, 0 for the first save.
func (s *Store) SaveSettings(ctx context.Context, v Settings, version int64) (int64, error) {
	if err := v.Check(); err != nil {
		return 0, err
	}
	if s.settings == nil {
		return 0, fmt.Errorf("survey settings: no settings store")
	}
	return s.settings.Set(ctx, SettingsKey, v, version)
}
