package notify_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/timeline"
)

// recorder is a channel that remembers what it delivered and fails as told.
type recorder struct {
	mu    sync.Mutex
	got   map[int64]int // outbox id → deliveries
	fail  func(m *notify.Message) error
	calls atomic.Int64
}

func (r *recorder) Name() string { return "test" }

func (r *recorder) Deliver(ctx context.Context, m *notify.Message) (string, error) {
	r.calls.Add(1)
	if r.fail != nil {
		if err := r.fail(m); err != nil {
			return "", err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.got == nil {
		r.got = map[int64]int{}
	}
	r.got[m.ID]++
	return fmt.Sprintf("p-%d", m.ID), nil
}

func (r *recorder) count(id int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[id]
}

type fixture struct {
	d         *db.DB
	clock     *clock.Fake
	audit     *audit.Log
	timeline  *timeline.Log
	customers *customers.Store
	outbox    *notify.Outbox
	ch        *recorder
	customer  customers.Customer
}

func setup(t *testing.T, d *db.DB, o notify.Options) *fixture {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC))
	a := audit.New(d, clk)
	tl := timeline.New(d, clk)
	f := &fixture{d: d, clock: clk, audit: a, timeline: tl, customers: customers.NewStore(d, clk, a, tl), ch: &recorder{}}
	f.outbox = f.newOutbox(o)
	name, email := "李小红", "xiaohong@example.cn"
	var err error
	if f.customer, err = f.customers.Create(context.Background(), customers.Input{Name: &name, Email: &email}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) newOutbox(o notify.Options) *notify.Outbox {
	if o.Backoff == 0 {
		o.Backoff = time.Minute
	}
	out := notify.New(f.d, f.clock, f.audit, f.timeline, o)
	out.Register(f.ch)
	out.UseConsent(f.customers.MayReceive)
	return out
}

func (f *fixture) message(kind string) notify.Message {
	return notify.Message{Channel: "test", Kind: kind, CustomerID: f.customer.ID, Recipient: "xiaohong@example.cn", Subject: "您的工单已回复", Body: "你好"}
}

func (f *fixture) state(t *testing.T, id int64) notify.Message {
	t.Helper()
	m, err := f.outbox.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func drain(t *testing.T, o *notify.Outbox) int {
	t.Helper()
	total := 0
	for {
		n, err := o.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func TestOutboxRowCommitsWithItsChange(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, notify.Options{})
		ctx := context.Background()
		boom := errors.New("the change failed")
		err := d.WithTx(ctx, func(ctx context.Context) error {
			if _, err := f.outbox.Enqueue(ctx, f.message("ticket.reply")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, _ := f.outbox.List(ctx, notify.ListFilter{}); len(got) != 0 {
			t.Fatalf("a rolled-back change left %d outbox rows", len(got))
		}
		id, err := f.outbox.Enqueue(ctx, f.message("ticket.reply"))
		if err != nil {
			t.Fatal(err)
		}
		if n := drain(t, f.outbox); n != 1 {
			t.Fatalf("delivered %d rows, want 1", n)
		}
		m := f.state(t, id)
		if m.State != notify.StateSent || m.ProviderID != fmt.Sprintf("p-%d", id) || m.SentAt == nil || m.Attempts != 1 {
			t.Fatalf("after delivery: %+v", m)
		}
		page, err := f.timeline.List(ctx, f.customer.ID, nil, 20, "")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range page.Items {
			if e.Kind == "outbox.sent" && e.EntityID == fmt.Sprint(id) {
				found = true
			}
		}
		if !found {
			t.Fatalf("the delivery is not on the customer's timeline: %+v", page.Items)
		}
		if drain(t, f.outbox) != 0 || f.ch.count(id) != 1 {
			t.Fatalf("a sent row was delivered again: %d", f.ch.count(id))
		}
	})
}

func TestOutboxRetriesWithBackoffThenDeadLetters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, notify.Options{MaxAttempts: 3})
		ctx := context.Background()
		f.ch.fail = func(*notify.Message) error { return errors.New("451 try again later") }
		id, err := f.outbox.Enqueue(ctx, f.message("ticket.reply"))
		if err != nil {
			t.Fatal(err)
		}
		drain(t, f.outbox)
		m := f.state(t, id)
		if m.State != notify.StateQueued || m.Attempts != 1 || m.LastError != "451 try again later" {
			t.Fatalf("after one failure: %+v", m)
		}
		if !m.NextAt.Equal(f.clock.Now().Add(time.Minute)) {
			t.Fatalf("first retry at %v, want a minute later", m.NextAt)
		}
		if drain(t, f.outbox) != 0 {
			t.Fatal("retried before its time")
		}
		f.clock.Advance(time.Minute)
		drain(t, f.outbox)
		m = f.state(t, id)
		if m.Attempts != 2 || !m.NextAt.Equal(f.clock.Now().Add(2*time.Minute)) {
			t.Fatalf("second failure should wait twice as long: %+v", m)
		}
		f.clock.Advance(2 * time.Minute)
		drain(t, f.outbox)
		if m = f.state(t, id); m.State != notify.StateDead || m.Attempts != 3 {
			t.Fatalf("after MaxAttempts: %+v", m)
		}
		f.clock.Advance(24 * time.Hour)
		if drain(t, f.outbox) != 0 {
			t.Fatal("a dead row was tried again by itself")
		}
		if dead, _ := f.outbox.List(ctx, notify.ListFilter{State: notify.StateDead}); len(dead) != 1 || dead[0].ID != id {
			t.Fatalf("the dead letter is not listed: %+v", dead)
		}
		// The administrator fixes the channel and retries.
		f.ch.fail = nil
		if _, err := f.outbox.Retry(audit.WithActor(ctx, audit.Actor{Label: "admin"}), id); err != nil {
			t.Fatal(err)
		}
		drain(t, f.outbox)
		if m = f.state(t, id); m.State != notify.StateSent || f.ch.count(id) != 1 {
			t.Fatalf("after the retry: %+v (delivered %d)", m, f.ch.count(id))
		}
		if _, err := f.outbox.Retry(ctx, id); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("retrying a sent message: %v, want a conflict", err)
		}
		if _, err := f.outbox.Retry(ctx, id+1000); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("retrying a missing message: %v", err)
		}
	})
}

