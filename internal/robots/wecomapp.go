package robots

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// App is the WeCom application (企业微信自建应用) that sends a staff member
// their notices one by one, as the API shows it: never its secret.
type App struct {
	CorpID    string    `json:"corp_id"`
	AgentID   int64     `json:"agent_id"`
	Endpoint  string    `json:"endpoint"`
	Active    bool      `json:"active"`
	SecretSet bool      `json:"secret_set"`
	UpdatedAt time.Time `json:"updated_at"`

	secret string // sealed
}

// AppInput sets the application; an empty secret keeps the stored one.
type AppInput struct {
	CorpID   string `json:"corp_id"`
	AgentID  int64  `json:"agent_id"`
	Secret   string `json:"secret,omitempty"`
	Endpoint string `json:"endpoint,omitempty"`
	Active   *bool  `json:"active,omitempty"`
}

// StaffID is a staff member's WeCom user id (成员 UserID).
type StaffID struct {
	UserID      int64  `json:"user_id"`
	WeComUserID string `json:"wecom_userid"`
}

// app reads the application; ok false when none is set.
func (s *Store) app(ctx context.Context) (App, bool, error) {
	var a App
	err := s.DB.Q(ctx).QueryRowContext(ctx, `SELECT corp_id, agent_id, secret, endpoint, active, updated_at FROM wecom_app WHERE id = 1`).
		Scan(&a.CorpID, &a.AgentID, &a.secret, &a.Endpoint, &a.Active, &a.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return App{}, false, nil
	}
	if err != nil {
		return App{}, false, fmt.Errorf("wecom app: %w", err)
	}
	a.SecretSet, a.UpdatedAt = a.secret != "", a.UpdatedAt.UTC()
	return a, true, nil
}

// App returns the WeCom application, nil when none is set.
func (s *Store) App(ctx context.Context) (*App, error) {
	a, ok, err := s.app(ctx)
	if err != nil || !ok {
		return nil, err
	}
	return &a, nil
}

// checkApp validates in against the stored application (field names under
// "application.") and returns the row to write.
func (s *Store) checkApp(ctx context.Context, v *domain.ValidationError, in AppInput) (App, error) {
	before, had, err := s.app(ctx)
	if err != nil {
		return App{}, err
	}
	a := App{Active: true}
	if had {
		a = before
	}
	if a.CorpID = strings.TrimSpace(in.CorpID); a.CorpID == "" || len(a.CorpID) > 64 ||
		strings.Trim(a.CorpID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		v.Add("application.corp_id", "validation.wecom_corp_id", nil)
	}
	if a.AgentID = in.AgentID; a.AgentID <= 0 {
		v.Add("application.agent_id", "validation.wecom_agent_id", nil)
	}
	endpoint, err := checkEndpoint(ctx, in.Endpoint, s.opts.AllowPrivate)
	if err != nil {
		v.Add("application.endpoint", err.Error(), map[string]any{"URL": in.Endpoint})
	}
	switch {
	case in.Secret != "":
		if len(in.Secret) > 200 {
			v.Add("application.secret", "validation.wecom_secret", nil)
		} else {
			a.secret = s.seal(v, "application.secret", in.Secret)
		}
	case !had || endpoint != before.Endpoint || a.CorpID != before.CorpID:
		// A secret goes only to the host and company it was given for.
		v.Add("application.secret", "validation.wecom_secret_required", nil)
	}
	a.Endpoint = endpoint
	if in.Active != nil {
		a.Active = *in.Active
	}
	a.SecretSet = a.secret != ""
	return a, nil
}

// checkStaff validates the staff ids (field names under "staff[i].").
func (s *Store) checkStaff(ctx context.Context, v *domain.ValidationError, in []StaffID) error {
	seen := map[int64]bool{}
	for i, st := range in {
		f := func(name string) string { return fmt.Sprintf("staff[%d].%s", i, name) }
		if _, err := s.Identity.GetUser(ctx, st.UserID); errors.Is(err, domain.ErrNotFound) || seen[st.UserID] {
			v.Add(f("user_id"), "validation.wecom_user", map[string]any{"ID": st.UserID})
		} else if err != nil {
			return err
		}
		seen[st.UserID] = true
		// WeCom's UserID: 1–64 letters, digits and _-@.
		id := st.WeComUserID
		if id == "" || len(id) > 64 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@.") != "" {
			v.Add(f("wecom_userid"), "validation.wecom_userid", nil)
		}
	}
	return nil
}

