// Package version tells which Careloop this is; release builds set Version
// with -ldflags "-X github.com/careloop/careloop/internal/version.Version=…".
package version

import "runtime/debug"

// Version is the release, or "dev".
var Version = "dev"

// Commit returns the VCS revision the binary was built from, if known.
func Commit() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}
