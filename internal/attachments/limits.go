package attachments

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
)

// SettingKey is the internal/settings key of the Limits.
const SettingKey = "attachments.limits"

// Bounds of what an administrator may set.
const (
	DefaultMaxFileBytes = 50 << 20
	DefaultMaxFiles     = 10
	MaxFileBytesCeiling = 1 << 30 // 1 GB
	MinFileBytes        = 1 << 10
	MaxFilesCeiling     = 50
	// formOverhead is what a multipart body may carry besides the files:
	// part headers and the text fields of the form.
	formOverhead      = 1 << 20
	partOverheadBytes = 16 << 10
)

// Limits are what uploads may be, set by an administrator (SettingKey).
type Limits struct {
	// MaxFileBytes is the largest file accepted.
	MaxFileBytes int64 `json:"max_file_bytes"`
	// AllowedTypes are the content types accepted, among KnownTypes.
	AllowedTypes []string `json:"allowed_types"`
	// MaxFiles is how many live attachments one record (a message) may
	// have.
	MaxFiles int `json:"max_files"`
}

// DefaultLimits are the limits until an administrator sets others: 50 MB,
// 10 files, images, PDF, text, CSV, Office documents, zip and common audio
// and video.
func DefaultLimits() Limits {
	types := make([]string, 0, len(kinds))
	for _, k := range kinds {
		if k.name != "heic" && k.name != "ppt" {
			types = append(types, k.mime)
		}
	}
	return Limits{MaxFileBytes: DefaultMaxFileBytes, AllowedTypes: types, MaxFiles: DefaultMaxFiles}
}

// Allows tells whether content type mime is allowed.
func (l Limits) Allows(mime string) bool { return slices.Contains(l.AllowedTypes, mime) }

// MaxBodyBytes is the largest multipart body an upload of MaxFiles files
// may need, for refusing a larger Content-Length before reading it.
func (l Limits) MaxBodyBytes() int64 {
	return int64(l.MaxFiles)*(l.MaxFileBytes+partOverheadBytes) + formOverhead
}

// TypeInfo describes a type an administrator may allow.
type TypeInfo struct {
	MIME       string   `json:"mime"`
	Extensions []string `json:"extensions"`
}

// KnownTypes lists every type Careloop recognises, for the settings form.
func KnownTypes() []TypeInfo {
	out := make([]TypeInfo, len(kinds))
	for i, k := range kinds {
		out[i] = TypeInfo{MIME: k.mime, Extensions: slices.Clone(k.exts)}
	}
	return out
}

// Catalog keys of invalid limits.
const (
	KeyLimitFileBytes = "attachments.limit_file_bytes"
	KeyLimitFiles     = "attachments.limit_files"
	KeyLimitType      = "attachments.limit_unknown_type"
	KeyLimitNoTypes   = "attachments.limit_no_types"
)

// Validate checks l and removes repeated types.
func (l *Limits) Validate() error {
	var v domain.ValidationError
	if l.MaxFileBytes < MinFileBytes || l.MaxFileBytes > MaxFileBytesCeiling {
		v.Add("max_file_bytes", KeyLimitFileBytes, map[string]any{"Min": FormatSize(MinFileBytes), "Max": FormatSize(MaxFileBytesCeiling)})
	}
	if l.MaxFiles < 1 || l.MaxFiles > MaxFilesCeiling {
		v.Add("max_files", KeyLimitFiles, map[string]any{"Max": MaxFilesCeiling})
	}
	var types []string
	for _, t := range l.AllowedTypes {
		t = strings.ToLower(strings.TrimSpace(t))
		if byMIME[t] == nil {
			v.Add("allowed_types", KeyLimitType, map[string]any{"Type": t})
			continue
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if len(l.AllowedTypes) == 0 {
		v.Add("allowed_types", KeyLimitNoTypes, nil)
	}
	l.AllowedTypes = types
	return v.Err()
}

// Limits returns the limits in force: the administrator's, else the
// defaults (read through the settings cache).
func (s *Store) Limits(ctx context.Context) (Limits, error) {
	l := DefaultLimits()
	if _, err := s.settings.Get(ctx, SettingKey, &l); err != nil {
		return Limits{}, fmt.Errorf("attachments: limits: %w", err)
	}
	return l, nil
}

// LimitsVersion returns the limits and the version of the stored setting
// (0 when the defaults apply), for an edit form; it bypasses the cache.
func (s *Store) LimitsVersion(ctx context.Context) (Limits, int64, error) {
	l := DefaultLimits()
	e, found, err := s.settings.Entry(ctx, SettingKey)
	if err != nil || !found {
		return l, 0, err
	}
	if err := json.Unmarshal(e.Value, &l); err != nil {
		return Limits{}, 0, fmt.Errorf("attachments: limits: %w", err)
	}
	return l, e.Version, nil
}

// SetLimits validates and stores l; version is the one LimitsVersion
// returned. The change is audited as setting.update.
func (s *Store) SetLimits(ctx context.Context, l Limits, version int64) (int64, error) {
	if err := l.Validate(); err != nil {
		return 0, fmt.Errorf("attachments: limits: %w", err)
	}
	return s.settings.Set(ctx, SettingKey, l, version)
}

// FormatSize writes n bytes for people: "50 MB", "512 KB", "300 bytes"
// (binary units, as the limits are set).
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GB"
	case n >= 1<<20:
		if n%(1<<20) == 0 {
			return strconv.FormatInt(n>>20, 10) + " MB"
		}
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
