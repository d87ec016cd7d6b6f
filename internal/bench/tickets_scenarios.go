package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/loadgen"
	"github.com/careloop/careloop/internal/tickets"
)

// EnvTickets sets how many tickets ticket-queues seeds (default 1,000,000).
const EnvTickets = "CARELOOP_BENCH_TICKETS"

// Floors of issue 10.
const (
	ticketCreateFloor    = 800 // per second, known customer, 8 clients
	ticketCreateNewFloor = 280 // per second, with a new customer
	queueFloorMS         = 50
	ticketPageFloorMS    = 30
	ticketSearchFloorMS  = 150
	ticketQueueCustomers = 100_000
)

// CreateRateResult is what ticket-create reports for one kind.
type CreateRateResult struct {
	Kind    string  `json:"kind"`
	Floor   float64 `json:"floor_per_second"`
	Met     bool    `json:"met"`
	Created int     `json:"created"`
	loadgen.Result
}

// TicketCreateResult is what ticket-create reports.
type TicketCreateResult struct {
	Scenario string             `json:"scenario"`
	Load     [2]string          `json:"load_average"`
	Kinds    []CreateRateResult `json:"kinds"`
	Missed   []string           `json:"missed,omitempty"`
}

type createKind struct {
	name  string
	floor float64
	body  func(worker, i int) map[string]any
}

// runTicketCreate creates tickets through the API at 8 clients for a known
// customer (routing, audit, timeline and events included), then with a new
// customer in the same request.
func runTicketCreate(ctx context.Context, e Env, o Options) (any, error) {
	const customers = 20_000
	s, _, err := customerScratch(ctx, e, customers)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	token, err := ticketStaff(ctx, s)
	if err != nil {
		return nil, err
	}
	srv, err := s.Start(ctx, e)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	header := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	res := TicketCreateResult{Scenario: "ticket-create"}
	res.Load[0] = loadAverage()
	run := time.Now().UnixNano() % 1_000_000
	kinds := []createKind{
		{"known_customer", ticketCreateFloor, func(worker, i int) map[string]any {
			return map[string]any{"customer_id": 1 + (worker*7919+i*104729)%customers, "type": tickets.Types[i%len(tickets.Types)],
				"channel": "phone", "severity": "general", "subject": "开机黑屏，无法使用", "description": "客户来电：开机后黑屏，指示灯闪烁。", "expectation": "尽快上门"}
		}},
		{"new_customer", ticketCreateNewFloor, func(worker, i int) map[string]any {
			return map[string]any{"customer": map[string]any{"name": fmt.Sprintf("来电客户%d-%d-%d", run, worker, i),
				"phones": []string{fmt.Sprintf("13%d%08d", 5+worker%4, (int(run)*7+worker*1_000_000+i)%100_000_000)}},
				"type": "fault", "channel": "phone", "severity": "general", "subject": "净水器漏水", "description": "底部漏水"}
		}},
	}
	conc := o.Concurrency
	if conc == 16 { // the command's default; the floor is at 8 clients
		conc = 8
	}
	for _, k := range selectNamed(kinds, func(k createKind) string { return k.name }) {
		lr, err := loadgen.Run(ctx, loadgen.Options{
			Scenario: "ticket-create " + k.name, BaseURL: srv.BaseURL, Concurrency: conc, Duration: o.Duration,
			Warmup: 500 * time.Millisecond, PID: srv.PID(),
			ExpectStatus: func(c int) bool { return c == http.StatusCreated },
			Next: func(worker, i int) loadgen.Request {
				body, _ := json.Marshal(k.body(worker, i))
				return loadgen.Request{Method: "POST", Path: "/api/v1/tickets", Header: header, Body: body}
			},
		})
		if err != nil {
			return nil, err
		}
		kr := CreateRateResult{Kind: k.name, Floor: k.floor, Result: lr, Created: int(lr.StatusCounts["201"])}
		kr.Met = lr.Failures() == 0 && lr.RequestsPerSecond >= k.floor
		if !kr.Met {
			res.Missed = append(res.Missed, k.name)
		}
		res.Kinds = append(res.Kinds, kr)
		fmt.Fprintf(e.Out, "ticket-create %s: %d clients, %d × 201, %d failures, %.0f/s (floor %.0f), p50 %.1f ms, p99 %.1f ms\n",
			k.name, conc, kr.Created, lr.Failures(), lr.RequestsPerSecond, k.floor, lr.LatencyMS.P50, lr.LatencyMS.P99)
	}
	res.Load[1] = loadAverage()
	fmt.Fprintf(e.Out, "ticket-create: load average %s before, %s after\n", res.Load[0], res.Load[1])
	if len(res.Missed) > 0 {
		return res, fmt.Errorf("ticket-create: floors missed: %s", strings.Join(res.Missed, ", "))
	}
	return res, nil
}

