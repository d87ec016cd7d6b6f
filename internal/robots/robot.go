package robots

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/tickets"
)

// Kinds of robots.
const (
	DingTalk = "dingtalk"
	WeCom    = "wecom"
)

// Kinds lists them.
var Kinds = []string{DingTalk, WeCom}

// DefaultBacklog is how many unassigned open tickets a team may have
// before its robots say so.
const DefaultBacklog = 10

// Robot is one group robot as the API shows it: never its token or secret.
type Robot struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint"` // '' = the provider's own host
	// Events are the notices routed to it (notify.AlertEvents).
	Events []string `json:"events"`
	// TeamID, when set, limits it to notices about that team's tickets.
	TeamID           *int64    `json:"team_id"`
	Language         string    `json:"language"`
	BacklogThreshold int       `json:"backlog_threshold"`
	Active           bool      `json:"active"`
	TokenSet         bool      `json:"token_set"`
	SecretSet        bool      `json:"secret_set"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`

	token, secret string // sealed
}

// Input is one robot of a PUT: the kind's whole list replaces the stored
// one. ID names a robot to change (0: a new one); an empty webhook or
// secret keeps the stored one.
type Input struct {
	ID               int64    `json:"id,omitempty"`
	Name             string   `json:"name"`
	Webhook          string   `json:"webhook,omitempty"` // the URL the provider shows, token included
	Secret           string   `json:"secret,omitempty"`  // DingTalk: 加签's SEC… secret
	Endpoint         string   `json:"endpoint,omitempty"`
	Events           []string `json:"events"`
	TeamID           *int64   `json:"team_id,omitempty"`
	Language         string   `json:"language,omitempty"`
	BacklogThreshold int      `json:"backlog_threshold,omitempty"`
	Active           *bool    `json:"active,omitempty"`
}

// Config is a kind's robots, written whole ("robots" left out: unchanged).
type Config struct {
	Robots []Input `json:"robots"`
}

// List is what GET answers.
type List struct {
	Kind   string  `json:"kind"`
	Robots []Robot `json:"robots"`
}

// Sealer seals the token and secret at rest (email.Sealer).
type Sealer interface {
	Seal(plain string) (string, error)
	Open(sealed string) (string, error)
}

// Deps are what the store works with.
type Deps struct {
	DB       *db.DB
	Clock    clock.Clock
	Audit    *audit.Log
	Sealer   Sealer
	Catalog  *i18n.Catalog
	Identity *identity.Store
	Tickets  *tickets.Store
	Outbox   *notify.Outbox
}

// Options tune the store.
type Options struct {
	// AllowPrivate lets an endpoint (and a dial) reach loopback, private
	// and link-local addresses: tests and gateways inside the company.
	AllowPrivate bool
	// BaseURL makes the links in messages absolute.
	BaseURL string
	// Client overrides the HTTP client (its transport must keep the
	// address check; tests leave it nil).
	Client *http.Client
}

// Store keeps the robots and sends their messages.
type Store struct {
	Deps
	opts   Options
	client *http.Client
	tokens tokenCache // the WeCom application's access_token
}

// New builds the store; Channel is its outbox channel, Alert its
// notify.Alerter, Jobs its backlog check.
func New(d Deps, o Options) *Store {
	s := &Store{Deps: d, opts: o, client: o.Client}
	if s.client == nil {
		s.client = newClient(o.AllowPrivate)
	}
	return s
}

const robotCols = `id, kind, name, endpoint, token, secret, events, team_id, language, backlog_threshold, active, created_at, updated_at`

func scanRobot(sc interface{ Scan(...any) error }) (Robot, error) {
	var r Robot
	var events string
	var team sql.NullInt64
	if err := sc.Scan(&r.ID, &r.Kind, &r.Name, &r.Endpoint, &r.token, &r.secret, &events, &team, &r.Language,
		&r.BacklogThreshold, &r.Active, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return r, err
	}
	_ = json.Unmarshal([]byte(events), &r.Events)
	if r.Events == nil {
		r.Events = []string{}
	}
	if team.Valid {
		r.TeamID = &team.Int64
	}
	r.TokenSet, r.SecretSet = r.token != "", r.secret != ""
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}

