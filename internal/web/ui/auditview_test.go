package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/i18n"
)

// Every action a store records is in the audit filter and has its words in
// both languages (the catalog parity test checks the second language).
var recordRE = regexp.MustCompile(`(?:Record\(ctx, |action :?= |\]string\{true: |, false: )"([a-z_]+\.[a-z_]+)"`)

func TestEveryRecordedAuditActionHasWords(t *testing.T) {
	cat := i18n.MustLoad()
	found := map[string]bool{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range recordRE.FindAllStringSubmatch(string(src), -1) {
			found[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 25 {
		t.Fatalf("found only %d actions: the scan is broken", len(found))
	}
	for a := range found {
		if !slices.Contains(auditActions, a) {
			t.Errorf("action %s is recorded but not in auditActions", a)
		}
	}
	for _, a := range auditActions {
		if !cat.Has("audit.action." + a) {
			t.Errorf("action %s has no catalog key audit.action.%s", a, a)
		}
	}
	for _, e := range auditEntities {
		if !cat.Has("audit.entity." + e) {
			t.Errorf("entity %s has no catalog key", e)
		}
	}
}
