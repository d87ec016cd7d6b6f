package main

import (
	"fmt"
	"runtime"

	"github.com/careloop/careloop/internal/version"
)

func cmdVersion(e env) error {
	commit := version.Commit()
	if commit == "" {
		commit = "unknown"
	}
	fmt.Fprintf(e.stdout, "careloop %s (commit %s, %s)\n", version.Version, commit, runtime.Version())
	return nil
}
