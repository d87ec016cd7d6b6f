package identity

import (
	"sync"
	"time"

	"github.com/careloop/careloop/internal/clock"
)

// Throttle counts failed sign-ins per account and per client address within
// a window. It lives in the process: with several servers each counts its own
// share, which still bounds guessing to a few tries per minute per server.
type Throttle struct {
	clock      clock.Clock
	Window     time.Duration
	PerAccount int
	PerIP      int

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewThrottle allows 5 failures per account and 30 per address in 15 minutes.
func NewThrottle(c clock.Clock) *Throttle {
	return &Throttle{clock: c, Window: 15 * time.Minute, PerAccount: 5, PerIP: 30, failures: map[string][]time.Time{}}
}

// Blocked tells how long the account or address must wait, or 0.
func (t *Throttle) Blocked(account, ip string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	wait := t.waitLocked("a:"+account, t.PerAccount, now)
	if w := t.waitLocked("i:"+ip, t.PerIP, now); w > wait {
		wait = w
	}
	return wait
}

func (t *Throttle) waitLocked(key string, limit int, now time.Time) time.Duration {
	fs := t.recentLocked(key, now)
	if len(fs) < limit {
		return 0
	}
	// Blocked until the oldest failure that keeps the count at the limit
	// leaves the window.
	return fs[len(fs)-limit].Add(t.Window).Sub(now)
}

func (t *Throttle) recentLocked(key string, now time.Time) []time.Time {
	fs := t.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= t.Window {
		i++
	}
	if i > 0 {
		fs = append(fs[:0], fs[i:]...)
		if len(fs) == 0 {
			delete(t.failures, key)
		} else {
			t.failures[key] = fs
		}
	}
	return fs
}

// Fail records a failed sign-in.
func (t *Throttle) Fail(account, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	for _, k := range []string{"a:" + account, "i:" + ip} {
		t.failures[k] = append(t.recentLocked(k, now), now)
	}
}

// Succeed clears the account's failures.
func (t *Throttle) Succeed(account string) {
	t.mu.Lock()
	delete(t.failures, "a:"+account)
	t.mu.Unlock()
}
