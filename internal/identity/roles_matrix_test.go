package identity_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

func TestPermissionGroupsCoverEveryPermissionOnce(t *testing.T) {
	var seen []identity.Permission
	for _, g := range identity.PermissionGroups {
		seen = append(seen, g.Permissions...)
	}
	all := slices.Clone(identity.AllPermissions)
	slices.Sort(all)
	slices.Sort(seen)
	if !slices.Equal(all, seen) {
		t.Fatalf("groups hold %v, want %v", seen, all)
	}
	// Today: customers, tickets, surveys (view, manage), calendars, staff
	// and settings; not care…
	var shown []identity.Permission
	for _, g := range identity.AvailableGroups() {
		shown = append(shown, g.Permissions...)
	}
	if len(shown) != 20 || slices.Contains(shown, identity.CareView) || !slices.Contains(shown, identity.TicketsViewAll) || !slices.Contains(shown, identity.CalendarsManage) ||
		!slices.Contains(shown, identity.SurveysView) || slices.Contains(shown, identity.SurveysApprove) {
		t.Fatalf("available: %v", shown)
	}
}

func TestUpdateRolesSavesTheMatrixKeepingHiddenPermissions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _, a := newStore(t, d)
		ctx := context.Background()
		agent, _ := s.GetRole(ctx, "agent")
		quality, _ := s.GetRole(ctx, "quality")
		if !slices.Contains(agent.Permissions, identity.TicketsView) {
			t.Fatal("the agent role lost tickets.view before the test")
		}
		// The editor shows the available permissions; the agent may now
		// import, and loses edit; quality is unchanged.
		changed, err := s.UpdateRoles(ctx, []identity.RoleChange{
			{Key: "agent", Version: agent.Version, Permissions: []identity.Permission{identity.CustomersView, identity.CustomersContactReveal, identity.CustomersImport, identity.TicketsView, identity.TicketsEdit, identity.SurveysView}},
			{Key: "quality", Version: quality.Version, Permissions: []identity.Permission{identity.CustomersView, identity.TicketsView, identity.TicketsViewAll, identity.SurveysView}},
		})
		if err != nil || !slices.Equal(changed, []string{"agent"}) {
			t.Fatalf("changed %v, %v", changed, err)
		}
		agent2, _ := s.GetRole(ctx, "agent")
		for _, p := range []identity.Permission{identity.TicketsView, identity.TicketsEdit, identity.CareView, identity.CareEdit, identity.ServiceView, identity.SurveysView, identity.CustomersImport} {
			if !slices.Contains(agent2.Permissions, p) {
				t.Errorf("agent lacks %s after the save: %v", p, agent2.Permissions)
			}
		}
		if slices.Contains(agent2.Permissions, identity.CustomersEdit) {
			t.Error("agent kept customers.edit")
		}
		if q, _ := s.GetRole(ctx, "quality"); q.Version != quality.Version {
			t.Error("an unchanged role was written")
		}
		page, _ := a.List(ctx, audit.Filter{Action: "role.update"})
		if len(page.Entries) != 1 || page.Entries[0].EntityID != "agent" {
			t.Fatalf("audit: %+v", page.Entries)
		}
		// A stale column fails the whole save: the other role is not changed.
		_, err = s.UpdateRoles(ctx, []identity.RoleChange{
			{Key: "quality", Version: quality.Version, Permissions: nil},
			{Key: "agent", Version: agent.Version, Permissions: []identity.Permission{identity.CustomersView}},
		})
		if !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale save: %v", err)
		}
		if q, _ := s.GetRole(ctx, "quality"); q.Version != quality.Version || !slices.Contains(q.Permissions, identity.CustomersView) {
			t.Fatalf("quality changed by a failed save: %+v", q)
		}
	})
}
