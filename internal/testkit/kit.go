// Package testkit gives every domain's tests a real Careloop: an in-process
// HTTP server on loopback over a fresh SQLite or PostgreSQL database, a fake
// clock, users of any role with API tokens, and a small API client.
// (Headless Chromium lives in testkit/browser.)
package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
)

// CheapHash keeps tests fast; production uses identity.DefaultHashParams.
var CheapHash = identity.HashParams{Time: 1, Memory: 1024, Threads: 1}

// Password is the password of users made by Kit.User.
const Password = "test-password-1234"

// Kit is a running Careloop for one test.
type Kit struct {
	T      testing.TB
	App    *app.App
	Clock  *clock.Fake
	Server *httptest.Server
	URL    string
}

// Each runs fn on a fresh Careloop per database (SQLite always, PostgreSQL
// when CARELOOP_TEST_POSTGRES is set; required under CI=true).
func Each(t *testing.T, fn func(t *testing.T, k *Kit)) {
	t.Helper()
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) { fn(t, Start(t, tg)) })
	}
}

// Options change the Careloop that StartWith builds.
type Options struct {
	// Jobs runs the background job workers (River) as `careloop serve`
	// does: background imports, periodic jobs. Start leaves them out.
	Jobs bool
	// ImportSyncRows is --import-sync-rows: customer imports of more data
	// rows run as background jobs (with Jobs). 0 keeps the default.
	ImportSyncRows int
	// Demo is --demo as the pages see it (the sign-in page lists the demo
	// accounts); no demo data is loaded.
	Demo bool
}

// EachWith is Each with options.
func EachWith(t *testing.T, o Options, fn func(t *testing.T, k *Kit)) {
	t.Helper()
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) { fn(t, StartWith(t, tg, o)) })
	}
}

// Start builds a Careloop on the target database without background jobs.
func Start(t testing.TB, tg dbtest.Target) *Kit {
	t.Helper()
	return StartWith(t, tg, Options{})
}

// StartWith builds a Careloop on the target database with options.
func StartWith(t testing.TB, tg dbtest.Target, o Options) *Kit {
	t.Helper()
	c := config.Defaults()
	c.DataDir = t.TempDir()
	c.LogLevel = "error"
	if o.ImportSyncRows > 0 {
		c.ImportSyncRows = o.ImportSyncRows
	}
	c.Demo = o.Demo
	// A fixed key, so tests can store mailbox passwords (sealed).
	c.SecretKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	if err := c.Validate(); err != nil {
		t.Fatalf("testkit config: %v", err)
	}
	if tg.Dialect == db.Postgres {
		c.DB = dbtest.NewSchema(t, tg.DSN)
	}
	clk := clock.NewFake(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)) // Monday 09:00 in Shanghai
	a, err := app.Open(context.Background(), c, app.Options{Clock: clk, Hash: CheapHash, NoJobs: !o.Jobs, LogOutput: testWriter{t}})
	if err != nil {
		t.Fatalf("open careloop on %s: %v", tg.Dialect, err)
	}
	if a.Jobs != nil {
		if err := a.Jobs.Start(context.Background()); err != nil {
			a.Close()
			t.Fatalf("start jobs: %v", err)
		}
	}
	srv := httptest.NewServer(a.Server)
	t.Cleanup(func() {
		srv.Close()
		if a.Jobs != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			if err := a.Jobs.Stop(ctx); err != nil {
				t.Errorf("stop jobs: %v", err)
			}
			cancel()
		}
		a.Close()
	})
	return &Kit{T: t, App: a, Clock: clk, Server: srv, URL: srv.URL}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// User creates a staff user with roles and returns it with an API token.
func (k *Kit) User(email string, roles ...string) (identity.User, string) {
	k.T.Helper()
	ctx := context.Background()
	u, err := k.App.Identity.CreateUser(ctx, identity.NewUser{Email: email, Name: strings.Split(email, "@")[0], Password: Password, Roles: roles})
	if err != nil {
		k.T.Fatalf("create user %s: %v", email, err)
	}
	_, token, err := k.App.Identity.CreateToken(ctx, u.ID, "test")
	if err != nil {
		k.T.Fatalf("create token: %v", err)
	}
	return u, token
}

