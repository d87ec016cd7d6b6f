package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parse(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	b := Bind(fs, func(k string) string { return env[k] }, &c, true)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, b.Finish()
}

func TestFlagsBeatEnvironmentBeatsDefaults(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != "careloop-data" || c.DB != "" {
		t.Fatalf("defaults = %+v", c)
	}
	env := map[string]string{"CARELOOP_ADDR": "127.0.0.1:9000", "CARELOOP_DATA": "/tmp/x"}
	c, err = parse(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.DataDir != "/tmp/x" {
		t.Fatalf("env not applied: %+v", c)
	}
	c, err = parse(t, env, "--addr", "127.0.0.1:9100")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9100" {
		t.Fatalf("flag did not win: %+v", c)
	}
}

func TestFileVariantReadsSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(path, []byte("postgres://u@127.0.0.1/test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parse(t, map[string]string{"CARELOOP_DB_FILE": path})
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "postgres://u@127.0.0.1/test" || !c.IsPostgres() {
		t.Fatalf("DB = %q", c.DB)
	}
	_, err = parse(t, map[string]string{"CARELOOP_DB_FILE": filepath.Join(t.TempDir(), "missing")})
	if err == nil || !strings.Contains(err.Error(), "CARELOOP_DB_FILE") {
		t.Fatalf("missing file error = %v", err)
	}
}

func TestValidateNamesEveryBadSetting(t *testing.T) {
	_, err := parse(t, nil, "--addr", "nonsense", "--db", "mysql://x", "--log-level", "loud")
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"--addr", "--db", "--log-level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
