package ticketsla

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/tickets"
)

// Service is the SLA of tickets. Build it with New and hand Listen to
// tickets.Store.Listen.
type Service struct {
	db        *db.DB
	clock     clock.Clock
	policies  *sla.PolicyStore
	calendars *sla.Store
	timers    *sla.TimerStore
	tickets   *tickets.Store
	identity  *identity.Store
	staff     *notify.Staff
	catalog   *i18n.Catalog
	log       *slog.Logger
	// Server names this process in the claims of sla_escalations.
	server string
	// quiet: warnings and steps are claimed and recorded but nobody is
	// told (the demo's history, see For).
	quiet bool
	deps  Deps

	mu       sync.Mutex
	cached   []sla.Policy
	cachedAt time.Time
}

// Deps are what the service works with.
type Deps struct {
	DB        *db.DB
	Clock     clock.Clock
	Policies  *sla.PolicyStore
	Calendars *sla.Store
	Timers    *sla.TimerStore
	Tickets   *tickets.Store
	Identity  *identity.Store
	Staff     *notify.Staff
	Catalog   *i18n.Catalog
	Log       *slog.Logger
	// Server names this process in escalation claims (host name and pid).
	Server string
}

// New returns the service.
func New(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Service{db: d.DB, clock: d.Clock, policies: d.Policies, calendars: d.Calendars, timers: d.Timers,
		tickets: d.Tickets, identity: d.Identity, staff: d.Staff, catalog: d.Catalog, log: d.Log, server: d.Server, deps: d}
}

// For returns a service like s that reads the time from clk and listens to
// store instead of s's ticket store; when quiet, its sweeps claim and
// record warnings and steps without telling anyone. The demo plays a month
// of tickets on a clock of its own with it: their past breaches are history
// to show, not news to send.
func (s *Service) For(clk clock.Clock, store *tickets.Store, quiet bool) *Service {
	d := s.deps
	d.Clock, d.Tickets = clk, store
	n := New(d)
	n.quiet = quiet
	return n
}

// policyTTL is how long the policies read are used before they are read
// again: matching runs for every new ticket, policies change rarely, and a
// change made on this server is seen at once (Forget). Another server sees
// it within policyTTL; the sweeper's recomputation then brings the timers
// of the changed policy in line.
const policyTTL = 2 * time.Second

// Forget drops the cached policies (after a policy is changed here).
func (s *Service) Forget() {
	s.mu.Lock()
	s.cached = nil
	s.mu.Unlock()
}

func (s *Service) allPolicies(ctx context.Context) ([]sla.Policy, error) {
	now := s.clock.Now()
	s.mu.Lock()
	ps, at := s.cached, s.cachedAt
	s.mu.Unlock()
	if ps != nil && now.Sub(at) >= 0 && now.Sub(at) < policyTTL {
		return ps, nil
	}
	ps, err := s.policies.List(ctx)
	if err != nil {
		return nil, err
	}
	sla.SortPolicies(ps)
	s.mu.Lock()
	s.cached, s.cachedAt = ps, now
	s.mu.Unlock()
	return ps, nil
}

// policyByID returns the policy with id from the cache (reading again once
// when it is not there: created meanwhile).
func (s *Service) policyByID(ctx context.Context, id int64) (sla.Policy, bool, error) {
	for attempt := 0; attempt < 2; attempt++ {
		ps, err := s.allPolicies(ctx)
		if err != nil {
			return sla.Policy{}, false, err
		}
		for _, p := range ps {
			if p.ID == id {
				return p, true, nil
			}
		}
		s.Forget()
	}
	return sla.Policy{}, false, nil
}

// Facts are the ticket's facts that policies match on.
func Facts(t tickets.Ticket) sla.TicketFacts {
	f := sla.TicketFacts{Type: t.Type, Severity: t.Severity, Channel: t.Channel, Tier: t.CustomerTier}
	if t.CategoryID != nil {
		f.CategoryID = *t.CategoryID
	}
	if t.TeamID != nil {
		f.TeamID = *t.TeamID
	}
	return f
}

// match returns the policy for t and its calendar. ok is false when no
// policy matches (the default one is deleted only by hand in the database).
func (s *Service) match(ctx context.Context, t tickets.Ticket) (sla.Policy, *sla.Calendar, bool, error) {
	ps, err := s.allPolicies(ctx)
	if err != nil {
		return sla.Policy{}, nil, false, err
	}
	p, ok := sla.Match(ps, Facts(t))
	if !ok {
		return sla.Policy{}, nil, false, nil
	}
	cal, err := s.policies.CalendarOf(ctx, p)
	if err != nil {
		return sla.Policy{}, nil, false, fmt.Errorf("calendar of SLA policy %q: %w", p.Name, err)
	}
	return p, cal, true, nil
}

// calendar returns the compiled calendar named name ("" or the calendar
// time's own name: calendar time).
func (s *Service) calendar(ctx context.Context, name string) (*sla.Calendar, error) {
	if name == "" || name == sla.CalendarTime().Name() {
		return sla.CalendarTime(), nil
	}
	return s.calendars.Calendar(ctx, name)
}
