package tickets

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// FilterParams are the query parameters of a ticket list (the API's GET
// /api/v1/tickets and a saved view's query).
var FilterParams = []string{"q", "state", "type", "severity", "channel", "owner_id", "team_id", "customer_id",
	"category_id", "tier", "queue", "sort", "limit", "cursor"}

// FilterFromQuery reads a list's query string for user me: state is a
// comma list or repeated; owner_id is an id, me or none. Unknown
// parameters and malformed ids are validation errors; values are checked
// by Filter.Check.
func FilterFromQuery(q url.Values, me int64) (Filter, error) {
	var f Filter
	var v domain.ValidationError
	for k := range q {
		if !contains2(FilterParams, k) {
			v.Add(k, "validation.unknown_param", nil)
		}
	}
	id := func(name string) int64 {
		s := q.Get(name)
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			v.Add(name, "validation.id", nil)
			return 0
		}
		return n
	}
	f.Q, f.Type, f.Severity, f.Channel = q.Get("q"), q.Get("type"), q.Get("severity"), q.Get("channel")
	f.Tier, f.Queue, f.Sort, f.Cursor = q.Get("tier"), q.Get("queue"), q.Get("sort"), q.Get("cursor")
	for _, s := range q["state"] {
		for _, st := range strings.Split(s, ",") {
			if st = strings.TrimSpace(st); st != "" {
				f.States = append(f.States, st)
			}
		}
	}
	switch o := q.Get("owner_id"); o {
	case "":
	case "me":
		f.OwnerID = me
	case "none":
		f.OwnerID = -1
	default:
		f.OwnerID = id("owner_id")
	}
	f.TeamID, f.CustomerID, f.CategoryID = id("team_id"), id("customer_id"), id("category_id")
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			v.Add("limit", "validation.range", map[string]any{"Min": 1, "Max": 200})
		} else {
			f.Limit = n
		}
	}
	if err := v.Err(); err != nil {
		return f, err
	}
	return f, f.Check()
}

func contains2(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// View is a list a user saved under a name: the list's query string.
type View struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Query     string    `json:"query"`
	CreatedAt time.Time `json:"created_at"`
}

// CreateView saves a list for p. The query must be a valid list query
// (without cursor, which would freeze a page).
func (s *Store) CreateView(ctx context.Context, p *identity.Principal, name, query string) (View, error) {
	var v domain.ValidationError
	name = strings.TrimSpace(name)
	query = strings.TrimPrefix(strings.TrimSpace(query), "?")
	if name == "" {
		v.Add("name", "validation.required", nil)
	}
	checkLen(&v, "name", name, 40)
	checkLen(&v, "query", query, 2000)
	values, err := url.ParseQuery(query)
	if err != nil {
		v.Add("query", "validation.view_query", nil)
	} else if _, err := FilterFromQuery(values, p.UserID); err != nil || values.Has("cursor") {
		v.Add("query", "validation.view_query", nil)
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	var n int
	if err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_saved_views WHERE user_id = $1`, p.UserID).Scan(&n); err != nil {
		return View{}, err
	}
	if n >= 50 {
		return View{}, domain.Invalid("name", "validation.too_many", map[string]any{"Max": 50})
	}
	out := View{Name: name, Query: query, CreatedAt: db.Now(s.clock.Now())}
	err = s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO ticket_saved_views (user_id, name, query, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		p.UserID, name, query, out.CreatedAt).Scan(&out.ID)
	if db.IsUniqueViolation(err) {
		return View{}, domain.Invalid("name", "validation.name_taken", nil)
	}
	if err != nil {
		return View{}, fmt.Errorf("save view: %w", err)
	}
	return out, nil
}

// Views lists p's saved lists by name.
func (s *Store) Views(ctx context.Context, p *identity.Principal) ([]View, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT id, name, query, created_at FROM ticket_saved_views WHERE user_id = $1 ORDER BY name, id`, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []View{}
	for rows.Next() {
		var v View
		if err := rows.Scan(&v.ID, &v.Name, &v.Query, &v.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteView deletes one of p's saved lists; another user's is not found.
func (s *Store) DeleteView(ctx context.Context, p *identity.Principal, id int64) error {
	res, err := s.db.Q(ctx).ExecContext(ctx, `DELETE FROM ticket_saved_views WHERE id = $1 AND user_id = $2`, id, p.UserID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("view %d: %w", id, domain.ErrNotFound)
	}
	return nil
}
