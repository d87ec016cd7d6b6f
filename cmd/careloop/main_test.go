package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/db/dbtest"
)

// cli runs the careloop command in-process against the data dir or DSN.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T, tg dbtest.Target) *cli {
	// English, so that the tests read as the messages they check; words_test.go
	// checks the Chinese default.
	c := &cli{t: t, env: map[string]string{"CARELOOP_DATA": t.TempDir(), "CARELOOP_LOG_LEVEL": "error", "CARELOOP_LANG": "en"}}
	if tg.DSN != "" {
		c.env["CARELOOP_DB"] = dbtest.NewSchema(t, tg.DSN)
	}
	return c
}

func (c *cli) run(stdin string, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return c.env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func eachCLI(t *testing.T, fn func(t *testing.T, c *cli)) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) { fn(t, newCLI(t, tg)) })
	}
}

func TestUserAndTokenCommands(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		out, _, err := c.run("", "migrate")
		if err != nil || !strings.Contains(out, "up to date") {
			t.Fatalf("migrate: %v %s", err, out)
		}
		out, _, err = c.run("", "user", "add", "--email", "Boss@Example.com", "--name", "老板", "--role", "admin,manager")
		if err != nil {
			t.Fatalf("user add: %v", err)
		}
		if !regexp.MustCompile(`created user \d+ boss@example.com \(manager,admin\)|\(admin,manager\)`).MatchString(out) || !strings.Contains(out, "password: ") {
			t.Fatalf("user add printed %q", out)
		}
		if _, _, err := c.run("correct horse battery staple\n", "user", "add", "--email", "a@example.com", "--name", "A", "--role", "agent", "--password-stdin"); err != nil {
			t.Fatal(err)
		}
		// Mistakes are explained and exit 2.
		_, _, err = c.run("", "user", "add", "--email", "bad", "--name", "", "--role", "wizard")
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "--email") || !strings.Contains(err.Error(), "wizard") {
			t.Fatalf("bad user add: %v", err)
		}
		_, _, err = c.run("short\n", "user", "passwd", "--email", "a@example.com", "--password-stdin")
		if err == nil || !strings.Contains(err.Error(), "at least 10") {
			t.Fatalf("short password: %v", err)
		}
		out, _, err = c.run("", "user", "passwd", "--email", "a@example.com")
		if err != nil || !strings.Contains(out, "password: ") {
			t.Fatalf("passwd: %v %s", err, out)
		}
		token, _, err := c.run("", "token", "create", "--email", "boss@example.com", "--name", "ERP")
		if err != nil || !regexp.MustCompile(`^clt_[A-Za-z0-9_-]{43}\n$`).MatchString(token) {
			t.Fatalf("token create printed %q (%v)", token, err)
		}
		if _, _, err := c.run("", "token", "create", "--email", "nobody@example.com", "--name", "x"); err == nil {
			t.Fatal("token for an unknown user")
		}
		out, _, _ = c.run("", "version")
		if !strings.HasPrefix(out, "careloop ") {
			t.Fatalf("version: %q", out)
		}
		if _, _, err := c.run("", "frobnicate"); exitCode(err) != 2 {
			t.Fatalf("unknown command: %v", err)
		}
	})
}

func TestServeAnswersAndShutsDownGracefully(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--demo"}, func(k string) string { return c.env[k] }, strings.NewReader(""), pw, io.Discard)
			pw.Close()
			done <- err
		}()
		sc := bufio.NewScanner(pr)
		var url string
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if m := regexp.MustCompile(`running at (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				url = m[1]
			}
			if strings.Contains(sc.Text(), "manager") {
				break
			}
		}
		go io.Copy(io.Discard, pr)
		if url == "" {
			t.Fatalf("serve printed %q", lines)
		}
		if !strings.Contains(strings.Join(lines, "\n"), "agent@demo.careloop.cn") {
			t.Fatalf("demo accounts not printed: %q", lines)
		}
		resp, err := http.Get(url + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("readyz: %v %v", err, resp)
		}
		resp.Body.Close()
		// The other commands work on the same database while serve runs.
		if _, _, err := c.run("", "user", "add", "--email", "live@example.com", "--name", "Live", "--role", "agent"); err != nil {
			t.Fatalf("user add while serving: %v", err)
		}
		token, _, err := c.run("", "token", "create", "--email", "live@example.com", "--name", "live")
		if err != nil {
			t.Fatalf("token create while serving: %v", err)
		}
		req, _ := http.NewRequest("GET", url+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
		resp, err = http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("the running server does not know the new token: %v %v", err, resp)
		}
		resp.Body.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not shut down")
		}
	})
}

func TestBackupAndRestore(t *testing.T) {
	c := newCLI(t, dbtest.Target{})
	if _, _, err := c.run("", "user", "add", "--email", "kept@example.com", "--name", "K", "--role", "agent"); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if out, _, err := c.run("", "backup", backup); err != nil || !strings.Contains(out, "backup written") {
		t.Fatalf("backup: %v %s", err, out)
	}
	if _, _, err := c.run("", "backup", backup); exitCode(err) != 2 {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if _, _, err := c.run("", "user", "add", "--email", "later@example.com", "--name", "L", "--role", "agent"); err != nil {
		t.Fatal(err)
	}
	if out, _, err := c.run("", "restore", backup); err != nil || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %v %s", err, out)
	}
	if _, _, err := c.run("", "token", "create", "--email", "kept@example.com", "--name", "x"); err != nil {
		t.Fatalf("user from the backup is missing: %v", err)
	}
	if _, _, err := c.run("", "token", "create", "--email", "later@example.com", "--name", "x"); err == nil {
		t.Fatal("a user created after the backup survived the restore")
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if _, _, err := c.run("", "restore", junk); err == nil {
		t.Fatal("restore accepted a file that is not a database")
	}
}
