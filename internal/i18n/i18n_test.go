package i18n_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
)

func TestCatalogsHaveTheSameKeys(t *testing.T) {
	c, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	zh, en := c.Keys(i18n.Default), c.Keys(i18n.English)
	if len(zh) < 100 {
		t.Fatalf("only %d keys", len(zh))
	}
	inEN := map[string]bool{}
	for _, k := range en {
		inEN[k] = true
	}
	for _, k := range zh {
		if !inEN[k] {
			t.Errorf("key %q is in zh-CN but not in en", k)
		}
		delete(inEN, k)
	}
	for k := range inEN {
		t.Errorf("key %q is in en but not in zh-CN", k)
	}
	for _, k := range zh {
		if c.T(i18n.Default, k, nil) == c.T(i18n.English, k, nil) && !strings.HasPrefix(k, "app.") && k != "layout.lang_en" {
			t.Errorf("key %q is not translated: both say %q", k, c.T(i18n.English, k, nil))
		}
	}
}

func TestTranslateAndMatch(t *testing.T) {
	c := i18n.MustLoad()
	if got := c.T("en", "validation.too_long", map[string]any{"Max": 100}); got != "At most 100 characters." {
		t.Fatalf("en = %q", got)
	}
	if got := c.T("zh-CN", "validation.too_long", map[string]any{"Max": 100}); got != "最多 100 个字符。" {
		t.Fatalf("zh = %q", got)
	}
	if got := c.T("en", "no.such.key", nil); got != "no.such.key" {
		t.Fatalf("missing key = %q", got)
	}
	for header, want := range map[string]string{"zh-CN,zh;q=0.9": "zh-CN", "zh-Hans-CN": "zh-CN", "en-US,en;q=0.8": "en", "": "zh-CN", "de": "zh-CN", "??": "zh-CN"} {
		if got := c.Match(header); got != want {
			t.Errorf("Match(%q) = %q, want %q", header, got, want)
		}
	}
}

// keyLiteral finds catalog keys written as string literals in Go code and
// {{.T "…"}} calls in templates.
var keyLiteral = regexp.MustCompile(`"((?:app|list|timeline|customers|import|layout|login|setup|home|users|user|roles|teams|audit|account|nav|field|action|flash|error|validation|http|settings|attachments)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)"`)

// notKeys are literals of that shape that are audit actions, permissions
// or file names, not catalog keys.
var notKeys = map[string]bool{"layout.html": true, "user.create": true, "user.update": true, "user.password": true,
	"user.activate": true, "user.deactivate": true, "user.password_rehash": true, "role.update": true, "users.manage": true, "roles.manage": true,
	"teams.manage": true, "audit.view": true, "team.create": true, "team.update": true,
	"attachments.limits": true} // a settings key (internal/settings)

func TestEveryKeyUsedInCodeExists(t *testing.T) {
	c := i18n.MustLoad()
	root := filepath.Join("..", "..")
	n := 0
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, "_test.go") || !(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".html")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range keyLiteral.FindAllStringSubmatch(string(data), -1) {
			// Permission names look like keys; a literal ending in _ is the
			// prefix of a key built at run time.
			if notKeys[m[1]] || identity.Known(identity.Permission(m[1])) || strings.HasSuffix(m[1], "_") {
				continue
			}
			n++
			if !c.Has(m[1]) {
				t.Errorf("%s uses catalog key %q, which is missing", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("found only %d key uses: the scan is broken", n)
	}
}
