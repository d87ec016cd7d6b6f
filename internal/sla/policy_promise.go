package sla

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Promise is what a customer is told when their request arrives: the first
// answer promised by the policy that matches a ticket with facts f, on that
// policy's calendar, counted from received. The first_response target is
// the promise when it applies to the ticket; otherwise the response target
// (a policy that only sets response times still promises an answer). ok is
// false when no policy matches or the policy sets neither for such a ticket:
// then nothing is promised, rather than a time nobody is held to.
func (s *PolicyStore) Promise(ctx context.Context, f TicketFacts, received time.Time) (Promise, bool, error) {
	p, ok, err := s.Match(ctx, f)
	if err != nil || !ok {
		return Promise{}, false, err
	}
	target, ok := promiseTarget(p, f)
	if !ok {
		return Promise{}, false, nil
	}
	cal, err := s.CalendarOf(ctx, p)
	if err != nil {
		return Promise{}, false, fmt.Errorf("promise: calendar of policy %d: %w", p.ID, err)
	}
	pr, err := cal.Promise(received, target.For(f))
	if errors.Is(err, ErrNoWorkingTime) || errors.Is(err, ErrOutOfRange) {
		// No time can be promised on that calendar: say nothing rather
		// than fail the request that asked.
		return Promise{}, false, nil
	}
	if err != nil {
		return Promise{}, false, fmt.Errorf("promise: policy %d: %w", p.ID, err)
	}
	return pr, true, nil
}

// promiseTarget picks the target a promise is made from: the first
// applying first_response target, else the first applying response target.
func promiseTarget(p Policy, f TicketFacts) (Target, bool) {
	for _, kind := range []string{KindFirstResponse, KindResponse} {
		for _, t := range p.Targets {
			if t.Kind == kind && t.Applies(f) {
				return t, true
			}
		}
	}
	return Target{}, false
}
