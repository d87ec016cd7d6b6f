package settings_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/settings"
)

type limits struct {
	MaxMB int      `json:"max_mb"`
	Types []string `json:"types"`
}

func TestGetSetAndAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := audit.WithActor(context.Background(), audit.Actor{UserID: 7, Label: "admin@example.com"})
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		log := audit.New(d, clk)
		s := settings.New(d, clk, log)

		got := limits{MaxMB: 50, Types: []string{"image/png"}}
		found, err := s.Get(ctx, "test.limits", &got)
		if err != nil || found || got.MaxMB != 50 {
			t.Fatalf("absent: found=%v err=%v got=%+v", found, err, got)
		}
		if _, err := s.Set(ctx, "test.limits", limits{MaxMB: 10}, 3); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("create with version 3: %v", err)
		}
		v, err := s.Set(ctx, "test.limits", map[string]any{"max_mb": 10}, 0)
		if err != nil || v != 1 {
			t.Fatalf("create: v=%d err=%v", v, err)
		}
		got = limits{MaxMB: 50, Types: []string{"image/png"}}
		found, err = s.Get(ctx, "test.limits", &got)
		if err != nil || !found || got.MaxMB != 10 || len(got.Types) != 1 {
			t.Fatalf("after set: found=%v err=%v got=%+v (absent fields keep their defaults)", found, err, got)
		}
		if _, err := s.Set(ctx, "test.limits", limits{MaxMB: 20}, 0); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("create twice: %v", err)
		}
		if v, err = s.Set(ctx, "test.limits", limits{MaxMB: 20}, 1); err != nil || v != 2 {
			t.Fatalf("update: v=%d err=%v", v, err)
		}
		if _, err := s.Set(ctx, "test.limits", limits{MaxMB: 30}, 1); !errors.Is(err, domain.ErrStale) {
			t.Fatalf("stale update: %v", err)
		}
		e, found, err := s.Entry(ctx, "test.limits")
		if err != nil || !found || e.Version != 2 || e.UpdatedBy != 7 || !e.UpdatedAt.Equal(clk.Now()) {
			t.Fatalf("entry = %+v found=%v err=%v", e, found, err)
		}
		page, err := log.List(ctx, audit.Filter{Action: "setting.update"})
		if err != nil || len(page.Entries) != 2 {
			t.Fatalf("audit: %v %+v", err, page)
		}
		last := page.Entries[0]
		before, _ := json.Marshal(last.Changes["value"].Before)
		after, _ := json.Marshal(last.Changes["value"].After)
		if last.Entity != "setting" || last.EntityID != "test.limits" || last.ActorID != 7 ||
			string(before) != `{"max_mb":10}` || string(after) != `{"max_mb":20,"types":null}` {
			t.Fatalf("audit entry = %+v (before %s, after %s)", last, before, after)
		}
		if first := page.Entries[1]; first.Changes["value"].Before != nil {
			t.Fatalf("creation's before = %v", first.Changes["value"].Before)
		}
	})
}

func TestValidation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Now())
		s := settings.New(d, clk, audit.New(d, clk))
		for _, key := range []string{"", "Upper.case", "with space", string(make([]byte, 101))} {
			var v *domain.ValidationError
			if _, err := s.Set(ctx, key, 1, 0); !errors.As(err, &v) || v.Fields[0].Key != settings.KeyBadKey {
				t.Errorf("key %q: %v", key, err)
			}
		}
		var v *domain.ValidationError
		if _, err := s.Set(ctx, "x", make([]byte, settings.MaxValueBytes), 0); !errors.As(err, &v) || v.Fields[0].Key != settings.KeyValueLarge {
			t.Errorf("large value: %v", err)
		}
		if _, err := s.Set(ctx, "x", func() {}, 0); !errors.As(err, &v) || v.Fields[0].Key != settings.KeyBadValue {
			t.Errorf("bad value: %v", err)
		}
	})
}

// Two servers on one database: the writer sees its change at once, the other
// within the TTL; a transaction sees its own change.
func TestCacheAcrossServers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
		log := audit.New(d, clk)
		a, b := settings.New(d, clk, log), settings.New(d, clk, log)
		read := func(s *settings.Store) int {
			t.Helper()
			n := 50
			if _, err := s.Get(ctx, "k", &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if read(a) != 50 || read(b) != 50 {
			t.Fatal("defaults")
		}
		if _, err := a.Set(ctx, "k", 10, 0); err != nil {
			t.Fatal(err)
		}
		if got := read(a); got != 10 {
			t.Fatalf("writer reads %d", got)
		}
		if got := read(b); got != 50 {
			t.Fatalf("other server reads %d before the TTL: its absent value should be cached", got)
		}
		clk.Advance(settings.DefaultTTL)
		if got := read(b); got != 10 {
			t.Fatalf("other server reads %d after the TTL", got)
		}
		err := d.WithTx(ctx, func(ctx context.Context) error {
			if _, err := b.Set(ctx, "k", 20, 1); err != nil {
				return err
			}
			n := 0
			if _, err := a.Get(ctx, "k", &n); err != nil || n != 20 {
				t.Errorf("inside the transaction: %d %v", n, err)
			}
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("no rollback")
		}
		clk.Advance(settings.DefaultTTL)
		if got := read(a); got != 10 {
			t.Fatalf("after rollback: %d", got)
		}
	})
}
