// Package webhooks tells other systems (a CRM, an ERP, a shop) of changes
// to tickets and customers: an administrator subscribes a URL to events;
// each event becomes a delivery, written in the transaction of the change
// as a row of the outbox on the channel "webhook" (internal/notify), so it
// is claimed, retried with backoff and dead-lettered like every other
// outbound message. Each delivery is signed with the subscription's secret
// (HMAC-SHA256 over a timestamp and the body), logged with every attempt's
// answer, and can be replayed.
//
// Requests never reach private, loopback or link-local addresses unless an
// administrator allows it for the subscription: the URL is checked when it
// is subscribed, and the address actually connected to is checked again at
// every delivery (the dialer's Control function), after DNS resolution, so
// a name that changes its answer (DNS rebinding) is refused as well.
//
// This package is a channel and therefore an HTTP client (net/http); it
// serves nothing. See docs/webhooks.md.
package webhooks
