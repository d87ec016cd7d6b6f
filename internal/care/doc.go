// Package care is proactive care (客户关怀, SPEC section 5): care plans say
// when a customer is owed a contact — after a purchase, before a festival or
// a birthday, a contract's end, a maintenance interval — and the scheduler
// turns each plan's occasions into care tasks for the agents.
//
// Invariants: a task is unique per (plan, customer, occasion key) in the
// database, and the scheduler inserts with ON CONFLICT DO NOTHING, so any
// number of runs, on any number of servers, after any crash, create each task
// once. A run serves every window open on its day (catch-up after downtime)
// and never one that has passed. Dates are calendar days in the business
// time zone. The package owns its periodic job (jobs.go). docs/care.md.
package care
