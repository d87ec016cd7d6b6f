package timeline

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"
)

// TestEventJSONHasSnakeCaseKeysOnly: the API's timeline shows no Go or
// template names ("Channel", "ProductName", "CustomerID"), at any depth.
func TestEventJSONHasSnakeCaseKeysOnly(t *testing.T) {
	rec := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	page := Page{Items: []Event{{ID: 1, CustomerID: 2, At: rec.AddDate(0, -9, 0), RecordedAt: &rec, Kind: "customer.product_added",
		ActorID: 3, Actor: "王磊", Key: "timeline.product_added",
		Params: map[string]any{"Product": "净水器", "ProductName": "RO-500", "Serial": "SN-1", "Channel": "phone", "Note": "x"},
		Entity: "customer_product", EntityID: "7"}}, NextCursor: "c"}
	b, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	n := 0
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				n++
				if !snake.MatchString(k) {
					t.Errorf("key %q is not snake_case in %s", k, b)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	if n < 15 {
		t.Fatalf("only %d keys in %s", n, b)
	}
}
