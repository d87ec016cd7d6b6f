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

// maxKeys bounds the memory of the throttle: past it, Begin sweeps out keys
// whose failures all left the window (random emails would grow it forever).
const maxKeys = 10000

// Begin checks the limits and, in the same step, counts this attempt as a
// failure until Succeed says otherwise. Checking and counting at once keeps
// a burst of parallel guesses from all passing the check before any of them
// is counted. It returns how long to wait when blocked (nothing counted),
// else 0 and the attempt's time for Succeed.
func (t *Throttle) Begin(account, ip string) (time.Duration, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	wait := t.waitLocked("a:"+account, t.PerAccount, now)
	if w := t.waitLocked("i:"+ip, t.PerIP, now); w > wait {
		wait = w
	}
	if wait > 0 {
		return wait, time.Time{}
	}
	if len(t.failures) > maxKeys {
		for k := range t.failures {
			t.recentLocked(k, now)
		}
	}
	for _, k := range []string{"a:" + account, "i:" + ip} {
		t.failures[k] = append(t.recentLocked(k, now), now)
	}
	return 0, now
}

// Succeed clears the account's failures and takes back the address's count
// of the attempt that began at at.
func (t *Throttle) Succeed(account, ip string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, "a:"+account)
	fs := t.failures["i:"+ip]
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Equal(at) {
			t.failures["i:"+ip] = append(fs[:i], fs[i+1:]...)
			break
		}
	}
	if len(t.failures["i:"+ip]) == 0 {
		delete(t.failures, "i:"+ip)
	}
}
