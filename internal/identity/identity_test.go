package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// cheap keeps tests fast; production uses DefaultHashParams.
var cheap = identity.HashParams{Time: 1, Memory: 1024, Threads: 1}

func newStore(t *testing.T, d *db.DB) (*identity.Store, *clock.Fake, *audit.Log) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 5, 6, 9, 0, 0, 0, time.UTC))
	a := audit.New(d, clk)
	s := identity.NewStore(d, clk, a, identity.Options{Hash: cheap})
	if err := s.EnsureDefaultRoles(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, clk, a
}

func fieldKeys(err error) map[string]string {
	var v *domain.ValidationError
	out := map[string]string{}
	if errors.As(err, &v) {
		for _, f := range v.Fields {
			out[f.Field] = f.Key
		}
	}
	return out
}

func TestCreateUserValidatesAndAudits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, a := newStore(t, d)
		ctx := context.Background()
		u, err := s.CreateUser(ctx, identity.NewUser{Email: " Wang.Fang@Example.com ", Name: "王芳", Password: "correct horse battery", Roles: []string{"agent", "quality"}})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "wang.fang@example.com" || u.Locale != "zh-CN" || !u.Active || len(u.Roles) != 2 {
			t.Fatalf("user = %+v", u)
		}
		_, err = s.CreateUser(ctx, identity.NewUser{Email: "WANG.FANG@example.com", Name: "x", Password: "correct horse battery", Roles: []string{"agent"}})
		if fieldKeys(err)["email"] != "validation.email_taken" {
			t.Fatalf("duplicate email err = %v", err)
		}
		_, err = s.CreateUser(ctx, identity.NewUser{Email: "not-an-email", Name: "", Password: "short", Roles: nil})
		keys := fieldKeys(err)
		for field, key := range map[string]string{"email": "validation.email", "name": "validation.required", "password": "validation.password_short", "roles": "validation.required"} {
			if keys[field] != key {
				t.Errorf("field %s: key %q, want %q (all: %v)", field, keys[field], key, keys)
			}
		}
		_, err = s.CreateUser(ctx, identity.NewUser{Email: "b@example.com", Name: "B", Password: "correct horse battery", Roles: []string{"wizard"}})
		if fieldKeys(err)["roles"] != "validation.unknown_role" {
			t.Fatalf("unknown role err = %v", err)
		}
		// The failed creation left nothing behind.
		if n, _ := s.CountUsers(ctx); n != 1 {
			t.Fatalf("users = %d, want 1", n)
		}
		p, _ := a.List(ctx, audit.Filter{Entity: "user"})
		if len(p.Entries) != 1 || p.Entries[0].Action != "user.create" {
			t.Fatalf("audit = %+v", p.Entries)
		}
	})
}

func TestAuthenticateAndThrottle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, clk, _ := newStore(t, d)
		ctx := context.Background()
		if _, err := s.CreateUser(ctx, identity.NewUser{Email: "li@example.com", Name: "李雷", Password: "correct horse battery", Roles: []string{"agent"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "LI@example.com", "correct horse battery", "1.2.3.4"); err != nil {
			t.Fatalf("good password: %v", err)
		}
		if _, err := s.Authenticate(ctx, "nobody@example.com", "x", "1.2.3.4"); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("unknown user err = %v", err)
		}
		for i := 0; i < 5; i++ {
			if _, err := s.Authenticate(ctx, "li@example.com", "wrong", "1.2.3.4"); !errors.Is(err, identity.ErrBadCredentials) {
				t.Fatalf("try %d err = %v", i, err)
			}
		}
		_, err := s.Authenticate(ctx, "li@example.com", "correct horse battery", "1.2.3.4")
		var th *identity.ThrottledError
		if !errors.As(err, &th) || th.RetryAfter <= 0 || th.RetryAfter > 15*time.Minute {
			t.Fatalf("after 5 failures err = %v", err)
		}
		clk.Advance(15 * time.Minute)
		if _, err := s.Authenticate(ctx, "li@example.com", "correct horse battery", "1.2.3.4"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func TestSessionsExpireAndEndOnDeactivation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, clk, _ := newStore(t, d)
		ctx := context.Background()
		u, err := s.CreateUser(ctx, identity.NewUser{Email: "zhao@example.com", Name: "赵", Password: "correct horse battery", Roles: []string{"supervisor"}})
		if err != nil {
			t.Fatal(err)
		}
		sid, err := s.CreateSession(ctx, u.ID, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.SessionPrincipal(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		if !p.Can(identity.TicketsAssign) || p.Can(identity.UsersManage) || !p.Can(identity.Authenticated) {
			t.Fatalf("supervisor permissions wrong: %v", p.Permissions())
		}
		// Idle expiry.
		clk.Advance(s.SessionIdle())
		if _, err := s.SessionPrincipal(ctx, sid); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("idle session err = %v", err)
		}
		// Use keeps a session alive; the absolute limit still ends it.
		sid, _ = s.CreateSession(ctx, u.ID, "", "")
		for i := 0; i < 15; i++ { // 165 h, under the 168 h limit
			clk.Advance(11 * time.Hour)
			if _, err := s.SessionPrincipal(ctx, sid); err != nil {
				t.Fatalf("active session ended after %d h: %v", (i+1)*11, err)
			}
		}
		clk.Advance(11 * time.Hour)
		if _, err := s.SessionPrincipal(ctx, sid); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("session past 7 days err = %v", err)
		}
		// Deactivation stops sessions and tokens at once.
		sid, _ = s.CreateSession(ctx, u.ID, "", "")
		_, secret, err := s.CreateToken(ctx, u.ID, "erp")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenPrincipal(ctx, secret); err != nil {
			t.Fatal(err)
		}
		off := false
		if _, err := s.UpdateUser(ctx, u.ID, identity.UserPatch{Active: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionPrincipal(ctx, sid); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("session of deactivated user err = %v", err)
		}
		if _, err := s.TokenPrincipal(ctx, secret); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("token of deactivated user err = %v", err)
		}
		if _, err := s.Authenticate(ctx, "zhao@example.com", "correct horse battery", "x"); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("deactivated sign-in err = %v", err)
		}
	})
}

