package ui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// User-visible text must come from the catalog: outside {{…}} actions a
// template may hold only markup, punctuation and symbols, and attributes that
// people read (placeholder, title, alt, aria-label, data-confirm) must be
// actions too.
var (
	actionRE   = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tagRE      = regexp.MustCompile(`(?s)<[^>]*>`)
	readAttrRE = regexp.MustCompile(`(?i)\b(placeholder|title|alt|aria-label|data-confirm)="([^"]*)"`)
	letterRE   = regexp.MustCompile(`\p{L}`)
)

func literalText(src string) (attrs, words []string) {
	stripped := actionRE.ReplaceAllString(src, "§")
	for _, m := range readAttrRE.FindAllStringSubmatch(stripped, -1) {
		if letterRE.MatchString(m[2]) {
			attrs = append(attrs, m[1]+"="+m[2])
		}
	}
	// Script and style bodies are not text people read.
	for _, w := range strings.Fields(tagRE.ReplaceAllString(stripped, " ")) {
		if letterRE.MatchString(w) {
			words = append(words, w)
		}
	}
	return attrs, words
}

func TestTemplatesHaveNoLiteralText(t *testing.T) {
	names, err := fs.Glob(TemplateFS(), "templates/*.html")
	if err != nil || len(names) < 8 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, name := range names {
		src, _ := fs.ReadFile(TemplateFS(), name)
		attrs, words := literalText(string(src))
		for _, a := range attrs {
			t.Errorf("%s: attribute %s is literal text; use the catalog", name, a)
		}
		for _, w := range words {
			t.Errorf("%s: literal text %q; use the catalog", name, w)
		}
	}
}

func TestLiteralTextCheckCatchesText(t *testing.T) {
	attrs, words := literalText(`<p title="Hello">{{.T "x"}} 你好 <b>{{.Name}}</b> Save</p><input placeholder="{{.T "y"}}">`)
	if len(attrs) != 1 || len(words) != 2 || words[0] != "你好" || words[1] != "Save" {
		t.Fatalf("attrs %v words %v", attrs, words)
	}
}
