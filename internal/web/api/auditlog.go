package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/httpx"
)

func (a *API) auditRoutes() []httpx.Route {
	return []httpx.Route{
		{Method: "GET", Path: "/api/v1/audit", Perm: identity.AuditView, Handler: a.listAudit,
			Summary:  "The audit trail, newest first, filtered by who (actor, actor_id), what (action prefix, entity, entity_id) and when (from, to: RFC 3339)",
			Response: audit.Page{}, Query: []string{"actor", "actor_id", "action", "entity", "entity_id", "from", "to", "limit", "cursor"}},
	}
}

// AuditFilter reads the audit filters of a query string; the pages use it too.
func AuditFilter(r *http.Request) (audit.Filter, error) {
	q := r.URL.Query()
	var v domain.ValidationError
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Entity: q.Get("entity"), EntityID: q.Get("entity_id"), Cursor: q.Get("cursor")}
	if s := q.Get("actor_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			v.Add("actor_id", "validation.integer", nil)
		}
		f.ActorID = id
	}
	for _, tf := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		s := q.Get(tf.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			// The pages' date inputs send plain dates.
			t, err = time.ParseInLocation("2006-01-02", s, time.UTC)
			if err == nil && tf.name == "to" {
				t = t.AddDate(0, 0, 1)
			}
		}
		if err != nil {
			v.Add(tf.name, "validation.datetime", nil)
		}
		*tf.dst = t
	}
	// A bad limit joins the other problems rather than hiding them.
	limit, err := httpx.Limit(r, 50)
	var bad *domain.ValidationError
	if errors.As(err, &bad) {
		v.Fields = append(v.Fields, bad.Fields...)
	} else if err != nil {
		return f, err
	}
	f.Limit = limit
	return f, v.Err()
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) {
	f, err := AuditFilter(r)
	if err != nil {
		a.Error(w, r, err)
		return
	}
	p, err := a.Audit.List(r.Context(), f)
	if err == audit.ErrBadCursor {
		err = domain.Invalid("cursor", "validation.cursor", nil)
	}
	if err != nil {
		a.Error(w, r, err)
		return
	}
	if p.Entries == nil {
		p.Entries = []audit.Entry{}
	}
	a.JSON(w, http.StatusOK, p)
}
