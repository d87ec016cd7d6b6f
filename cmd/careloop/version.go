package main

import (
	"fmt"
	"runtime"

	"github.com/careloop/careloop/internal/version"
)

func cmdVersion(e env) error {
	commit := version.Commit()
	if commit == "" {
		commit = e.T("cli.commit_unknown")
	}
	fmt.Fprintln(e.stdout, e.T("cli.version", "Version", version.Version, "Commit", commit, "Go", runtime.Version()))
	return nil
}
