package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/careloop/careloop/internal/loadgen"
)

// Options tune a scenario run.
type Options struct {
	Concurrency int
	Duration    time.Duration
	// Auth is how `me` signs in: "token" (the default) or "cookie".
	Auth string
	// Settle is how long `login` waits after the burst before reading the
	// server's memory; default a minute.
	Settle time.Duration
}

// Scenario is one benchmark.
type Scenario struct {
	Name string
	// SummaryKey is the catalog key (cli.bench.*) of the one line that
	// `careloop bench` lists beside the name, in the CLI's language.
	SummaryKey string
	Run        func(ctx context.Context, e Env, o Options) (any, error)
}

// Scenarios lists every benchmark by name.
var Scenarios = []Scenario{
	{"me", "cli.bench.me", runMe},
	{"login", "cli.bench.login", runLogin},
	{"startup", "cli.bench.startup", runStartup},
	{"crash", "cli.bench.crash", runCrash},
	{"customer-search", "cli.bench.customer-search", runCustomerSearch},
	{"customer-list", "cli.bench.customer-list", runCustomerList},
	{"customer-create", "cli.bench.customer-create", runCustomerCreate},
	{"ticket-create", "cli.bench.ticket-create", runTicketCreate},
	{"ticket-queues", "cli.bench.ticket-queues", runTicketQueues},
	{"wechat-inbound", "cli.bench.wechat-inbound", runWeChatInbound},
}

// Find returns the scenario called name.
func Find(name string) (Scenario, bool) {
	for _, s := range Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// StartupResult reports how fast an empty server becomes ready.
type StartupResult struct {
	Scenario     string  `json:"scenario"`
	Runs         int     `json:"runs"`
	ReadyMSMin   float64 `json:"ready_ms_min"`
	ReadyMSMax   float64 `json:"ready_ms_max"`
	IdleRSSBytes int64   `json:"idle_rss_bytes"`
}

func runStartup(ctx context.Context, e Env, o Options) (any, error) {
	out := StartupResult{Scenario: "startup", Runs: 5}
	var readies []float64
	for i := 0; i < out.Runs; i++ {
		s, err := NewScratch(e.DSN)
		if err != nil {
			return nil, err
		}
		srv, err := s.Start(ctx, e)
		if err != nil {
			s.Close()
			return nil, err
		}
		readies = append(readies, float64(srv.Ready.Microseconds())/1000)
		if i == out.Runs-1 {
			// Let start-up garbage settle before reading idle memory.
			time.Sleep(2 * time.Second)
			rss, _, err := loadgen.ReadRSS(srv.PID())
			if err == nil {
				out.IdleRSSBytes = rss
			}
		}
		_ = srv.Stop()
		s.Close()
	}
	sort.Float64s(readies)
	out.ReadyMSMin, out.ReadyMSMax = readies[0], readies[len(readies)-1]
	fmt.Fprintf(e.Out, "startup: ready in %.1f–%.1f ms over %d runs on an empty database; idle RSS %.1f MB\n",
		out.ReadyMSMin, out.ReadyMSMax, out.Runs, float64(out.IdleRSSBytes)/(1<<20))
	return out, nil
}

// CrashResult reports what survived a SIGKILL.
type CrashResult struct {
	Scenario     string `json:"scenario"`
	Acknowledged int    `json:"acknowledged"`
	Found        int    `json:"found"`
	Lost         int    `json:"lost"`
}

// runCrash writes teams from several clients, kills the server with SIGKILL
// while they write, restarts it and checks every acknowledged (201) team.
func runCrash(ctx context.Context, e Env, o Options) (any, error) {
	s, err := NewScratch(e.DSN)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	token, err := s.SeedUser(ctx, "crash@example.com", "admin")
	if err != nil {
		return nil, err
	}
	srv, err := s.Start(ctx, e)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	var acked []string
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < max(1, o.Concurrency); w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				name := fmt.Sprintf("crash-%d-%d", w, i)
				body, _ := json.Marshal(map[string]string{"name": name})
				req, _ := http.NewRequest("POST", srv.BaseURL+"/api/v1/teams", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					mu.Lock()
					acked = append(acked, name)
					mu.Unlock()
				}
			}
		}(w)
	}
	time.Sleep(o.Duration)
	srv.Kill()
	stop.Store(true)
	wg.Wait()

	srv, err = s.Start(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("restart after SIGKILL: %w", err)
	}
	defer srv.Stop()
	present := map[string]bool{}
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", srv.BaseURL+"/api/v1/teams?limit=200&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Items      []struct{ Name string } `json:"items"`
			NextCursor string                  `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		for _, t := range page.Items {
			present[t.Name] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	res := CrashResult{Scenario: "crash", Acknowledged: len(acked)}
	for _, n := range acked {
		if present[n] {
			res.Found++
		} else {
			res.Lost++
		}
	}
	fmt.Fprintf(e.Out, "crash: %d writes acknowledged before SIGKILL, %d found after restart, %d lost\n", res.Acknowledged, res.Found, res.Lost)
	if res.Lost > 0 {
		return res, fmt.Errorf("crash: %d acknowledged writes lost", res.Lost)
	}
	return res, nil
}

func init() {
	Scenarios = append(Scenarios, Scenario{"deadline", "cli.bench.deadline", runDeadline})
}

// runDeadline measures the deadline endpoint: token lookup, the cached
// compiled default calendar (seeded with the built-in holidays), Add and
// the JSON answer. Starts vary over 2025–2026 so holidays are crossed.
func runDeadline(ctx context.Context, e Env, o Options) (any, error) {
	rig, err := NewRig(ctx, e, "bench@example.com", "agent")
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	srv, token := rig.Server, rig.Token
	header := http.Header{"Authorization": {"Bearer " + token}}
	paths := make([]string, 256)
	start := time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC)
	for i := range paths {
		from := start.Add(time.Duration(i) * 67 * time.Hour).Format(time.RFC3339)
		paths[i] = "/api/v1/calendars/default/deadline?from=" + from + "&duration=24h" // UTC: no "+" to escape
	}
	res, err := loadgen.Run(ctx, loadgen.Options{
		Scenario:     "deadline",
		BaseURL:      srv.BaseURL,
		Concurrency:  o.Concurrency,
		Duration:     o.Duration,
		Warmup:       time.Second,
		PID:          srv.PID(),
		ExpectStatus: func(c int) bool { return c == http.StatusOK },
		Next: func(worker, i int) loadgen.Request {
			return loadgen.Request{Method: "GET", Path: paths[(worker*31+i)%len(paths)], Header: header}
		},
	})
	if err != nil {
		return nil, err
	}
	res.WriteTable(e.Out)
	return res, nil
}
