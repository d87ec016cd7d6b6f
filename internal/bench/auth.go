package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/loadgen"
)

// cliUser creates a user with the server binary's own command line, so that
// the password is hashed with that binary's parameters and the database is
// migrated by it: the same scenario then measures an older build too
// (CARELOOP_BENCH_SERVER), side by side.
func (s *Scratch) cliUser(ctx context.Context, e Env, email, role, password string) error {
	_, err := s.cli(ctx, e, password+"\n", "user", "add", "--email", email, "--name", "Bench", "--role", role, "--password-stdin")
	return err
}

// cliToken makes an API token with the server binary's command line.
func (s *Scratch) cliToken(ctx context.Context, e Env, email string) (string, error) {
	out, err := s.cli(ctx, e, "", "token", "create", "--email", email, "--name", "bench")
	return strings.TrimSpace(out), err
}

func (s *Scratch) cli(ctx context.Context, e Env, stdin string, args ...string) (string, error) {
	args = append(args, "--data", s.Dir)
	if s.DSN != "" {
		args = append(args, "--db", s.DSN)
	}
	cmd := exec.CommandContext(ctx, e.Binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(cmd.Environ(), "CARELOOP_DB=", "CARELOOP_DATA=", "CARELOOP_LOG_LEVEL=warn")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("careloop %s: %v: %s", strings.Join(args[:2], " "), err, errOut.Bytes())
	}
	return out.String(), nil
}

// signIn posts the sign-in form and returns the session cookie.
func signIn(ctx context.Context, baseURL, email, password string) (*http.Cookie, error) {
	form := url.Values{"email": {email}, "password": {password}}.Encode()
	req, err := http.NewRequestWithContext(ctx, "POST", baseURL+"/login", strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := &http.Client{Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "careloop_session" && c.Value != "" {
			return c, nil
		}
	}
	return nil, fmt.Errorf("sign-in of %s: status %d and no session cookie", email, resp.StatusCode)
}

const benchPassword = "bench-password-1234"

// runMe measures GET /api/v1/me signed in with a bearer token (--auth token,
// the default) or with the session cookie of a sign-in (--auth cookie).
func runMe(ctx context.Context, e Env, o Options) (any, error) {
	auth := o.Auth
	if auth == "" {
		auth = "token"
	}
	if auth != "token" && auth != "cookie" {
		return nil, fmt.Errorf("me: --auth %q: want token or cookie", auth)
	}
	s, err := NewScratch(e.DSN)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	const email = "bench@example.com"
	if err := s.cliUser(ctx, e, email, "agent", benchPassword); err != nil {
		return nil, err
	}
	header := http.Header{}
	if auth == "token" {
		token, err := s.cliToken(ctx, e, email)
		if err != nil {
			return nil, err
		}
		header.Set("Authorization", "Bearer "+token)
	}
	srv, err := s.Start(ctx, e)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	if auth == "cookie" {
		c, err := signIn(ctx, srv.BaseURL, email, benchPassword)
		if err != nil {
			return nil, err
		}
		header.Set("Cookie", c.Name+"="+c.Value)
	}
	res, err := loadgen.Run(ctx, loadgen.Options{
		Scenario:     "me-" + auth,
		BaseURL:      srv.BaseURL,
		Concurrency:  o.Concurrency,
		Duration:     o.Duration,
		Warmup:       time.Second,
		PID:          srv.PID(),
		ExpectStatus: func(c int) bool { return c == http.StatusOK },
		Next: func(worker, i int) loadgen.Request {
			return loadgen.Request{Method: "GET", Path: "/api/v1/me", Header: header}
		},
	})
	if err != nil {
		return nil, err
	}
	res.WriteTable(e.Out)
	return res, nil
}

// LoginResult reports the memory of a burst of sign-ins.
type LoginResult struct {
	Scenario      string          `json:"scenario"`
	SignIns       int             `json:"sign_ins"`
	Concurrency   int             `json:"concurrency"`
	Failures      int64           `json:"failures"`
	LatencyMS     loadgen.Latency `json:"latency_ms"`
	RSSBeforeMB   float64         `json:"rss_before_mb"`
	PeakRSSMB     float64         `json:"peak_rss_mb"`
	RSSAfterMB    float64         `json:"rss_after_mb"`
	SettleSeconds float64         `json:"settle_seconds"`
}

// loginFloorMB is issue 9's floor for the memory left a minute after a burst.
const loginFloorMB = 120

// runLogin signs in 32 times, 8 at once (eight users, so the throttle's count
// of attempts in flight never trips), then waits --settle and reads the
// server's RSS: the memory a burst of argon2 hashes leaves behind.
func runLogin(ctx context.Context, e Env, o Options) (any, error) {
	const users, signIns = 8, 32
	settle := o.Settle
	if settle <= 0 {
		settle = time.Minute
	}
	s, err := NewScratch(e.DSN)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	for i := range users {
		if err := s.cliUser(ctx, e, fmt.Sprintf("login%d@example.com", i), "agent", benchPassword); err != nil {
			return nil, err
		}
	}
	srv, err := s.Start(ctx, e)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	// The server's own idle garbage first, as runStartup does.
	time.Sleep(2 * time.Second)
	before, _, err := loadgen.ReadRSS(srv.PID())
	if err != nil {
		return nil, err
	}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	bodies := make([][]byte, users)
	for i := range bodies {
		bodies[i] = []byte(url.Values{"email": {fmt.Sprintf("login%d@example.com", i)}, "password": {benchPassword}}.Encode())
	}
	res, err := loadgen.Run(ctx, loadgen.Options{
		Scenario:     "login",
		BaseURL:      srv.BaseURL,
		Concurrency:  users,
		MaxRequests:  signIns,
		PID:          srv.PID(),
		ExpectStatus: func(c int) bool { return c == http.StatusSeeOther },
		Next: func(worker, i int) loadgen.Request {
			return loadgen.Request{Method: "POST", Path: "/login", Header: header, Body: bodies[worker%users]}
		},
	})
	if err != nil {
		return nil, err
	}
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	after, hwm, err := loadgen.ReadRSS(srv.PID())
	if err != nil {
		return nil, err
	}
	mb := func(b int64) float64 { return float64(b) / 1e6 }
	out := LoginResult{Scenario: "login", SignIns: int(res.Requests), Concurrency: users, Failures: res.Failures(),
		LatencyMS: res.LatencyMS, RSSBeforeMB: mb(before), PeakRSSMB: mb(max(hwm, res.PeakRSSBytes)),
		RSSAfterMB: mb(after), SettleSeconds: settle.Seconds()}
	cat := i18n.MustLoad()
	fmt.Fprintln(e.Out, cat.T(i18n.English, "bench.login_result", map[string]any{
		"SignIns": out.SignIns, "Concurrency": users, "Failures": out.Failures, "P50": out.LatencyMS.P50, "P99": out.LatencyMS.P99,
		"Before": fmt.Sprintf("%.1f", out.RSSBeforeMB), "Peak": fmt.Sprintf("%.1f", out.PeakRSSMB),
		"Settle": settle.String(), "After": fmt.Sprintf("%.1f", out.RSSAfterMB)}))
	switch {
	case out.Failures > 0:
		return out, fmt.Errorf("login: %d sign-ins failed %v", out.Failures, res.ErrorSamples)
	case out.RSSAfterMB >= loginFloorMB:
		return out, errors.New(cat.T(i18n.English, "bench.login_over_floor", map[string]any{
			"After": fmt.Sprintf("%.1f", out.RSSAfterMB), "Floor": loginFloorMB}))
	}
	return out, nil
}
