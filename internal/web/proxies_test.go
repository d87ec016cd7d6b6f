package web

import (
	"net/http"
	"testing"
)

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	ps, err := parseProxies([]string{"10.0.0.0/8", "192.168.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		peer, xff, want string
	}{
		{"203.0.113.9:5000", "1.2.3.4", "203.0.113.9"},             // untrusted peer: header ignored
		{"10.1.2.3:5000", "1.2.3.4", "1.2.3.4"},                    // trusted proxy
		{"10.1.2.3:5000", "6.6.6.6, 1.2.3.4, 10.9.9.9", "1.2.3.4"}, // right-most untrusted hop
		{"192.168.1.1:80", "", "192.168.1.1"},                      // no header
		{"10.1.2.3:5000", "garbage", "10.1.2.3"},
		{"[::ffff:10.0.0.1]:80", "2001:db8::1", "2001:db8::1"},
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := ps.ClientIP(r); got != c.want {
			t.Errorf("peer %s xff %q: %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
	if _, err := parseProxies([]string{"not-an-ip"}); err == nil {
		t.Fatal("a bad proxy was accepted")
	}
	var none proxies
	r, _ := http.NewRequest("GET", "/", nil)
	r.RemoteAddr, r.Header["X-Forwarded-For"] = "10.1.2.3:1", []string{"1.2.3.4"}
	if got := none.ClientIP(r); got != "10.1.2.3" {
		t.Fatalf("without trusted proxies: %s", got)
	}
}
