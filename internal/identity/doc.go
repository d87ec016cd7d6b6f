// Package identity keeps Careloop's staff users, roles (permission sets),
// teams, sign-in sessions and API tokens.
//
// Invariants:
//   - Passwords are stored only as argon2id hashes; session ids and API tokens
//     only as SHA-256 hashes, so a copy of the database signs nobody in.
//   - A deactivated user, or one whose password changed, has no live session:
//     Deactivate and SetPassword delete them in the same transaction, and every
//     lookup also checks users.active, so a token stops working at once.
//   - A deactivated user has no live API token either: deactivation revokes
//     them in its transaction, so re-activating brings none back.
//   - users.auth_version changes, in the same transaction, with everything a
//     Principal is made of (active, roles, teams, password, name, email,
//     language; every user's on a role edit). Sessions and tokens are looked
//     up together with it, and a cached principal is used only at the
//     version it was read at.
//   - Password hashes made with other parameters than the hasher's are
//     replaced at the next successful sign-in.
//   - Every change goes to the audit trail in the same transaction.
//   - Email addresses are kept lower-case and trimmed; they are unique.
//   - Sessions expire after an idle period and after an absolute lifetime.
package identity