func TestPasswordChangeEndsSessionsAndTokensRevoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, _ := newStore(t, d)
		ctx := context.Background()
		u, _ := s.CreateUser(ctx, identity.NewUser{Email: "q@example.com", Name: "Q", Password: "correct horse battery", Roles: []string{"agent"}})
		sid, _ := s.CreateSession(ctx, u.ID, "", "")
		if err := s.SetPassword(ctx, u.ID, "another long password"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SessionPrincipal(ctx, sid); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("session after password change err = %v", err)
		}
		if _, err := s.Authenticate(ctx, "q@example.com", "another long password", ""); err != nil {
			t.Fatal(err)
		}
		tok, secret, _ := s.CreateToken(ctx, u.ID, "shop")
		if err := s.RevokeToken(ctx, u.ID+1, tok.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("revoking another user's token err = %v", err)
		}
		if err := s.RevokeToken(ctx, u.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TokenPrincipal(ctx, secret); !errors.Is(err, identity.ErrNoSession) {
			t.Fatalf("revoked token err = %v", err)
		}
		list, _ := s.ListTokens(ctx, u.ID)
		if len(list) != 1 || list[0].RevokedAt == nil {
			t.Fatalf("tokens = %+v", list)
		}
	})
}

func TestRolesAreEditableAndVersioned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, _ := newStore(t, d)
		ctx := context.Background()
		u, _ := s.CreateUser(ctx, identity.NewUser{Email: "r@example.com", Name: "R", Password: "correct horse battery", Roles: []string{"quality"}})
		role, _ := s.GetRole(ctx, "quality")
		perms := append(role.Permissions, identity.CustomersContactView)
		if _, err := s.UpdateRole(ctx, "quality", identity.RolePatch{Permissions: &perms, Version: role.Version}); err != nil {
			t.Fatal(err)
		}
		p, _ := s.PrincipalFor(ctx, u.ID)
		if !p.Can(identity.CustomersContactView) {
			t.Fatal("edited role did not grant the permission")
		}
		if _, err := s.UpdateRole(ctx, "quality", identity.RolePatch{Permissions: &perms, Version: role.Version}); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale update err = %v", err)
		}
		bad := []identity.Permission{"launch.missiles"}
		if _, err := s.UpdateRole(ctx, "quality", identity.RolePatch{Permissions: &bad}); fieldKeys(err)["permissions"] != "validation.unknown_permission" {
			t.Fatalf("unknown permission err = %v", err)
		}
		none := []identity.Permission{}
		if _, err := s.UpdateRole(ctx, "admin", identity.RolePatch{Permissions: &none}); fieldKeys(err)["permissions"] != "validation.admin_keeps_roles" {
			t.Fatalf("emptying admin err = %v", err)
		}
		// Teams.
		team, err := s.CreateTeam(ctx, "技术支持组")
		if err != nil {
			t.Fatal(err)
		}
		ids := []int64{team.ID}
		if _, err := s.UpdateUser(ctx, u.ID, identity.UserPatch{TeamIDs: &ids}); err != nil {
			t.Fatal(err)
		}
		team, _ = s.GetTeam(ctx, team.ID)
		if len(team.MemberIDs) != 1 || team.MemberIDs[0] != u.ID {
			t.Fatalf("team = %+v", team)
		}
		if _, err := s.CreateTeam(ctx, "技术支持组"); fieldKeys(err)["name"] != "validation.name_taken" {
			t.Fatalf("duplicate team err = %v", err)
		}
	})
}
