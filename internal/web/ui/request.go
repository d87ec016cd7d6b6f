package ui

import (
	"net"
	"net/http"
	"strconv"

	"github.com/careloop/careloop/internal/identity"
)

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func formatMinutes(th *identity.ThrottledError) string {
	return strconv.Itoa(int(th.RetryAfter.Minutes()) + 1)
}

func formatSeconds(th *identity.ThrottledError) string {
	return strconv.Itoa(int(th.RetryAfter.Seconds()) + 1)
}