// ticketStaff gives a scratch database two teams of staff with routing
// rules (faults round robin to the first, the rest by load to the second)
// and returns an API token of an agent who logs requests.
func ticketStaff(ctx context.Context, s *Scratch) (string, error) {
	a, err := app.OpenStore(ctx, s.Config(), app.Options{Hash: identity.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}})
	if err != nil {
		return "", err
	}
	defer a.Close()
	// The customers' database may be a cached one that an earlier run
	// staffed already: this run's teams and people get names of their own.
	run := time.Now().UnixNano() % 1_000_000
	var teams []int64
	for t, name := range []string{"技术支持组", "售后组"} {
		team, err := a.Identity.CreateTeam(ctx, fmt.Sprintf("%s-%d", name, run))
		if err != nil {
			return "", err
		}
		teams = append(teams, team.ID)
		for u := range 3 {
			if _, err := a.Identity.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("staff%d%d-%d@bench.careloop.cn", t, u, run), Name: fmt.Sprintf("员工%d%d", t, u),
				Password: identity.GeneratePassword(), Roles: []string{"tech_support"}, TeamIDs: []int64{team.ID}}); err != nil {
				return "", err
			}
		}
	}
	if _, err := a.Tickets.CreateRule(ctx, tickets.Rule{Name: "故障", Active: true, Types: []string{"fault"}, TeamID: teams[0], Strategy: "round_robin"}); err != nil {
		return "", err
	}
	if _, err := a.Tickets.CreateRule(ctx, tickets.Rule{Name: "其余", Active: true, TeamID: teams[1], Strategy: "least_load"}); err != nil {
		return "", err
	}
	u, err := a.Identity.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("intake-%d@bench.careloop.cn", time.Now().UnixNano()), Name: "接线员",
		Password: identity.GeneratePassword(), Roles: []string{"agent"}})
	if err != nil {
		return "", err
	}
	_, token, err := a.Identity.CreateToken(ctx, u.ID, "bench")
	return token, err
}

