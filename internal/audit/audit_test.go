package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
)

func TestRecordAndFilter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
		l := audit.New(d, clk)
		ctx := audit.WithActor(context.Background(), audit.Actor{UserID: 7, Label: "li@example.com", IP: "10.0.0.1", RequestID: "r1"})
		if err := l.Record(ctx, "user.create", "user", "42", map[string]audit.Change{"name": {After: "李雷"}}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		if err := l.Record(context.Background(), "session.cleanup", "session", "", nil); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		for i := 0; i < 5; i++ {
			if err := l.Record(ctx, "user.update", "user", "42", audit.Diff(map[string]any{"active": true}, map[string]any{"active": false})); err != nil {
				t.Fatal(err)
			}
		}
		all, err := l.List(context.Background(), audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Entries) != 7 || all.Entries[0].Action != "user.update" {
			t.Fatalf("got %d entries, first %+v", len(all.Entries), all.Entries[0])
		}
		first := all.Entries[6]
		if first.ActorID != 7 || first.IP != "10.0.0.1" || first.RequestID != "r1" || first.Changes["name"].After != "李雷" {
			t.Fatalf("first entry = %+v", first)
		}
		sys, _ := l.List(context.Background(), audit.Filter{Actor: "SYSTEM"})
		if len(sys.Entries) != 1 || sys.Entries[0].Action != "session.cleanup" {
			t.Fatalf("actor filter: %+v", sys.Entries)
		}
		win, _ := l.List(context.Background(), audit.Filter{From: time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC), To: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)})
		if len(win.Entries) != 1 {
			t.Fatalf("time filter: %d entries", len(win.Entries))
		}
		// Paging walks every entry exactly once.
		seen := map[int64]bool{}
		f := audit.Filter{Action: "user.", Limit: 2}
		for pages := 0; ; pages++ {
			p, err := l.List(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Entries {
				if seen[e.ID] {
					t.Fatalf("entry %d twice", e.ID)
				}
				seen[e.ID] = true
			}
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		if len(seen) != 6 {
			t.Fatalf("paged %d entries, want 6", len(seen))
		}
		if _, err := l.List(context.Background(), audit.Filter{Cursor: "%%%"}); !errors.Is(err, audit.ErrBadCursor) {
			t.Fatalf("bad cursor err = %v", err)
		}
	})
}

func TestRecordRollsBackWithTheChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		l := audit.New(d, clock.Real{})
		boom := errors.New("boom")
		err := d.WithTx(context.Background(), func(ctx context.Context) error {
			if err := l.Record(ctx, "team.create", "team", "1", nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		p, _ := l.List(context.Background(), audit.Filter{})
		if len(p.Entries) != 0 {
			t.Fatalf("entry survived a rolled-back change: %+v", p.Entries)
		}
	})
}
