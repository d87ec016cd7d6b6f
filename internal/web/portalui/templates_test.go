package portalui

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/tickets"
)

// The portal's words come from the catalog, as the staff pages' do:
// outside {{…}} a template holds only markup and symbols.
var (
	actionRE   = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tagRE      = regexp.MustCompile(`(?s)<[^>]*>`)
	readAttrRE = regexp.MustCompile(`(?i)\b(placeholder|title|alt|aria-label|data-confirm)="([^"]*)"`)
	letterRE   = regexp.MustCompile(`\p{L}`)
)

func TestPortalTemplatesHaveNoLiteralText(t *testing.T) {
	names, err := fs.Glob(TemplateFS(), "templates/*.html")
	if err != nil || len(names) < 8 {
		t.Fatalf("templates: %v %v", names, err)
	}
	for _, name := range names {
		src, _ := fs.ReadFile(TemplateFS(), name)
		stripped := actionRE.ReplaceAllString(string(src), "§")
		for _, m := range readAttrRE.FindAllStringSubmatch(stripped, -1) {
			if letterRE.MatchString(m[2]) {
				t.Errorf("%s: attribute %s=%q is literal text; use the catalog", name, m[1], m[2])
			}
		}
		for _, w := range strings.Fields(tagRE.ReplaceAllString(stripped, " ")) {
			if letterRE.MatchString(w) {
				t.Errorf("%s: literal text %q; use the catalog", name, w)
			}
		}
	}
}

// Keys built at run time: every state in the customer's words, every kind
// of request, every refusal of a link.
func TestPortalWordsForEveryStateAndType(t *testing.T) {
	cat := i18n.MustLoad()
	var keys []string
	for _, s := range tickets.States {
		keys = append(keys, "portal.state."+s)
	}
	for _, ty := range append(append([]string{}, tickets.Types...), portal.RequestTypes...) {
		keys = append(keys, "portal.type."+ty)
	}
	for _, p := range []string{"used", "expired", "unknown"} {
		keys = append(keys, "portal.auth."+p, "portal.auth."+p+"_title")
	}
	for _, f := range []string{"created", "replied", "confirmed", "reopened", "signed_out"} {
		keys = append(keys, "portal.flash."+f)
	}
	keys = append(keys, "portal.products.cover_warranty", "portal.products.cover_contract")
	for _, k := range keys {
		if !cat.Has(k) {
			t.Errorf("no catalog key %s", k)
		}
	}
}