func (s *Store) query(ctx context.Context, where string, args ...any) ([]Robot, error) {
	rows, err := s.DB.Q(ctx).QueryContext(ctx, `SELECT `+robotCols+` FROM robots `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("robots: %w", err)
	}
	defer rows.Close()
	out := []Robot{}
	for rows.Next() {
		r, err := scanRobot(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// List returns the robots of a kind, oldest first.
func (s *Store) List(ctx context.Context, kind string) (List, error) {
	if !slices.Contains(Kinds, kind) {
		return List{}, fmt.Errorf("robot kind %q: %w", kind, domain.ErrNotFound)
	}
	rs, err := s.query(ctx, `WHERE kind = $1 ORDER BY id`, kind)
	return List{Kind: kind, Robots: rs}, err
}

func (s *Store) get(ctx context.Context, id int64) (Robot, error) {
	rs, err := s.query(ctx, `WHERE id = $1`, id)
	if err != nil {
		return Robot{}, err
	}
	if len(rs) == 0 {
		return Robot{}, fmt.Errorf("robot %d: %w", id, domain.ErrNotFound)
	}
	return rs[0], nil
}

// Replace makes cfg the kind's robots: robots named by id are changed,
// new ones added, the others removed; no list at all (nil, "robots" left
// out) changes nothing, an empty one removes them all. Audited (never a
// token or secret).
func (s *Store) Replace(ctx context.Context, kind string, cfg Config) (List, error) {
	if !slices.Contains(Kinds, kind) {
		return List{}, fmt.Errorf("robot kind %q: %w", kind, domain.ErrNotFound)
	}
	if cfg.Robots == nil {
		return s.List(ctx, kind)
	}
	err := s.DB.WithTx(ctx, func(ctx context.Context) error {
		before, err := s.query(ctx, `WHERE kind = $1 ORDER BY id`, kind)
		if err != nil {
			return err
		}
		rows, err := s.check(ctx, kind, cfg, before)
		if err != nil {
			return err
		}
		now := db.Now(s.Clock.Now())
		q := s.DB.Q(ctx)
		keep := map[int64]bool{}
		for _, r := range rows {
			events, _ := json.Marshal(r.Events)
			if r.ID != 0 {
				keep[r.ID] = true
				_, err = q.ExecContext(ctx, `UPDATE robots SET name = $1, endpoint = $2, token = $3, secret = $4, events = $5, team_id = $6,
					language = $7, backlog_threshold = $8, active = $9, updated_at = $10 WHERE id = $11`,
					r.Name, r.Endpoint, r.token, r.secret, string(events), r.TeamID, r.Language, r.BacklogThreshold, r.Active, now, r.ID)
			} else {
				_, err = q.ExecContext(ctx, `INSERT INTO robots (kind, name, endpoint, token, secret, events, team_id, language,
					backlog_threshold, active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
					kind, r.Name, r.Endpoint, r.token, r.secret, string(events), r.TeamID, r.Language, r.BacklogThreshold, r.Active, now)
			}
			if err != nil {
				return fmt.Errorf("save robot %q: %w", r.Name, err)
			}
		}
		for _, b := range before {
			if !keep[b.ID] {
				if _, err := q.ExecContext(ctx, `DELETE FROM robots WHERE id = $1`, b.ID); err != nil {
					return fmt.Errorf("remove robot %d: %w", b.ID, err)
				}
			}
		}
		if s.Audit == nil {
			return nil
		}
		return s.Audit.Record(ctx, "robots.update", "robots", kind, map[string]audit.Change{
			"robots": {Before: describe(before), After: describe(rows)}})
	})
	if err != nil {
		return List{}, err
	}
	return s.List(ctx, kind)
}

// describe is what the audit trail keeps of robots: what they hear, never
// their token or secret.
func describe(rs []Robot) []string {
	out := []string{}
	for _, r := range rs {
		team := ""
		if r.TeamID != nil {
			team = fmt.Sprintf(" team %d", *r.TeamID)
		}
		out = append(out, fmt.Sprintf("%s [%s]%s active=%t token_changed=%t", r.Name, strings.Join(r.Events, ","), team, r.Active, r.TokenSet))
	}
	return out
}

// check validates cfg against the kind's stored robots and returns the
// rows to write, token and secret sealed.
func (s *Store) check(ctx context.Context, kind string, cfg Config, before []Robot) ([]Robot, error) {
	var v domain.ValidationError
	var out []Robot
	if len(cfg.Robots) > 50 {
		v.Add("robots", "validation.robot_too_many", map[string]any{"Max": 50})
		return nil, v.Err()
	}
	seen := map[int64]bool{}
	for i, in := range cfg.Robots {
		f := func(name string) string { return fmt.Sprintf("robots[%d].%s", i, name) }
		r := Robot{Kind: kind, Active: true, Language: i18n.Default, BacklogThreshold: DefaultBacklog}
		if in.ID != 0 {
			j := slices.IndexFunc(before, func(b Robot) bool { return b.ID == in.ID })
			if j < 0 || seen[in.ID] {
				v.Add(f("id"), "validation.robot_unknown", map[string]any{"ID": in.ID})
				continue
			}
			seen[in.ID] = true
			r = before[j]
		}
		if r.Name = strings.TrimSpace(in.Name); r.Name == "" || len([]rune(r.Name)) > 100 {
			v.Add(f("name"), "validation.robot_name", nil)
		}
		prevEndpoint := r.Endpoint
		endpoint, err := checkEndpoint(ctx, in.Endpoint, s.opts.AllowPrivate)
		if err != nil {
			v.Add(f("endpoint"), err.Error(), map[string]any{"URL": in.Endpoint})
		}
		r.Endpoint = endpoint
		switch {
		case in.Webhook != "":
			token, key := webhookToken(kind, endpoint, in.Webhook)
			if key != "" {
				v.Add(f("webhook"), key, map[string]any{"Host": officialHost(kind, endpoint)})
				break
			}
			r.token = s.seal(&v, f("webhook"), token)
		case in.ID == 0:
			v.Add(f("webhook"), "validation.robot_webhook_required", nil)
		case endpoint != prevEndpoint:
			// The token was for the other host: a new endpoint needs the
			// webhook again, or a token would go where it was not meant to.
			v.Add(f("webhook"), "validation.robot_webhook_required", nil)
		}
		if in.Secret != "" {
			if kind != DingTalk {
				v.Add(f("secret"), "validation.robot_secret_unused", nil)
			} else if !strings.HasPrefix(in.Secret, "SEC") || len(in.Secret) > 200 {
				v.Add(f("secret"), "validation.robot_secret_format", nil)
			} else {
				r.secret = s.seal(&v, f("secret"), in.Secret)
			}
		}
		if kind == DingTalk && r.secret == "" && in.Secret == "" {
			v.Add(f("secret"), "validation.robot_secret_required", nil)
		}
		r.Events = []string{}
		for _, e := range in.Events {
			if !slices.Contains(notify.AlertEvents, e) {
				v.Add(f("events"), "validation.robot_event", map[string]any{"Event": e})
			} else if !slices.Contains(r.Events, e) {
				r.Events = append(r.Events, e)
			}
		}
		r.TeamID = nil
		if in.TeamID != nil {
			if _, err := s.Identity.GetTeam(ctx, *in.TeamID); errors.Is(err, domain.ErrNotFound) {
				v.Add(f("team_id"), "validation.robot_team", map[string]any{"ID": *in.TeamID})
			} else if err != nil {
				return nil, err
			}
			id := *in.TeamID
			r.TeamID = &id
		}
		if in.Language != "" {
			if !slices.Contains(i18n.Languages, in.Language) {
				v.Add(f("language"), "validation.robot_language", map[string]any{"Language": in.Language})
			}
			r.Language = in.Language
		}
		if in.BacklogThreshold != 0 {
			if in.BacklogThreshold < 1 || in.BacklogThreshold > 10000 {
				v.Add(f("backlog_threshold"), "validation.robot_backlog", nil)
			}
			r.BacklogThreshold = in.BacklogThreshold
		}
		if in.Active != nil {
			r.Active = *in.Active
		}
		r.TokenSet = in.Webhook != ""
		out = append(out, r)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) seal(v *domain.ValidationError, field, plain string) string {
	sealed, err := s.Sealer.Seal(plain)
	if errors.Is(err, email.ErrNoKey) {
		v.Add(field, "validation.no_secret_key", nil)
	} else if err != nil {
		v.Add(field, "validation.robot_seal", nil)
	}
	return sealed
}