func TestOutboxPermanentErrorConsentAndUnknownChannel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, notify.Options{})
		ctx := context.Background()
		f.ch.fail = func(m *notify.Message) error {
			if m.Kind == "bad.address" {
				return notify.Permanent(errors.New("550 no such mailbox"))
			}
			return nil
		}
		badMsg := f.message("bad.address")
		badMsg.Transactional = true
		bad, _ := f.outbox.Enqueue(ctx, badMsg)
		// The customer opts out of "test" after the care message was
		// queued: asked at send time, it is not sent; a transactional
		// message (their own request's answer) still goes.
		care, _ := f.outbox.Enqueue(ctx, f.message("care.holiday"))
		answer := f.message("ticket.reply")
		answer.Transactional = true
		reply, _ := f.outbox.Enqueue(ctx, answer)
		if err := f.customers.SetConsent(ctx, f.customer.ID, "email", true, "phone"); err != nil {
			t.Fatal(err)
		}
		other := f.message("care.holiday")
		other.Channel = "email" // no such channel registered here
		noChannel, _ := f.outbox.Enqueue(ctx, other)
		// The consent check above is on channel "test"; opt out of that one.
		if _, err := d.W.ExecContext(ctx, `INSERT INTO customer_consents (customer_id, channel, opted_out, at, source) VALUES ($1, 'test', TRUE, $2, 'phone')`,
			f.customer.ID, db.Now(f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		drain(t, f.outbox)
		if m := f.state(t, bad); m.State != notify.StateDead || m.Attempts != 1 {
			t.Fatalf("a permanent refusal should be dead at once: %+v", m)
		}
		if m := f.state(t, care); m.State != notify.StateSuppressed || f.ch.count(care) != 0 {
			t.Fatalf("an opted-out customer got care outreach: %+v", m)
		}
		if m := f.state(t, reply); m.State != notify.StateSent {
			t.Fatalf("the transactional answer was not sent: %+v", m)
		}
		if m := f.state(t, noChannel); m.State != notify.StateQueued || m.LastError == "" {
			t.Fatalf("a message for a channel not configured should wait with a reason: %+v", m)
		}
	})
}

func TestOutboxDedupeKeyMakesOneRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, notify.Options{})
		ctx := context.Background()
		m := f.message("sla.warning")
		m.DedupeKey = "sla:42:first_response:warn"
		ids := make([]int64, 8)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				var err error
				if ids[i], err = f.outbox.Enqueue(ctx, m); err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] || id == 0 {
				t.Fatalf("one key made several rows: %v", ids)
			}
		}
		drain(t, f.outbox)
		if f.ch.count(ids[0]) != 1 || f.ch.calls.Load() != 1 {
			t.Fatalf("delivered %d times", f.ch.calls.Load())
		}
	})
}

