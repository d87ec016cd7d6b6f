package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	HeaderSignature = "Careloop-Signature" // t=<unix seconds>,v1=<hex HMAC-SHA256>
	HeaderEvent     = "Careloop-Event"     // ticket.created …
	HeaderDelivery  = "Careloop-Delivery"  // the delivery id (the payload's id)
)

// Signature is the header value for body sent at t: the HMAC-SHA256 with
// the secret over "<t>.<body>", so a receiver can refuse an old request
// (replayed by someone who captured it) as well as a forged one.
func Signature(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte("."))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ErrBadSignature: the header does not match the body and secret, or is
// older than the tolerance.
var ErrBadSignature = errors.New("webhook signature does not verify")

// Verify checks a Careloop-Signature header as a receiver does (the Go
// example of docs/webhooks.md): a v1 that matches, a time within
// tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(n, 0)); d > tolerance || d < -tolerance {
		return ErrBadSignature
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return ErrBadSignature
}

// NewSecret makes a subscription's signing secret: whsec_ and 32 random
// bytes in hex.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}
