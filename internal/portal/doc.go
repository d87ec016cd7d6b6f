// Package portal is the customer portal's domain: portal accounts (a
// customer's email address and/or phone), password-less sign-in by magic
// link or one-time SMS code, portal sessions and API tokens, what a customer
// sees of their own tickets and products, and the public web form that
// takes a request without an account.
//
// Invariants:
//   - A portal caller is an identity.Principal with PortalAccountID and
//     CustomerID set and no staff permission. Every read of this package
//     names the principal's customer in its SQL (t.customer_id = …); the
//     ticket store's scope does the same for a portal principal (its writes
//     go through it), so a customer never reaches another's ticket, message,
//     file or product: another customer's id is simply not found.
//   - What a customer sees of a ticket is its public part only: the
//     description and ticket_messages (replies and their own messages), never
//     ticket_notes or staff-only fields (owner, team, tags, time spent,
//     complaint analysis, custom fields).
//   - Links, codes, sessions and tokens are stored as SHA-256 hashes. A link
//     is used once: the UPDATE that marks it used checks, in the same
//     statement, that it was unused and not expired. A code allows
//     MaxCodeAttempts wrong tries and is then spent.
//   - Asking for a sign-in link answers the same whether or not the address
//     is known (no account enumeration); requests are limited per address
//     and per client address, in the process (each server counts its own).
//   - Every mail or text message leaves through the outbox, in the
//     transaction that makes its link or code, marked transactional (it
//     answers the customer's own request).
//   - Sign-ins, sign-outs, tokens and web-form requests are audited.
package portal