// Staff returns the staff members' WeCom user ids, by user id.
func (s *Store) Staff(ctx context.Context) ([]StaffID, error) {
	rows, err := s.DB.Q(ctx).QueryContext(ctx, `SELECT user_id, wecom_userid FROM staff_wecom ORDER BY user_id`)
	if err != nil {
		return nil, fmt.Errorf("staff wecom ids: %w", err)
	}
	defer rows.Close()
	out := []StaffID{}
	for rows.Next() {
		var st StaffID
		if err := rows.Scan(&st.UserID, &st.WeComUserID); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// WeComUserID is a staff member's WeCom user id, "" when none is on file
// or no active application can send to it (notify's WeComDirectory).
func (s *Store) WeComUserID(ctx context.Context, userID int64) (string, error) {
	var id string
	err := s.DB.Q(ctx).QueryRowContext(ctx, `SELECT w.wecom_userid FROM staff_wecom w JOIN wecom_app a ON a.id = 1 AND a.active = TRUE
		WHERE w.user_id = $1`, userID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("wecom user id: %w", err)
	}
	return id, nil
}

// WeComConfig is what GET|PUT /api/v1/channels/wecom read and write: the
// group robots, and optionally the application and the staff's ids.
type WeComConfig struct {
	Robots []Input    `json:"robots"`
	App    *AppInput  `json:"application,omitempty"` // nil: unchanged
	Staff  *[]StaffID `json:"staff,omitempty"`       // nil: unchanged; else the whole list
}

// WeComList is the answer.
type WeComList struct {
	List
	App   *App      `json:"application"`
	Staff []StaffID `json:"staff"`
}

// WeCom returns the WeCom robots, application and staff ids.
func (s *Store) WeCom(ctx context.Context) (WeComList, error) {
	l, err := s.List(ctx, WeCom)
	if err != nil {
		return WeComList{}, err
	}
	out := WeComList{List: l}
	if out.App, err = s.App(ctx); err != nil {
		return out, err
	}
	out.Staff, err = s.Staff(ctx)
	return out, err
}

// ReplaceWeCom writes cfg in one transaction: the robots as Replace, the
// application and the staff ids when given. Audited, never the secret.
func (s *Store) ReplaceWeCom(ctx context.Context, cfg WeComConfig) (WeComList, error) {
	err := s.DB.WithTx(ctx, func(ctx context.Context) error {
		var v domain.ValidationError
		var a App
		if cfg.App != nil {
			var err error
			if a, err = s.checkApp(ctx, &v, *cfg.App); err != nil {
				return err
			}
		}
		if cfg.Staff != nil {
			if err := s.checkStaff(ctx, &v, *cfg.Staff); err != nil {
				return err
			}
		}
		_, err := s.Replace(ctx, WeCom, Config{Robots: cfg.Robots})
		var rv *domain.ValidationError
		if errors.As(err, &rv) {
			v.Fields = append(rv.Fields, v.Fields...)
		} else if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		now := db.Now(s.Clock.Now())
		q := s.DB.Q(ctx)
		changes := map[string]audit.Change{}
		if cfg.App != nil {
			before, _, _ := s.app(ctx)
			if _, err := q.ExecContext(ctx, `INSERT INTO wecom_app (id, corp_id, agent_id, secret, endpoint, active, updated_at)
				VALUES (1, $1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET corp_id = excluded.corp_id, agent_id = excluded.agent_id,
				secret = excluded.secret, endpoint = excluded.endpoint, active = excluded.active, updated_at = excluded.updated_at`,
				a.CorpID, a.AgentID, a.secret, a.Endpoint, a.Active, now); err != nil {
				return fmt.Errorf("save wecom app: %w", err)
			}
			changes["app"] = audit.Change{Before: fmt.Sprintf("%s/%d active=%t", before.CorpID, before.AgentID, before.Active),
				After: fmt.Sprintf("%s/%d active=%t secret_changed=%t", a.CorpID, a.AgentID, a.Active, cfg.App.Secret != "")}
		}
		if cfg.Staff != nil {
			before, err := s.Staff(ctx)
			if err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, `DELETE FROM staff_wecom`); err != nil {
				return fmt.Errorf("staff wecom ids: %w", err)
			}
			list := slices.Clone(*cfg.Staff)
			slices.SortFunc(list, func(a, b StaffID) int { return int(a.UserID - b.UserID) })
			for _, st := range list {
				if _, err := q.ExecContext(ctx, `INSERT INTO staff_wecom (user_id, wecom_userid) VALUES ($1, $2)`, st.UserID, st.WeComUserID); err != nil {
					return fmt.Errorf("staff wecom id: %w", err)
				}
			}
			changes["staff"] = audit.Change{Before: before, After: list}
		}
		if len(changes) == 0 || s.Audit == nil {
			return nil
		}
		return s.Audit.Record(ctx, "wecom_app.update", "robots", WeCom, changes)
	})
	if err != nil {
		return WeComList{}, err
	}
	return s.WeCom(ctx)
}
