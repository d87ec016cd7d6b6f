// Package bench holds the `careloop bench` scenarios. Each scenario seeds a
// scratch database, starts the real server as a child process (so its memory
// is measured apart from the load generator), drives it over HTTP on loopback
// and reports throughput, latency percentiles and peak RSS.
package bench

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
)

// Env says where a scenario runs.
type Env struct {
	Binary string // the careloop binary to start as the server
	DSN    string // PostgreSQL base DSN; empty for SQLite
	Out    io.Writer
	Log    io.Writer // the server's log
}

// Scratch is a throw-away database and data directory.
type Scratch struct {
	Dir     string
	DSN     string // PostgreSQL DSN with the scratch schema, or ""
	cleanup []func()
}

// NewScratch creates a scratch database: a temp data directory, and on
// PostgreSQL a new schema.
func NewScratch(base string) (*Scratch, error) {
	dir, err := os.MkdirTemp("", "careloop-bench-")
	if err != nil {
		return nil, err
	}
	s := &Scratch{Dir: dir}
	s.cleanup = append(s.cleanup, func() { os.RemoveAll(dir) })
	if base != "" {
		schema := "bench_" + fmt.Sprint(time.Now().UnixNano())
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return nil, err
		}
		defer admin.Close()
		_, _ = admin.Exec("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
		if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
			return nil, fmt.Errorf("scratch schema: %w", err)
		}
		s.DSN = db.WithSearchPath(base, schema)
		s.cleanup = append(s.cleanup, func() {
			if a, err := sql.Open("pgx", base); err == nil {
				_, _ = a.Exec("DROP SCHEMA " + schema + " CASCADE")
				a.Close()
			}
		})
	}
	return s, nil
}

// Close removes the scratch database.
func (s *Scratch) Close() {
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
}

// Config is the configuration of a server on the scratch database.
func (s *Scratch) Config() config.Config {
	c := config.Defaults()
	c.DataDir, c.DB, c.LogLevel = s.Dir, s.DSN, "warn"
	return c
}

// SeedUser creates a user with roles and returns an API token for them.
func (s *Scratch) SeedUser(ctx context.Context, email string, roles ...string) (string, error) {
	a, err := app.OpenStore(ctx, s.Config(), app.Options{Hash: identity.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}})
	if err != nil {
		return "", err
	}
	defer a.Close()
	u, err := a.Identity.CreateUser(ctx, identity.NewUser{Email: email, Name: "Bench", Password: identity.GeneratePassword(), Roles: roles})
	if err != nil {
		return "", err
	}
	_, token, err := a.Identity.CreateToken(ctx, u.ID, "bench")
	return token, err
}

// Server is a careloop server running as a child process.
type Server struct {
	Cmd     *exec.Cmd
	BaseURL string
	Started time.Time
	Ready   time.Duration // from start to the first 200 of /readyz
	done    chan struct{}
	waitErr error
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Start runs `careloop serve` on the scratch database and waits until ready.
func (s *Scratch) Start(ctx context.Context, e Env, extra ...string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--addr", addr, "--data", s.Dir, "--log-level", "warn"}, extra...)
	if s.DSN != "" {
		args = append(args, "--db", s.DSN)
	}
	cmd := exec.Command(e.Binary, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, e.Log
	if e.Log == nil {
		cmd.Stderr = io.Discard
	}
	cmd.Env = append(os.Environ(), "CARELOOP_DB=", "CARELOOP_DATA=")
	srv := &Server{Cmd: cmd, BaseURL: "http://" + addr, Started: time.Now(), done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("server exited before it was ready: %v", err)
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			return nil, ctx.Err()
		default:
		}
		resp, err := client.Get(srv.BaseURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				srv.Ready = time.Since(srv.Started)
				go func() { srv.waitErr = <-exited; close(srv.done) }()
				return srv, nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, errors.New("server not ready within 30 s")
}

// Stop ends the server with SIGTERM (graceful) and waits.
func (s *Server) Stop() error {
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.Cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// Kill ends the server with SIGKILL: no chance to flush anything.
func (s *Server) Kill() {
	_ = s.Cmd.Process.Kill()
	<-s.done
}

// PID is the server's process id.
func (s *Server) PID() int { return s.Cmd.Process.Pid }

// Binary finds the careloop binary to run as the server: the running
// executable when it is careloop, else one built with `go build` in dir.
func Binary(dir string) (string, error) {
	exe, err := os.Executable()
	if err == nil && strings.HasPrefix(filepath.Base(exe), "careloop") && !strings.HasSuffix(exe, ".test") {
		return exe, nil
	}
	out := filepath.Join(dir, "careloop")
	cmd := exec.Command("go", "build", "-o", out, "github.com/careloop/careloop/cmd/careloop")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, b)
	}
	return out, nil
}

// Rig is a scratch database with one API user and the server running on it:
// what most scenarios start from.
type Rig struct {
	Scratch *Scratch
	Server  *Server
	Token   string
}

// NewRig seeds a user with role, gives it a token and starts the server.
func NewRig(ctx context.Context, e Env, email, role string) (*Rig, error) {
	s, err := NewScratch(e.DSN)
	if err != nil {
		return nil, err
	}
	token, err := s.SeedUser(ctx, email, role)
	if err != nil {
		s.Close()
		return nil, err
	}
	srv, err := s.Start(ctx, e)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &Rig{Scratch: s, Server: srv, Token: token}, nil
}

// Close stops the server and removes the scratch database.
func (r *Rig) Close() {
	_ = r.Server.Stop()
	r.Scratch.Close()
}
