package tickets_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/tickets"
)

// TestStaffProfileSetsSkillsAndDutyTogether: one call replaces both, a
// refused skill changes neither, an unknown user is not found.
func TestStaffProfileSetsSkillsAndDutyTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ctx := context.Background()
		got, err := f.store.SetStaffProfile(ctx, f.alice.UserID, tickets.SplitSkills("空调，售后政策、 空调\n冰箱"), false)
		if err != nil || !slices.Equal(got.Skills, []string{"售后政策", "冰箱", "空调"}) && !slices.Equal(got.Skills, []string{"冰箱", "售后政策", "空调"}) || got.OnDuty {
			t.Fatalf("profile: %+v %v", got, err)
		}
		long := "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一"
		if _, err := f.store.SetStaffProfile(ctx, f.alice.UserID, []string{"新技能", long}, true); !isInvalid(err, "skills") {
			t.Fatalf("a long skill: %v", err)
		}
		again, _ := f.store.StaffProfile(ctx, f.alice.UserID)
		if again.OnDuty || len(again.Skills) != 3 {
			t.Fatalf("a refused profile changed something: %+v", again)
		}
		if _, err := f.store.StaffProfile(ctx, 999999); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		var n int
		if err := d.R.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action IN ('staff.skills', 'staff.on_duty') AND entity_id = $1`,
			fmt.Sprint(f.alice.UserID)).Scan(&n); err != nil || n != 2 {
			t.Fatalf("audit entries: %d %v", n, err)
		}
	})
}
