package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/bench"
)

func cmdBench(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("careloop bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = e.flagUsage(fs, "bench")
	dsn := fs.String("db", "", e.T("cli.flag.bench_db"))
	conc := fs.Int("c", 16, e.T("cli.flag.bench_c"))
	dur := fs.Duration("d", 10*time.Second, e.T("cli.flag.bench_d"))
	jsonOut := fs.String("json", "", e.T("cli.flag.bench_json"))
	auth := fs.String("auth", "token", e.T("cli.flag.bench_auth"))
	settle := fs.Duration("settle", time.Minute, e.T("cli.flag.bench_settle"))
	// Accept flags before or after the scenario name.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := e.parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	var names []string
	for _, s := range bench.Scenarios {
		names = append(names, e.T("cli.bench_entry", "Name", s.Name, "Summary", e.T(s.SummaryKey)))
	}
	sc, ok := bench.Find(name)
	if !ok {
		return e.usage("cli.bench_unknown", "Name", name, "List", strings.Join(names, "\n  "))
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	// Another build as the server, e.g. the previous commit's, measured by
	// the same scenario code for a side-by-side comparison.
	if other := e.getenv("CARELOOP_BENCH_SERVER"); other != "" {
		bin = other
	}
	res, err := sc.Run(ctx, bench.Env{Binary: bin, DSN: *dsn, Out: e.stdout, Log: e.stderr}, bench.Options{Concurrency: *conc, Duration: *dur, Auth: *auth, Settle: *settle})
	if res != nil {
		// The table was printed for people; the JSON follows for machines.
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
		if *jsonOut != "" {
			if werr := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); werr != nil {
				return werr
			}
		}
	}
	return err
}
