package identity_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
)

// signedIn is a user with a live session and a live token, both already
// resolved once so that their principal sits in the cache.
type signedIn struct {
	user    identity.User
	session string
	token   string
}

func signIn(t *testing.T, s *identity.Store, email string, roles ...string) signedIn {
	t.Helper()
	ctx := context.Background()
	u, err := s.CreateUser(ctx, identity.NewUser{Email: email, Name: "N", Password: "correct horse battery", Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	sid, err := s.CreateSession(ctx, u.ID, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.CreateToken(ctx, u.ID, "erp")
	if err != nil {
		t.Fatal(err)
	}
	in := signedIn{user: u, session: sid, token: secret}
	for range 2 { // the second comes from the cache
		in.both(t, s, func(p *identity.Principal, err error) {
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	return in
}

// both resolves the session and the token and hands each result to check.
func (in signedIn) both(t *testing.T, s *identity.Store, check func(*identity.Principal, error)) {
	t.Helper()
	ctx := context.Background()
	check(s.SessionPrincipal(ctx, in.session))
	check(s.TokenPrincipal(ctx, in.token))
}

func TestCachedPrincipalsFollowEveryChangeOnTheNextRequest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, _ := newStore(t, d)
		// A second store on the same database is another server: it hears
		// of nothing but what the database says.
		other, _, _ := newStore(t, d)
		ctx := context.Background()
		admin := signIn(t, s, "admin@example.com", "admin")
		as := audit.WithActor(ctx, audit.Actor{UserID: admin.user.ID, Label: "admin"})
		in := signIn(t, s, "agent@example.com", "agent")
		signIn(t, other, "warm@example.com", "agent") // other's statements are prepared
		for _, st := range []*identity.Store{s, other} {
			in.both(t, st, func(p *identity.Principal, err error) {
				if err != nil || !p.Can(identity.CustomersEdit) {
					t.Fatalf("before any change: %v, %v", p, err)
				}
			})
		}
		expect := func(what string, ok func(*identity.Principal) bool) {
			t.Helper()
			for _, st := range []*identity.Store{s, other} {
				in.both(t, st, func(p *identity.Principal, err error) {
					t.Helper()
					if err != nil || !ok(p) {
						t.Fatalf("after %s: principal %+v, err %v", what, p, err)
					}
				})
			}
		}

		// A permission removed from a role the user holds.
		role, _ := s.GetRole(ctx, "agent")
		perms := slices.DeleteFunc(slices.Clone(role.Permissions), func(p identity.Permission) bool { return p == identity.CustomersEdit })
		if _, err := s.UpdateRole(as, "agent", identity.RolePatch{Permissions: &perms}); err != nil {
			t.Fatal(err)
		}
		expect("a role lost a permission", func(p *identity.Principal) bool {
			return !p.Can(identity.CustomersEdit) && p.Can(identity.CustomersView)
		})

		// The user's roles changed.
		roles := []string{"quality"}
		if _, err := s.UpdateUser(as, in.user.ID, identity.UserPatch{Roles: &roles}); err != nil {
			t.Fatal(err)
		}
		expect("a change of roles", func(p *identity.Principal) bool {
			return p.Can(identity.QualityEdit) && !p.Can(identity.TicketsEdit) && slices.Equal(p.Roles, []string{"quality"})
		})

		// A change of team, name and language.
		team, err := s.CreateTeam(as, "售后一组")
		if err != nil {
			t.Fatal(err)
		}
		teams, name := []int64{team.ID}, "新名字"
		if _, err := s.UpdateUser(as, in.user.ID, identity.UserPatch{TeamIDs: &teams, Name: &name}); err != nil {
			t.Fatal(err)
		}
		expect("a change of team and name", func(p *identity.Principal) bool { return p.Name == name })
		if err := s.SetLocale(ctx, in.user.ID, "en"); err != nil {
			t.Fatal(err)
		}
		expect("a change of language", func(p *identity.Principal) bool { return p.Locale == "en" })

		// A revoked token; the session stays.
		toks, _ := s.ListTokens(ctx, in.user.ID)
		if err := s.RevokeToken(as, in.user.ID, toks[0].ID); err != nil {
			t.Fatal(err)
		}
		for _, st := range []*identity.Store{s, other} {
			if _, err := st.TokenPrincipal(ctx, in.token); !errors.Is(err, identity.ErrNoSession) {
				t.Fatalf("revoked token: %v", err)
			}
			if _, err := st.SessionPrincipal(ctx, in.session); err != nil {
				t.Fatalf("session after revoking a token: %v", err)
			}
		}

		// A session signed out.
		if err := s.EndSession(ctx, in.session); err != nil {
			t.Fatal(err)
		}
		for _, st := range []*identity.Store{s, other} {
			if _, err := st.SessionPrincipal(ctx, in.session); !errors.Is(err, identity.ErrNoSession) {
				t.Fatalf("ended session: %v", err)
			}
		}
	})
}

func TestCachedPrincipalsEndWithPasswordAndDeactivation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, _ := newStore(t, d)
		other, _, _ := newStore(t, d)
		ctx := context.Background()
		signIn(t, other, "warm@example.com", "agent")
		gone := func(what string, in signedIn, tokenToo bool) {
			t.Helper()
			for _, st := range []*identity.Store{s, other} {
				if _, err := st.SessionPrincipal(ctx, in.session); !errors.Is(err, identity.ErrNoSession) {
					t.Fatalf("session after %s: %v", what, err)
				}
				_, err := st.TokenPrincipal(ctx, in.token)
				if tokenToo != errors.Is(err, identity.ErrNoSession) {
					t.Fatalf("token after %s: %v (should end: %v)", what, err, tokenToo)
				}
			}
		}

		// The user's own password change ends sessions, keeps tokens.
		in := signIn(t, s, "a@example.com", "agent")
		in.both(t, other, func(*identity.Principal, error) {})
		if err := s.SetPassword(ctx, in.user.ID, "another long password"); err != nil {
			t.Fatal(err)
		}
		gone("a password change", in, false)

		// An administrator's reset that revokes tokens ends both.
		in = signIn(t, s, "b@example.com", "agent")
		in.both(t, other, func(*identity.Principal, error) {})
		if n, err := s.ResetPassword(ctx, in.user.ID, "another long password", true); err != nil || n != 1 {
			t.Fatalf("reset: %d tokens, %v", n, err)
		}
		gone("a reset revoking tokens", in, true)

		// Deactivation ends both, and re-activation brings neither back.
		in = signIn(t, s, "c@example.com", "agent")
		in.both(t, other, func(*identity.Principal, error) {})
		off, on := false, true
		if _, err := s.UpdateUser(ctx, in.user.ID, identity.UserPatch{Active: &off}); err != nil {
			t.Fatal(err)
		}
		gone("deactivation", in, true)
		if _, err := s.UpdateUser(ctx, in.user.ID, identity.UserPatch{Active: &on}); err != nil {
			t.Fatal(err)
		}
		gone("re-activation", in, true)
	})
}
