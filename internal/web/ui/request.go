package ui

import (
	"strconv"

	"github.com/careloop/careloop/internal/identity"
)

func formatMinutes(th *identity.ThrottledError) string {
	return strconv.Itoa(int(th.RetryAfter.Minutes()) + 1)
}

func formatSeconds(th *identity.ThrottledError) string {
	return strconv.Itoa(int(th.RetryAfter.Seconds()) + 1)
}
