package identity_test

import (
	"context"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
)

func TestOldHashesVerifyAndAreUpgradedAtSignIn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Older parameters, as the 64 MiB ones were (small here: the
		// mechanism does not depend on the size).
		old := identity.HashParams{Time: 2, Memory: 2048, Threads: 2}
		_, clk, a := newStore(t, d)
		before := identity.NewStore(d, clk, a, identity.Options{Hash: old})
		u, err := before.CreateUser(ctx, identity.NewUser{Email: "old@example.com", Name: "Old", Password: "correct horse battery", Roles: []string{"agent"}})
		if err != nil {
			t.Fatal(err)
		}
		stored := func() string {
			var h string
			if err := d.R.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		if h := stored(); !strings.Contains(h, "$m=2048,t=2,p=2$") {
			t.Fatalf("old hash = %s", h)
		}
		s := identity.NewStore(d, clk, a, identity.Options{Hash: cheap})
		sid, _ := s.CreateSession(ctx, u.ID, "", "")
		if _, err := s.Authenticate(ctx, "old@example.com", "wrong password!", ""); err == nil {
			t.Fatal("a wrong password signed in")
		}
		if h := stored(); !strings.Contains(h, "$m=2048,t=2,p=2$") {
			t.Fatalf("a failed sign-in rehashed: %s", h)
		}
		if _, err := s.Authenticate(ctx, "old@example.com", "correct horse battery", ""); err != nil {
			t.Fatalf("old hash did not verify: %v", err)
		}
		h := stored()
		if !strings.Contains(h, "$m=1024,t=1,p=1$") {
			t.Fatalf("hash after sign-in = %s, want the new parameters", h)
		}
		if _, err := s.Authenticate(ctx, "old@example.com", "correct horse battery", ""); err != nil || stored() != h {
			t.Fatalf("second sign-in: %v (hash changed again: %v)", err, stored() != h)
		}
		// The upgrade is no password change: the session lives on.
		if _, err := s.SessionPrincipal(ctx, sid); err != nil {
			t.Fatalf("session after the upgrade: %v", err)
		}
		p, _ := a.List(ctx, audit.Filter{Entity: "user"})
		n := 0
		for _, e := range p.Entries {
			if e.Action == "user.password_rehash" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d rehash audit entries, want 1", n)
		}
	})
}

// BenchmarkHash times one argon2id hash with the default parameters (the
// figure docs/performance.md records) and with the former 64 MiB ones.
func BenchmarkHash(b *testing.B) {
	for name, p := range map[string]identity.HashParams{
		"default":    identity.DefaultHashParams,
		"former64MB": {Time: 3, Memory: 64 * 1024, Threads: 2},
	} {
		b.Run(name, func(b *testing.B) {
			h := identity.NewHasher(p, 1)
			for b.Loop() {
				if _, err := h.Hash(context.Background(), "correct horse battery"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
