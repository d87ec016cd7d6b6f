package tickets

import (
	"context"
	"sync"
	"time"
)

// rulesTTL is how long the active routing rules read are used before they
// are read again: routing runs in every creation's transaction, which on
// SQLite's one writer is what concurrent creations queue behind, and rules
// change rarely. A change made on this server is seen at once (the cache is
// dropped when it commits); another server sees it within rulesTTL.
const rulesTTL = 2 * time.Second

type ruleCache struct {
	mu    sync.Mutex
	rules []Rule
	at    time.Time
	gen   uint64 // bumped by forget: a read begun before it is not kept
}

// activeRules returns the active rules in priority order, from the cache
// when it is fresh.
func (s *Store) activeRules(ctx context.Context) ([]Rule, error) {
	now := s.clock.Now()
	c := &s.ruleCache
	c.mu.Lock()
	rules, at, gen := c.rules, c.at, c.gen
	c.mu.Unlock()
	if rules != nil && now.Sub(at) >= 0 && now.Sub(at) < rulesTTL {
		return rules, nil
	}
	rules, err := s.rules(ctx, true)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.rules, c.at = rules, now
	}
	c.mu.Unlock()
	return rules, nil
}

// forgetRules drops the cached rules (after a rule changed here).
func (s *Store) forgetRules() {
	c := &s.ruleCache
	c.mu.Lock()
	c.rules = nil
	c.gen++
	c.mu.Unlock()
}
