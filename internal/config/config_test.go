package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/i18n"
)

var cat = i18n.MustLoad()

// in is the translator of a language, as the CLI passes one.
func in(lang string) Translator {
	return func(key string, params map[string]any) string { return cat.T(lang, key, params) }
}

func parse(t *testing.T, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	return parseIn(t, "en", env, args...)
}

func parseIn(t *testing.T, lang string, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	b := Bind(fs, func(k string) string { return env[k] }, &c, true, in(lang))
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

func TestImportSyncRows(t *testing.T) {
	c, err := parse(t, nil)
	if err != nil || c.ImportSyncRows != customers.DefaultImportSyncRows {
		t.Fatalf("default = %d, %v; want customers.DefaultImportSyncRows (%d)", c.ImportSyncRows, err, customers.DefaultImportSyncRows)
	}
	env := map[string]string{"CARELOOP_IMPORT_SYNC_ROWS": "200"}
	if c, err = parse(t, env); err != nil || c.ImportSyncRows != 200 {
		t.Fatalf("env: %d, %v", c.ImportSyncRows, err)
	}
	if c, err = parse(t, env, "--import-sync-rows", "50"); err != nil || c.ImportSyncRows != 50 {
		t.Fatalf("flag over env: %d, %v", c.ImportSyncRows, err)
	}
	path := filepath.Join(t.TempDir(), "rows")
	if err := os.WriteFile(path, []byte("300\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = parse(t, map[string]string{"CARELOOP_IMPORT_SYNC_ROWS_FILE": path}); err != nil || c.ImportSyncRows != 300 {
		t.Fatalf("file variant: %d, %v", c.ImportSyncRows, err)
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--import-sync-rows", "0"}, "--import-sync-rows: 0: want a positive number of rows"},
		{nil, []string{"--import-sync-rows=-5"}, "--import-sync-rows: -5: want a positive number of rows"},
		{map[string]string{"CARELOOP_IMPORT_SYNC_ROWS": "0"}, nil, "--import-sync-rows: 0: want a positive number of rows"},
		{map[string]string{"CARELOOP_IMPORT_SYNC_ROWS": "5k"}, nil, `CARELOOP_IMPORT_SYNC_ROWS: “5k”: want a whole number of rows`},
		{nil, []string{"--import-sync-rows", "many"}, `invalid value "many" for flag -import-sync-rows`},
	} {
		_, err := parse(t, tc.env, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("env %v args %v: error %v, want %q", tc.env, tc.args, err, tc.want)
		}
	}
	// Commands other than serve keep the default (they never start jobs).
	var o Config
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	b := Bind(fs, func(k string) string { return env[k] }, &o, false, nil)
	if err := fs.Parse(nil); err != nil || b.Finish() != nil || o.ImportSyncRows != customers.DefaultImportSyncRows || fs.Lookup("import-sync-rows") != nil {
		t.Fatalf("non-serve: %d", o.ImportSyncRows)
	}
}