// A server killed mid-delivery leaves its row claimed; when the lease runs
// out another server delivers it. This is the documented case that can
// send twice (the first server may have handed it over).
func TestOutboxLeaseOfADeadServerRunsOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, notify.Options{Name: "a", Lease: 5 * time.Minute})
		ctx := context.Background()
		id, _ := f.outbox.Enqueue(ctx, f.message("ticket.reply"))
		// Server a claims and dies: its channel never returns.
		stuck := make(chan struct{})
		release := make(chan struct{})
		f.ch.fail = func(*notify.Message) error { close(stuck); <-release; return nil }
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _, _ = f.outbox.RunOnce(cctx) }()
		<-stuck
		if m := f.state(t, id); m.State != notify.StateSending {
			t.Fatalf("claimed row: %+v", m)
		}
		b := f.newOutbox(notify.Options{Name: "b"})
		f.ch.fail = nil
		if n, _ := b.RunOnce(ctx); n != 0 {
			t.Fatal("server b took a row server a holds")
		}
		f.clock.Advance(5 * time.Minute)
		if n, _ := b.RunOnce(ctx); n != 1 {
			t.Fatalf("after the lease, b delivered %d rows", n)
		}
		if m := f.state(t, id); m.State != notify.StateSent {
			t.Fatalf("after b: %+v", m)
		}
		// a wakes up: it no longer holds the row and records nothing.
		cancel()
		close(release)
		<-done
		if m := f.state(t, id); m.State != notify.StateSent || m.ProviderID != fmt.Sprintf("p-%d", id) {
			t.Fatalf("the late server overwrote the outcome: %+v", m)
		}
	})
}

// A channel that hangs is cut at the deadline and retried; nothing waits
// for it but its own delivery.
func TestOutboxHangingChannelIsCutAndRetried(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, notify.Options{Timeout: 50 * time.Millisecond})
		ctx := context.Background()
		f.ch.fail = func(m *notify.Message) error {
			if m.Attempts == 1 {
				return context.DeadlineExceeded // what a hung connection's deadline returns
			}
			return nil
		}
		id, _ := f.outbox.Enqueue(ctx, f.message("ticket.reply"))
		drain(t, f.outbox)
		if m := f.state(t, id); m.State != notify.StateQueued || m.Attempts != 1 {
			t.Fatalf("after the hang: %+v", m)
		}
		f.clock.Advance(time.Minute)
		drain(t, f.outbox)
		if m := f.state(t, id); m.State != notify.StateSent {
			t.Fatalf("after the retry: %+v", m)
		}
	})
}

// Two servers on one database deliver a thousand messages between them,
// each exactly once.
func TestOutboxTwoServersDeliverEachRowOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, notify.Options{Name: "a", Batch: 50})
		ctx := context.Background()
		const n = 1000
		ids := make([]int64, 0, n)
		for i := range n {
			m := f.message("ticket.reply")
			m.Subject = fmt.Sprint("第", i, "条")
			id, err := f.outbox.Enqueue(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		b := f.newOutbox(notify.Options{Name: "b", Batch: 50})
		var wg sync.WaitGroup
		var handled [2]int
		for i, o := range []*notify.Outbox{f.outbox, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k, err := o.RunOnce(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if k == 0 {
						return
					}
					handled[i] += k
				}
			}()
		}
		wg.Wait()
		if handled[0]+handled[1] != n {
			t.Fatalf("handled %v, want %d in all", handled, n)
		}
		for _, id := range ids {
			if c := f.ch.count(id); c != 1 {
				t.Fatalf("row %d delivered %d times", id, c)
			}
		}
		counts, _ := f.outbox.Counts(ctx)
		if counts[notify.StateSent] != n {
			t.Fatalf("counts %v", counts)
		}
	})
}

// A channel that defers (SMS quiet hours) holds the row until the time it
// names, and the attempt does not count: deferring is not failing.
func TestOutboxDeferredMessageWaitsWithoutSpendingAnAttempt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d, notify.Options{MaxAttempts: 2})
		ctx := context.Background()
		morning := f.clock.Now().Add(6 * time.Hour)
		f.ch.fail = func(*notify.Message) error {
			if now := f.clock.Now(); now.Before(morning) {
				return notify.Defer(now.Add(time.Hour), errors.New("quiet hours"))
			}
			return nil
		}
		id, err := f.outbox.Enqueue(ctx, f.message("ticket.reply"))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 { // more deferrals than MaxAttempts: none counts
			drain(t, f.outbox)
			m := f.state(t, id)
			if m.State != notify.StateQueued || m.Attempts != 0 || !m.NextAt.Equal(f.clock.Now().Add(time.Hour)) || m.LastError != "quiet hours" {
				t.Fatalf("deferred: %+v", m)
			}
			f.clock.Advance(time.Hour)
		}
		f.clock.Set(morning)
		drain(t, f.outbox)
		if m := f.state(t, id); m.State != notify.StateSent || m.Attempts != 1 || f.ch.count(id) != 1 {
			t.Fatalf("in the morning: %+v", m)
		}
	})
}
