package web_test

import (
	"testing"

	"github.com/careloop/careloop/internal/testkit/browser"
)

// TestMain shares one Chromium among the browser tests of this package and
// makes sure it exits with the test binary.
func TestMain(m *testing.M) { browser.Main(m) }
