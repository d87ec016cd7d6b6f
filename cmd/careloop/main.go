// Command careloop is the whole Careloop product: the web server, its
// migrations, staff accounts, tokens, backups and benchmarks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A CPU profile of the whole process, for benchmarks that drive a
	// server as a child process (docs/performance.md): written to
	// PATH.COMMAND (PATH.serve, PATH.bench) when the command ends, also on
	// SIGTERM.
	if path := os.Getenv("CARELOOP_CPU_PROFILE"); path != "" && len(os.Args) > 1 {
		if f, err := os.Create(path + "." + filepath.Base(os.Args[1])); err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
		}
	}
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		stop()
		pprof.StopCPUProfile()
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "careloop:", err)
		}
		os.Exit(exitCode(err))
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	var u usageError
	if errors.As(err, &u) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// env bundles the process environment so subcommands are testable.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	lang   string // of every message (words.go)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, lang: cliLanguage(getenv)}
	if len(args) == 0 {
		fmt.Fprintln(stderr, e.T("cli.usage"))
		return e.usage("cli.no_command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, e, rest)
	case "migrate":
		return cmdMigrate(ctx, e, rest)
	case "user":
		return cmdUser(ctx, e, rest)
	case "token":
		return cmdToken(ctx, e, rest)
	case "backup":
		return cmdBackup(ctx, e, rest)
	case "restore":
		return cmdRestore(ctx, e, rest)
	case "bench":
		return cmdBench(ctx, e, rest)
	case "calendar":
		return cmdCalendar(ctx, e, rest)
	case "import":
		return cmdImport(ctx, e, rest)
	case "export":
		return cmdExport(ctx, e, rest)
	case "version", "-version", "--version":
		return cmdVersion(e)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, e.T("cli.usage"))
		return nil
	}
	fmt.Fprintln(stderr, e.T("cli.usage"))
	return e.usage("cli.unknown_command", "Command", cmd)
}
