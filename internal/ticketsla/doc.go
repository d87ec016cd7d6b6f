// Package ticketsla binds SLA policies and timers (internal/sla) to tickets
// (internal/tickets): it starts, pauses, resumes, meets and recomputes each
// ticket's timers in the transaction of the ticket's change (a
// tickets.Listener), keeps the ticket's next due target for the queues,
// records each target's outcome for reports, and sweeps: breaches, warnings,
// the escalation chain (each step claimed once in sla_escalations, so any
// number of servers send it once) and the recomputation of open timers
// after a calendar or a policy changed. See docs/sla-timers.md.
//
// It sits above sla, tickets and notify because sla must not know tickets
// (see docs/architecture.md).
package ticketsla
