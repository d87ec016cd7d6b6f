package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

func as(u identity.User) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{UserID: u.ID, Label: u.Email})
}

func TestStaffManagersCannotGrantMoreThanTheyHold(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, _ := newStore(t, d)
		ctx := context.Background()
		admin, _ := s.CreateUser(ctx, identity.NewUser{Email: "admin@example.com", Name: "A", Password: "correct horse battery", Roles: []string{"admin"}})
		// A supervisor is allowed to manage staff.
		role, _ := s.GetRole(ctx, "supervisor")
		perms := append(role.Permissions, identity.UsersManage)
		if _, err := s.UpdateRole(as(admin), "supervisor", identity.RolePatch{Permissions: &perms}); err != nil {
			t.Fatal(err)
		}
		sup, _ := s.CreateUser(ctx, identity.NewUser{Email: "sup@example.com", Name: "S", Password: "correct horse battery", Roles: []string{"supervisor"}})
		// Agents: fine (a subset of the supervisor's permissions).
		agent, err := s.CreateUser(as(sup), identity.NewUser{Email: "agent@example.com", Name: "Ag", Password: "correct horse battery", Roles: []string{"agent"}})
		if err != nil {
			t.Fatalf("supervisor creating an agent: %v", err)
		}
		admins := []string{"admin"}
		if _, err := s.UpdateUser(as(sup), sup.ID, identity.UserPatch{Roles: &admins}); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("self-promotion to admin: %v", err)
		}
		if _, err := s.CreateUser(as(sup), identity.NewUser{Email: "x@example.com", Name: "X", Password: "correct horse battery", Roles: []string{"admin"}}); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("creating an admin: %v", err)
		}
		if err := s.SetPassword(as(sup), admin.ID, "hijacked password"); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("resetting the admin's password: %v", err)
		}
		if err := s.SetPassword(as(sup), agent.ID, "a new agent password"); err != nil {
			t.Fatalf("resetting an agent's password: %v", err)
		}
		if p, _ := s.PrincipalFor(ctx, sup.ID); p.Can(identity.RolesManage) {
			t.Fatal("the supervisor became an admin")
		}
	})
}

func TestTheLastAdministratorStays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, _ := newStore(t, d)
		ctx := context.Background()
		admin, _ := s.CreateUser(ctx, identity.NewUser{Email: "admin@example.com", Name: "A", Password: "correct horse battery", Roles: []string{"admin"}})
		agents := []string{"agent"}
		if _, err := s.UpdateUser(as(admin), admin.ID, identity.UserPatch{Roles: &agents}); fieldKeys(err)["roles"] != "validation.last_admin" {
			t.Fatalf("demoting the only admin: %v", err)
		}
		second, _ := s.CreateUser(ctx, identity.NewUser{Email: "b@example.com", Name: "B", Password: "correct horse battery", Roles: []string{"admin"}})
		if _, err := s.UpdateUser(as(admin), admin.ID, identity.UserPatch{Roles: &agents}); err != nil {
			t.Fatalf("demoting one of two admins: %v", err)
		}
		off := false
		if _, err := s.UpdateUser(ctx, second.ID, identity.UserPatch{Active: &off}); fieldKeys(err)["roles"] != "validation.last_admin" {
			t.Fatalf("deactivating the last admin: %v", err)
		}
		if u, _ := s.GetUser(ctx, second.ID); !u.Active {
			t.Fatal("the refused change was saved")
		}
	})
}

func TestConcurrentStaleWritesLoseCleanly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, _ := newStore(t, d)
		ctx := context.Background()
		team, _ := s.CreateTeam(ctx, "客服组")
		var wg sync.WaitGroup
		results := make(chan error, 20)
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, err := s.RenameTeam(ctx, team.ID, "客服组"+string(rune('A'+i)), team.Version)
				results <- err
			}(i)
		}
		wg.Wait()
		close(results)
		ok := 0
		for err := range results {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, domain.ErrStale):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d writers with the same version succeeded, want exactly 1", ok)
		}
		if got, _ := s.GetTeam(ctx, team.ID); got.Version != 2 {
			t.Fatalf("version %d, want 2", got.Version)
		}
	})
}

func TestParallelGuessesAreThrottled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, _ := newStore(t, d)
		ctx := context.Background()
		s.CreateUser(ctx, identity.NewUser{Email: "q@example.com", Name: "Q", Password: "correct horse battery", Roles: []string{"quality"}})
		var wg sync.WaitGroup
		var mu sync.Mutex
		tried := 0
		for i := 0; i < 60; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Authenticate(ctx, "q@example.com", "wrong guess", "10.0.0.9")
				if errors.Is(err, identity.ErrBadCredentials) {
					mu.Lock()
					tried++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if tried != 5 {
			t.Fatalf("%d guesses were checked, want 5 (the account limit)", tried)
		}
	})
}