func ticketCount() (int, error) {
	s := os.Getenv(EnvTickets)
	if s == "" {
		return 1_000_000, nil
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n < 1000 {
		return 0, fmt.Errorf("%s=%q: want a number of tickets, at least 1000", EnvTickets, s)
	}
	return n, nil
}

// ticketScratch returns a database with ticketQueueCustomers customers and
// n tickets, cached under EnvCache like the customer scenarios' databases.
func ticketScratch(ctx context.Context, e Env, n int) (*Scratch, error) {
	cache := os.Getenv(EnvCache)
	var s *Scratch
	marker := ""
	if cache != "" {
		dialect := db.SQLite
		if e.DSN != "" {
			dialect = db.Postgres
		}
		key, err := seedKey(dialect, n)
		if err != nil {
			return nil, err
		}
		key = "tickets_" + strings.TrimPrefix(key, "customers_")
		s = &Scratch{Dir: filepath.Join(cache, key)}
		if e.DSN != "" {
			s.Dir = filepath.Join(cache, key+"_pg")
			s.DSN = db.WithSearchPath(e.DSN, key)
		}
		marker = filepath.Join(s.Dir, "seeded.json")
		if _, err := os.Stat(marker); err == nil {
			fmt.Fprintf(e.Out, "seed: reusing %d tickets seeded earlier (%s)\n", n, key)
			return s, nil
		}
		if err := os.RemoveAll(s.Dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(s.Dir, 0o750); err != nil {
			return nil, err
		}
		if e.DSN != "" {
			if err := freshSchema(e.DSN, key); err != nil {
				return nil, err
			}
		}
	} else {
		var err error
		if s, err = NewScratch(e.DSN); err != nil {
			return nil, err
		}
	}
	if err := seedTicketScratch(ctx, s, n, e.Out); err != nil {
		s.Close()
		return nil, err
	}
	if marker != "" {
		if err := os.WriteFile(marker, []byte("{}"), 0o644); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func seedTicketScratch(ctx context.Context, s *Scratch, n int, out io.Writer) error {
	a, err := app.OpenStore(ctx, s.Config(), app.Options{Hash: identity.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}})
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := SeedCustomers(ctx, a.DB, ticketQueueCustomers, out); err != nil {
		return err
	}
	_, err = SeedTickets(ctx, a.DB, a.Identity, n, ticketQueueCustomers, out)
	return err
}

// tokenFor makes an API token for an existing user.
func tokenFor(ctx context.Context, s *Scratch, email string) (string, error) {
	a, err := app.OpenStore(ctx, s.Config(), app.Options{Hash: identity.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}})
	if err != nil {
		return "", err
	}
	defer a.Close()
	u, err := a.Identity.GetUserByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	_, token, err := a.Identity.CreateToken(ctx, u.ID, "bench")
	return token, err
}

// runTicketQueues measures the workspace on n tickets: every queue's
// first page (the SLA views and the mine queue by due time included, on the
// due times seedSLADue sets), the all queue's page 100, the ticket (API and page) and
// search for a 2- and a 4-character word, as the bench agent (who owns a
// sixth of the tickets, and sees their team's).
func runTicketQueues(ctx context.Context, e Env, o Options) (any, error) {
	n, err := ticketCount()
	if err != nil {
		return nil, err
	}
	s, err := ticketScratch(ctx, e, n)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := seedSLADue(ctx, s, time.Now()); err != nil {
		return nil, err
	}
	token, err := tokenFor(ctx, s, BenchAgentEmail)
	if err != nil {
		return nil, err
	}
	srv, err := s.Start(ctx, e)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	header := http.Header{"Authorization": {"Bearer " + token}}
	client := &http.Client{Timeout: 60 * time.Second}
	page100, err := pageCursor(ctx, client, srv.BaseURL, header, "/api/v1/tickets?queue=all&limit=50", 99)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i := range 64 {
		// Tickets the agent owns: i*6 + 6 is owned by agent0 (i % 6 == 0).
		ids = append(ids, strconv.Itoa(6*(1+(i*15485863)%(n/6-1))))
	}
	paths := func(f string, vals []string) []string {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = fmt.Sprintf(f, v)
		}
		return out
	}
	two := []string{"黑屏", "换货", "保修", "异响", "漏水", "配件"}
	four := []string{"开机黑屏", "申请换货", "外机异响", "更换滤芯", "屏幕花屏", "物流延误"}
	q := func(words []string) []string {
		out := make([]string, len(words))
		for i, w := range words {
			out[i] = "/api/v1/tickets?q=" + url.QueryEscape(w)
		}
		return out
	}
	kinds := []queryKind{
		{"queue_mine", queueFloorMS, []string{"/api/v1/tickets?queue=mine"}},
		{"queue_team", queueFloorMS, []string{"/api/v1/tickets?queue=team"}},
		{"queue_unassigned", queueFloorMS, []string{"/api/v1/tickets?queue=unassigned"}},
		{"queue_waiting", queueFloorMS, []string{"/api/v1/tickets?queue=waiting"}},
		{"queue_mentions", queueFloorMS, []string{"/api/v1/tickets?queue=mentions"}},
		{"queue_all", queueFloorMS, []string{"/api/v1/tickets?queue=all"}},
		{"queue_all_page_100", queueFloorMS, []string{page100}},
		{"queue_breaching", queueFloorMS, []string{"/api/v1/tickets?queue=breaching"}},
		{"queue_breached", queueFloorMS, []string{"/api/v1/tickets?queue=breached"}},
		{"queue_mine_by_due", queueFloorMS, []string{"/api/v1/tickets?queue=mine&sort=due"}},
		{"workspace_page (/tickets)", queueFloorMS, []string{"/tickets"}},
		{"ticket_api", ticketPageFloorMS, paths("/api/v1/tickets/%s", ids)},
		{"ticket_page", ticketPageFloorMS, paths("/tickets/%s", ids)},
		{"search_2char (黑屏)", ticketSearchFloorMS, q(two)},
		{"search_4char (开机黑屏)", ticketSearchFloorMS, q(four)},
	}
	res := CustomerBenchResult{Scenario: "ticket-queues", Customers: n}
	res.Load[0] = loadAverage()
	if err := driveKinds(ctx, client, srv, header, "ticket-queues", queueConcurrency(o), o.Duration, kinds, &res); err != nil {
		return nil, err
	}
	res.Load[1] = loadAverage()
	fmt.Fprintf(e.Out, "(the customers column below counts tickets)\n")
	writeKinds(e.Out, res)
	if len(res.Missed) > 0 {
		return res, fmt.Errorf("ticket-queues: floors missed: %s", strings.Join(res.Missed, ", "))
	}
	return res, nil
}

func queueConcurrency(o Options) int {
	if o.Concurrency == 16 { // the command's default; the floors are at 8 clients
		return 8
	}
	return o.Concurrency
}

// pageCursor follows next_cursor from path for pages pages and returns
// the path of the page after them.
func pageCursor(ctx context.Context, c *http.Client, base string, h http.Header, path string, pages int) (string, error) {
	next := path
	for range pages {
		req, err := http.NewRequestWithContext(ctx, "GET", base+next, nil)
		if err != nil {
			return "", err
		}
		req.Header = h
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		var page struct {
			Next string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || page.Next == "" {
			return "", fmt.Errorf("paging %s: %v (no next cursor)", next, err)
		}
		next = path + "&cursor=" + url.QueryEscape(page.Next)
	}
	return next, nil
}
