// Package tickets keeps customer requests (工单): intake, numbers, routing,
// states, replies and internal notes, commitments, complaints and queues.
//
// Invariants:
//   - A ticket always has exactly one owner: a person (owner_id), or its
//     team until someone takes it (owner_id NULL, team_id set). Routing runs
//     in the creating transaction, so no ticket is ever seen without one.
//   - Numbers are T + the business day (Asia/Shanghai) + a serial from a
//     per-day counter row updated with RETURNING in the creating
//     transaction: unique under concurrent creators on both databases and
//     never reused, also after a merge.
//   - Replies (what the customer sees) and internal notes are two tables.
//     Every path that can reach a customer reads ticket_messages only.
//   - Every change is a ticket event (ticket_events), written in the
//     change's transaction together with its audit entry and its line on
//     the customer's timeline. Events are the one place later parts listen
//     to: Store.Listen registers a function that runs inside that
//     transaction, so what it writes (an SLA timer, an outbox row) commits
//     or vanishes with the change.
//   - Only the transitions of Transitions succeed; anything else is a
//     conflict that names the current state.
//   - Writers compare versions (If-Match) or guard on the row's current
//     state in the UPDATE itself, so two agents never both win.
//   - Visibility: a principal without tickets.view_all sees the tickets of
//     their teams and those they own, created, follow or are mentioned on;
//     every read goes through the same scope condition (scope.go).
package tickets
