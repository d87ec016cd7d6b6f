// Package attachments stores the files attached to records (a ticket's
// messages first): metadata in the attachments table, bytes on the local
// disk under <data dir>/attachments, never in database rows.
//
// Invariants:
//   - Bytes are content-addressed: attachments/<sha256[:2]>/<sha256>, one
//     file for every row with the same content. An upload is streamed to a
//     temporary file under attachments/tmp (the same file system), hashed
//     on the way, fsynced, and renamed into place; the directory is fsynced.
//   - A file is checked before anything is recorded: its name (path
//     elements, control and bidi characters, Windows' reserved characters
//     and length are cleaned; names a browser runs — .html, .svg, .js… —
//     are refused before a byte is read); its size (at most the limit: the
//     reader is read for limit+1 bytes at most, never to its end; 0 bytes
//     refused); its content, sniffed from the bytes and never taken from
//     the client (HTML, SVG and XML refused, also as markup inside a text
//     file; content that is not what the extension says refused, naming
//     what it is; a type the administrator did not allow refused). Refusals
//     are *domain.ValidationError for field "attachments" with keys in
//     locales/attachments.*.toml.
//   - The limits (size per file, allowed types, files per record) are the
//     administrator's, kept in internal/settings under "attachments.limits"
//     and read through its cache, so a change applies within seconds in
//     every server.
//   - A row is written in the transaction carried by ctx (Save, Record), so
//     a message and its attachments commit together. Stage writes only
//     bytes: a handler stages a slow upload outside its transaction and
//     records it inside.
//   - Bytes no live row references are removed, never bytes a row may still
//     reference. Their modification time is a lease: staging, deduplicating
//     and recording set it to now, and bytes are removed only when no live
//     row references them and the lease is older than Grace (an hour).
//     Delete removes them at once when it commits its own transaction and
//     the lease is over; Cleanup, run by a periodic job, removes the rest:
//     bytes of deleted rows, orphans of transactions that rolled back or
//     stages never recorded, and temporary files left by a crash. Placing,
//     renewing and removing one checksum's bytes are serialised in the
//     process; servers that share a data directory rely on the lease alone.
//   - Open checks the size of the bytes against the row (ErrCorrupt), not
//     the checksum, on every read.
//   - Deleting is a mark (deleted_at, deleted_by) audited as
//     attachment.delete; deleted attachments are not found.
//
// The package knows nothing of HTTP: internal/web/httpx reads multipart
// uploads part by part into Stage (upload.go) and serves attachments
// (ServeAttachment) with the headers that keep a browser from running them.
package attachments
