package httpx

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/domain"
)

type probe struct {
	Name  string    `json:"name"`
	Count int       `json:"count"`
	At    time.Time `json:"at"`
	Items []struct {
		Phone string `json:"phone"`
	} `json:"items"`
}

func decode(t *testing.T, body string) error {
	t.Helper()
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	var p probe
	return Decode(r, &p)
}

// TestDecodeNamesEveryBadField: one answer names every wrongly typed field,
// every unknown field and a time that is not RFC 3339, whichever comes
// first in the body; encoding/json alone names one, or (for a time) none.
func TestDecodeNamesEveryBadField(t *testing.T) {
	for _, c := range []struct {
		body string
		want string // field=key, in body order
	}{
		{`{"kind": 5, "name": true, "at": 3}`, "kind=validation.unknown_field name=validation.type at=validation.datetime"},
		{`{"at": "yesterday", "count": "x"}`, "at=validation.datetime count=validation.type"},
		{`{"extra": 1, "more": 2}`, "extra=validation.unknown_field more=validation.unknown_field"},
		{`{"items": [{"phone": 1, "fax": "x"}], "name": "ok"}`, "items[0].phone=validation.type items[0].fax=validation.unknown_field"},
	} {
		var v *domain.ValidationError
		if err := decode(t, c.body); !errors.As(err, &v) {
			t.Errorf("%s: %v, want a validation error", c.body, err)
			continue
		}
		var got []string
		for _, f := range v.Fields {
			got = append(got, f.Field+"="+f.Key)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s: %q, want %q", c.body, strings.Join(got, " "), c.want)
		}
	}
	// What has no field to name keeps its own answer.
	for body, key := range map[string]string{`{"name": `: "error.json_syntax", `[1]`: "error.json_object", ``: "error.json_syntax", `null`: "error.json_null"} {
		var de *DecodeError
		if err := decode(t, body); !errors.As(err, &de) || de.Key != key {
			t.Errorf("%q: %v, want %s", body, err, key)
		}
	}
	if err := decode(t, `{"name": "a", "count": 2, "at": "2026-01-05T09:00:00+08:00"}`); err != nil {
		t.Errorf("good body: %v", err)
	}
}
