package sms

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/domain"
)

// SettingKey is where the configuration lives (internal/settings).
const SettingKey = "channels.sms"

// Default variable limits, in characters: Aliyun's documented 35 per
// variable for most templates; Tencent states its own per account type
// (docs/sms.md), so an administrator can change it.
const (
	AliyunMaxVarChars  = 35
	TencentMaxVarChars = 12
)

// Template is the approved template of one message kind.
type Template struct {
	Code string   `json:"code"` // Aliyun SMS_123456789, Tencent's numeric template id
	Vars []string `json:"vars"` // its variables, in the template's order
	// Urgent messages go out during quiet hours (sign-in codes).
	Urgent bool `json:"urgent,omitempty"`
}

// Quiet is the night when non-urgent messages wait; Start == End: none.
type Quiet struct {
	Start string `json:"start"` // "21:00"
	End   string `json:"end"`   // "08:00"
	Zone  string `json:"zone"`  // "Asia/Shanghai"
}

// Config is the administrator's SMS configuration. The secret is stored
// sealed and never leaves this package.
type Config struct {
	Enabled     bool   `json:"enabled"`
	Provider    string `json:"provider"`           // aliyun | tencent
	Endpoint    string `json:"endpoint,omitempty"` // empty: the provider's own; else a test or private gateway
	Region      string `json:"region,omitempty"`
	AccessKeyID string `json:"access_key_id"`
	SdkAppID    string `json:"sdk_app_id,omitempty"` // Tencent
	SignName    string `json:"sign_name"`            // 签名, as registered
	// Templates by message kind (the outbox's kind: ticket.reply, portal.sign_in…).
	Templates      map[string]Template `json:"templates"`
	MaxVarChars    int                 `json:"max_var_chars"`    // per variable; 0: the provider's default
	PerCustomerDay int                 `json:"per_customer_day"` // 0: no limit
	PerDay         int                 `json:"per_day"`          // all customers; 0: no limit
	Quiet          Quiet               `json:"quiet"`
	UnitPriceFen   int                 `json:"unit_price_fen"` // what one message costs, for the monthly count

	SecretSealed string `json:"secret_sealed,omitempty"`
}

// DefaultConfig is the configuration before an administrator's first edit.
func DefaultConfig() Config {
	return Config{Provider: Aliyun, Templates: map[string]Template{}, PerCustomerDay: 10, PerDay: 10000,
		Quiet: Quiet{Start: "21:00", End: "08:00", Zone: "Asia/Shanghai"}, UnitPriceFen: 5}
}

// maxVar is the variable limit in force.
func (c Config) maxVar() int {
	switch {
	case c.MaxVarChars > 0:
		return c.MaxVarChars
	case c.Provider == Tencent:
		return TencentMaxVarChars
	}
	return AliyunMaxVarChars
}

var kindRe = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)
var varRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)

// validate checks what an administrator sent; errors name the field.
func (c Config) validate() error {
	var fs []domain.FieldError
	add := func(field, key string, p map[string]any) {
		fs = append(fs, domain.FieldError{Field: field, Key: key, Params: p})
	}
	if !slices.Contains(Providers, c.Provider) {
		add("provider", "validation.one_of", map[string]any{"Values": strings.Join(Providers, ", ")})
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("endpoint", "sms.bad_endpoint", nil)
		}
	}
	if c.Enabled {
		if c.AccessKeyID == "" {
			add("access_key_id", "validation.required", nil)
		}
		if c.SignName == "" {
			add("sign_name", "validation.required", nil)
		}
		if c.Provider == Tencent && c.SdkAppID == "" {
			add("sdk_app_id", "validation.required", nil)
		}
	}
	if utf8.RuneCountInString(c.SignName) > 20 {
		add("sign_name", "sms.sign_name_long", map[string]any{"Max": 20})
	}
	for kind, t := range c.Templates {
		f := "templates." + kind
		if !kindRe.MatchString(kind) {
			add(f, "sms.bad_kind", nil)
			continue
		}
		if t.Code == "" || len(t.Code) > 64 {
			add(f+".code", "validation.required", nil)
		}
		for _, v := range t.Vars {
			if !varRe.MatchString(v) {
				add(f+".vars", "sms.bad_var_name", map[string]any{"Name": v})
			}
		}
	}
	for f, n := range map[string]int{"max_var_chars": c.MaxVarChars, "per_customer_day": c.PerCustomerDay, "per_day": c.PerDay, "unit_price_fen": c.UnitPriceFen} {
		if n < 0 || n > 10_000_000 {
			add(f, "sms.bad_number", nil)
		}
	}
	if _, err := c.Quiet.parse(); err != nil {
		add("quiet", "sms.bad_quiet", nil)
	}
	if len(fs) > 0 {
		slices.SortFunc(fs, func(a, b domain.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return &domain.ValidationError{Fields: fs}
	}
	return nil
}

type quietWindow struct {
	start, end int // minutes after midnight
	loc        *time.Location
}

func (q Quiet) parse() (quietWindow, error) {
	zone := q.Zone
	if zone == "" {
		zone = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return quietWindow{}, err
	}
	w := quietWindow{loc: loc}
	if q.Start == "" && q.End == "" {
		return w, nil
	}
	for i, s := range []string{q.Start, q.End} {
		t, err := time.Parse("15:04", s)
		if err != nil {
			return quietWindow{}, fmt.Errorf("quiet hours %q: %w", s, err)
		}
		m := t.Hour()*60 + t.Minute()
		if i == 0 {
			w.start = m
		} else {
			w.end = m
		}
	}
	return w, nil
}

// until tells, when now falls in the quiet hours, when they end.
func (w quietWindow) until(now time.Time) (time.Time, bool) {
	if w.start == w.end {
		return time.Time{}, false
	}
	l := now.In(w.loc)
	m := l.Hour()*60 + l.Minute()
	var in bool
	if w.start < w.end {
		in = m >= w.start && m < w.end
	} else { // over midnight: 21:00–08:00
		in = m >= w.start || m < w.end
	}
	if !in {
		return time.Time{}, false
	}
	end := time.Date(l.Year(), l.Month(), l.Day(), w.end/60, w.end%60, 0, 0, w.loc)
	if !end.After(l) {
		end = end.AddDate(0, 0, 1)
	}
	return end, true
}

// render puts the message's variables in the template's order and checks
// each against the provider's limit; the error names the variable.
func (c Config) render(t Template, vars map[string]string) ([]Var, error) {
	max := c.maxVar()
	out := make([]Var, 0, len(t.Vars))
	for _, name := range t.Vars {
		v, ok := vars[name]
		if !ok {
			return nil, fmt.Errorf("template %s: variable %q is missing: %w", t.Code, name, ErrVariable)
		}
		if n := utf8.RuneCountInString(v); n > max {
			return nil, fmt.Errorf("template %s: variable %q is %d characters, the provider takes at most %d: %w", t.Code, name, n, max, ErrVariable)
		}
		out = append(out, Var{Name: name, Value: v})
	}
	return out, nil
}
