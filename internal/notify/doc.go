// Package notify is Careloop's one way out: the outbox. Every outbound
// message — email and in-app now; SMS, WeCom, DingTalk, WeChat and webhooks
// later — is an outbox row written with Outbox.Enqueue inside the
// transaction of the change that causes it, so a change and its messages
// commit or vanish together. A dispatcher delivers the rows through the
// registered Channels.
//
// Invariants:
//   - A row is delivered by at most one server at a time: a server claims it
//     (state sending, a lease, its name) in one statement, and only the
//     claimer may record the outcome. With PostgreSQL the claim skips rows
//     another server holds (FOR UPDATE SKIP LOCKED); SQLite has one writer.
//   - A failed delivery is retried with exponential backoff; after
//     MaxAttempts (or at once, for a PermanentError) the row is dead, which an
//     administrator sees and can retry.
//   - The one case that can send twice: a server that dies after the channel
//     accepted a message and before it recorded that (an SMTP server's 250 to
//     DATA whose outcome never reached the database). The lease then expires
//     and the row is delivered again. No protocol here can close that window:
//     the receiving side cannot take part in our transaction. Email carries
//     the row's stable Message-ID, so mail clients fold such a repeat.
//   - Consent is asked at send time (Consent), not at enqueue time: a
//     customer who opts out meanwhile is not contacted. Every outcome for a
//     customer (sent, dead, suppressed) is a line on their timeline.
//   - Work that several servers could do twice names a DedupeKey; the unique
//     index keeps one row per key, and Enqueue reports the existing one.
package notify