// Response is an HTTP answer with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d answer %q: %v", r.Status, r.Body, err)
	}
}

// Problem is the body of an error answer.
type Problem struct {
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// Problem decodes a problem document and checks its content type.
func (r *Response) Problem(t testing.TB) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p Problem
	r.JSON(t, &p)
	return p
}

// Request is what Do sends.
type Request struct {
	Method string
	Path   string
	Token  string
	// Body is sent as JSON unless it is []byte or string, sent as is.
	Body   any
	Header map[string]string
}

// Do sends a request with the default client (no cookies).
func (k *Kit) Do(r Request) *Response {
	k.T.Helper()
	return k.DoWith(http.DefaultClient, r)
}

// DoWith sends a request with client c.
func (k *Kit) DoWith(c *http.Client, r Request) *Response {
	k.T.Helper()
	var body io.Reader
	ctype := ""
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body, ctype = bytes.NewReader(b), "application/json"
	case string:
		body, ctype = strings.NewReader(b), "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			k.T.Fatal(err)
		}
		body, ctype = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(r.Method, k.URL+r.Path, body)
	if err != nil {
		k.T.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for h, v := range r.Header {
		if v == "" {
			req.Header.Del(h)
		} else {
			req.Header.Set(h, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		k.T.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		k.T.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Browserless returns an HTTP client with a cookie jar that does not follow
// redirects, like a browser's form posts seen one step at a time.
func (k *Kit) Browserless() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Login signs in through the form and returns a client carrying the session.
func (k *Kit) Login(email, password string) *http.Client {
	k.T.Helper()
	c := k.Browserless()
	resp, err := c.PostForm(k.URL+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		k.T.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		k.T.Fatalf("sign-in as %s: status %d", email, resp.StatusCode)
	}
	return c
}

// Snapshot returns every row of every Careloop table as text, leaving out
// the last-use bookkeeping of sessions and tokens, to show that a request
// changed nothing.
func (k *Kit) Snapshot() string {
	k.T.Helper()
	ctx := context.Background()
	tables := []string{"users", "roles", "user_roles", "teams", "team_members", "sessions", "api_tokens", "audit_log", "idempotency_keys", "calendars",
		"customers", "customer_phones", "customer_contacts", "customer_number_seq", "customer_number_redirects", "customer_consents",
		"products", "customer_products", "service_contracts", "custom_fields", "timeline_events",
		"customer_imports", "customer_import_files", "customer_rules", "customer_reveal_grants",
		"staff_skills", "staff_presence", "ticket_categories", "ticket_routing_rules", "ticket_routing_cursor", "ticket_number_seq",
		"tickets", "ticket_messages", "ticket_notes", "ticket_events", "ticket_commitments", "ticket_mentions", "ticket_followers",
		"ticket_links", "reply_templates", "ticket_macros", "ticket_saved_views", "settings", "attachments", "text_index_backfill",
		"outbox", "mailboxes", "email_threads", "email_inbound", "email_bodies", "staff_signatures",
		"notifications", "notification_settings",
		"portal_accounts", "portal_links", "portal_codes", "portal_sessions", "portal_tokens",
		"robots", "robot_backlog", "wechat_nonces", "wechat_inbound", "wechat_bindings"}
	var b strings.Builder
	for _, t := range tables {
		rows, err := k.App.DB.R.QueryContext(ctx, "SELECT * FROM "+t+" ORDER BY 1, 2")
		if err != nil {
			k.T.Fatalf("snapshot %s: %v", t, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				k.T.Fatal(err)
			}
			b.WriteString(t)
			for i, c := range cols {
				if c == "last_seen_at" || c == "last_used_at" {
					continue
				}
				b.WriteString("|")
				data, _ := json.Marshal(vals[i])
				b.Write(data)
			}
			b.WriteString("\n")
		}
		rows.Close()
	}
	return b.String()
}

// TempPath is a path in the test's temp dir.
func TempPath(t testing.TB, name string) string { return filepath.Join(t.TempDir(), name) }
