package demo_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/testkit"
)

// TestDemoSurveys: the demo company shows a happy answer, an unhappy one
// with an open follow-up for the service desk's supervisor, and a survey
// on its way; seeding twice adds nothing.
func TestDemoSurveys(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		if err := demo.Seed(ctx, k.App.Identity); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			name, email := fmt.Sprintf("演示客户%d", i), fmt.Sprintf("demo%d@example.com", i)
			if _, err := k.App.Customers.Create(ctx, customers.Input{Name: &name, Email: &email}); err != nil {
				t.Fatal(err)
			}
		}
		stores := demo.SurveyStores{DB: k.App.DB, Identity: k.App.Identity, Tickets: k.App.Tickets, Surveys: k.App.Surveys}
		for range 2 {
			if err := demo.SeedSurveys(ctx, stores); err != nil {
				t.Fatal(err)
			}
		}
		count := func(q string) int {
			t.Helper()
			var n int
			if err := k.App.DB.R.QueryRowContext(ctx, q).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(`SELECT COUNT(*) FROM surveys`); n != 3 {
			t.Fatalf("%d surveys, want 3", n)
		}
		if count(`SELECT COUNT(*) FROM surveys WHERE csat = 5 AND comment <> ''`) != 1 || count(`SELECT COUNT(*) FROM surveys WHERE csat = 2`) != 1 ||
			count(`SELECT COUNT(*) FROM surveys WHERE state = 'planned' AND answered_at IS NULL`) != 1 {
			t.Fatal("the demo surveys are not a 5, a 2 and one on its way")
		}
		sup, err := k.App.Identity.GetUserByEmail(ctx, "supervisor@demo.careloop.cn")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := k.App.Identity.PrincipalFor(ctx, sup.ID)
		fus, err := k.App.Surveys.FollowUps(ctx, p, surveys.FollowUpFilter{AssigneeID: sup.ID, State: surveys.FollowUpOpen})
		if err != nil || len(fus) != 1 {
			t.Fatalf("the supervisor's open follow-ups: %+v %v", fus, err)
		}
	})
}
