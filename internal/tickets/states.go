package tickets

import "slices"

// States a ticket moves through (SPEC section 3).
const (
	StateNew               = "new"
	StateAcknowledged      = "acknowledged"
	StateInProgress        = "in_progress"
	StateWaitingCustomer   = "waiting_customer"
	StateWaitingThirdParty = "waiting_third_party"
	StateResolved          = "resolved"
	StateClosed            = "closed"
	StateNoAction          = "no_action"
)

// States in display order.
var States = []string{StateNew, StateAcknowledged, StateInProgress, StateWaitingCustomer,
	StateWaitingThirdParty, StateResolved, StateClosed, StateNoAction}

// Transitions lists the states each state may move to. Reopening is
// resolved/closed → in_progress.
var Transitions = map[string][]string{
	StateNew:               {StateAcknowledged, StateInProgress, StateWaitingCustomer, StateWaitingThirdParty, StateResolved, StateNoAction},
	StateAcknowledged:      {StateInProgress, StateWaitingCustomer, StateWaitingThirdParty, StateResolved, StateNoAction},
	StateInProgress:        {StateWaitingCustomer, StateWaitingThirdParty, StateResolved, StateNoAction},
	StateWaitingCustomer:   {StateInProgress, StateResolved, StateNoAction},
	StateWaitingThirdParty: {StateInProgress, StateResolved, StateNoAction},
	StateResolved:          {StateClosed, StateInProgress},
	StateClosed:            {StateInProgress},
	StateNoAction:          {StateInProgress},
}

// CanMove tells whether from → to is allowed.
func CanMove(from, to string) bool { return slices.Contains(Transitions[from], to) }

// IsOpen tells whether a ticket in state s still needs work.
func IsOpen(s string) bool { return s != StateResolved && s != StateClosed && s != StateNoAction }

// IsReopen tells whether from → to reopens the ticket.
func IsReopen(from, to string) bool {
	return to == StateInProgress && (from == StateResolved || from == StateClosed || from == StateNoAction)
}

// Groups are the record template's statuses (seed 004: 待处理 / 处理中 /
// 已解决 / 无需处理) as groups of states.
var Groups = []struct {
	Key    string
	States []string
}{
	{"pending", []string{StateNew, StateAcknowledged}},
	{"in_progress", []string{StateInProgress, StateWaitingCustomer, StateWaitingThirdParty}},
	{"resolved", []string{StateResolved, StateClosed}},
	{"no_action", []string{StateNoAction}},
}

// Group returns the group key of state s.
func Group(s string) string {
	for _, g := range Groups {
		if slices.Contains(g.States, s) {
			return g.Key
		}
	}
	return ""
}
