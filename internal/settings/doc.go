// Package settings keeps the administrator's settings: one JSON value per
// key (for example "attachments.limits"), read on hot paths through a short
// in-process cache and edited with optimistic versions.
//
// The package is generic on purpose: it knows no setting. Each domain owns
// its keys, the Go type of their values, their defaults and their
// validation, and stores them here; a domain without a stored value uses
// its own defaults (Get reports found == false and leaves dst alone).
//
// Invariants:
//   - A value is valid JSON of at most MaxValueBytes; a key is 1–100
//     characters of a–z, 0–9, '.', '_' and '-'.
//   - Set is optimistic: version 0 creates a key that must not exist, any
//     other version must be the stored one, else domain.ErrStale. Each Set
//     adds one to the version and writes a "setting.update" audit entry with
//     the value before and after, in the same transaction (the caller's if
//     ctx carries one).
//   - Caching: read-through with a TTL (DefaultTTL, 5 s), keyed by setting,
//     absent keys included, so a hot path such as every upload reads the
//     database at most once per key and TTL in each server. A Set forgets
//     this server's cached value at once; other servers on the same
//     database, and a read that races the committing transaction, see the
//     change within the TTL. A version check on every read would cost the
//     same database round trip the cache exists to avoid, and settings
//     change rarely and tolerate a few seconds of delay. A Get inside a
//     transaction bypasses the cache and reads through it, so a
//     transaction sees its own Set.
package settings
