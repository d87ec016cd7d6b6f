package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/webhooks"
)

// received is one request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// receiver is a loopback webhook receiver whose answers a test chooses.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	next []int // statuses to answer, in order; 200 once used up
	// hang, while open, keeps a request waiting (a slow receiver) until
	// the caller gives up.
	hang chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{Header: r.Header.Clone(), Body: body})
		status := http.StatusOK
		if len(rc.next) > 0 {
			status, rc.next = rc.next[0], rc.next[1:]
		}
		hang := rc.hang
		rc.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"ok": %t}`, status < 300)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// fakeResolver answers names from a map (the test's DNS).
type fakeResolver struct {
	mu    sync.Mutex
	names map[string][]netip.Addr
}

func (f *fakeResolver) set(name string, addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names == nil {
		f.names = map[string][]netip.Addr{}
	}
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	f.names[name] = as
}

func (f *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if as, ok := f.names[strings.ToLower(host)]; ok {
		return as, nil
	}
	return nil, fmt.Errorf("no such host %s", host)
}

// subscribe creates a subscription through the API and returns it with
// its secret.
func subscribe(t *testing.T, k *testkit.Kit, token string, body map[string]any) webhooks.Subscription {
	t.Helper()
	res := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/webhooks", Token: token, Body: body})
	if res.Status != http.StatusCreated {
		t.Fatalf("subscribe: %d %s", res.Status, res.Body)
	}
	var sub webhooks.Subscription
	res.JSON(t, &sub)
	if sub.Secret == "" {
		t.Fatalf("no secret in the creation's answer: %s", res.Body)
	}
	return sub
}

// newCustomer registers a customer through the store.
func newCustomer(t *testing.T, k *testkit.Kit, name string) customers.Customer {
	t.Helper()
	c, err := k.App.Customers.Create(context.Background(), customers.Input{Name: &name, Phones: &[]string{"13800138000"}, AllowDuplicate: true})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	return c
}

// newTicket opens a ticket through the API as the agent.
func newTicket(t *testing.T, k *testkit.Kit, token string, customerID int64, subject string) int64 {
	t.Helper()
	res := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/tickets", Token: token, Body: map[string]any{
		"customer_id": customerID, "type": "fault", "channel": "phone", "subject": subject}})
	if res.Status != http.StatusCreated {
		t.Fatalf("create ticket: %d %s", res.Status, res.Body)
	}
	var tk struct {
		ID int64 `json:"id"`
	}
	res.JSON(t, &tk)
	return tk.ID
}

// deliver runs the outbox once.
func deliver(t *testing.T, k *testkit.Kit) int {
	t.Helper()
	n, err := k.App.Outbox.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	return n
}

// deliveries reads a subscription's deliveries through the API.
func deliveries(t *testing.T, k *testkit.Kit, token string, subID int64) []webhooks.Delivery {
	t.Helper()
	res := k.Do(testkit.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/webhooks/%d/deliveries", subID), Token: token})
	if res.Status != http.StatusOK {
		t.Fatalf("deliveries: %d %s", res.Status, res.Body)
	}
	var page struct {
		Items []webhooks.Delivery `json:"items"`
	}
	res.JSON(t, &page)
	return page.Items
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("payload %q: %v", b, err)
	}
	return m
}
