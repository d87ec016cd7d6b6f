package timeline

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEventJSONIsSnakeCase(t *testing.T) {
	at := time.Date(2024, 1, 14, 16, 0, 0, 0, time.UTC)
	rec := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	b, err := json.Marshal(Event{ID: 3, CustomerID: 1, At: at, RecordedAt: &rec, Kind: "customer.product_added", Actor: "李晓红",
		Key: "timeline.product_added", Params: map[string]any{"Product": "家用净水器", "ProductModel": "RO-500"}})
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{`"at":"2024-01-14T16:00:00Z"`, `"recorded_at":"2026-03-02T01:00:00Z"`, `"product":"家用净水器"`, `"product_model":"RO-500"`, `"summary_key"`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %s", got, want)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for k := range m {
		keys = append(keys, k)
	}
	for k := range m["params"].(map[string]any) {
		keys = append(keys, k)
	}
	for _, k := range keys {
		if k != strings.ToLower(k) {
			t.Errorf("key %q is not snake_case: %s", k, got)
		}
	}
	if b, _ := json.Marshal(Event{At: at}); strings.Contains(string(b), "recorded_at") || strings.Contains(string(b), "params") {
		t.Errorf("empty fields written: %s", b)
	}
}

func TestIsContact(t *testing.T) {
	for kind, want := range map[string]bool{"contact.logged": true, "ticket.opened": true, "care.recorded": true,
		"customer.updated": false, "customer.product_added": false, "customer.consent": false} {
		if IsContact(kind) != want {
			t.Errorf("IsContact(%q) = %v", kind, !want)
		}
	}
}
