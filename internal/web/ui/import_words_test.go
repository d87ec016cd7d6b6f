package ui

import (
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/i18n"
)

// TestImportMessagesNameTheCheckboxes: a message that tells the user to tick
// a box of the import page quotes the box as the page labels it.
func TestImportMessagesNameTheCheckboxes(t *testing.T) {
	page, err := templateFS.ReadFile("templates/customers_import.html")
	if err != nil {
		t.Fatal(err)
	}
	cat := i18n.MustLoad()
	for _, c := range []struct{ message, label string }{
		{"import.phone_taken", "import.allow_duplicates"},
		{"import.email_taken", "import.allow_duplicates"},
		{"import.result_refused", "import.valid_only"},
	} {
		if !strings.Contains(string(page), `{{$.T "`+c.label+`"}}`) {
			t.Fatalf("the import page has no box labelled %s", c.label)
		}
		for _, lang := range i18n.Languages {
			label := cat.T(lang, c.label, nil)
			// The label's hint in parentheses is not part of the box's name.
			label, _, _ = strings.Cut(label, "（")
			label, _, _ = strings.Cut(label, " (")
			if msg := cat.T(lang, c.message, map[string]any{"Value": "x", "Number": "1"}); !strings.Contains(msg, "“"+label+"”") {
				t.Errorf("%s (%s) = %q does not quote the box “%s”", c.message, lang, msg, label)
			}
		}
	}
}
