package bench

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/loadgen"
)

// Environment variables of the customer scenarios (the bench command's
// flags are shared by every scenario, so these live in the environment).
const (
	// EnvCustomers is how many customers customer-search and customer-list
	// seed (default 1,000,000).
	EnvCustomers = "CARELOOP_BENCH_CUSTOMERS"
	// EnvCache names a directory where seeded SQLite databases are kept
	// and reused; on PostgreSQL it keeps the seeded schema instead of
	// dropping it. A seeded database is reused only while the migrations
	// and the generator are unchanged.
	EnvCache = "CARELOOP_BENCH_CACHE"
	// EnvKinds, when set, runs only the kinds of query whose names contain
	// one of its comma-separated words ("name,pinyin").
	EnvKinds = "CARELOOP_BENCH_KINDS"
)

// selectKinds keeps the kinds EnvKinds asks for (all when it is unset).
func selectKinds(kinds []queryKind) []queryKind {
	return selectNamed(kinds, func(k queryKind) string { return k.name })
}

// selectNamed keeps the items whose names contain one of EnvKinds' words
// (all when it is unset).
func selectNamed[T any](items []T, name func(T) string) []T {
	want := strings.FieldsFunc(os.Getenv(EnvKinds), func(r rune) bool { return r == ',' })
	if len(want) == 0 {
		return items
	}
	var out []T
	for _, it := range items {
		for _, w := range want {
			if strings.Contains(name(it), strings.TrimSpace(w)) {
				out = append(out, it)
				break
			}
		}
	}
	return out
}

// seedVersion changes whenever GenCustomer or SeedCustomers change what
// they write, so that cached databases are seeded again.
const seedVersion = "2"

// Floors of issue 5, in milliseconds.
const (
	searchFloorMS = 30
	listFloorMS   = 50
)

func customerCount() (int, error) {
	s := os.Getenv(EnvCustomers)
	if s == "" {
		return 1_000_000, nil
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n < 100 {
		return 0, fmt.Errorf("%s=%q: want a number of customers, at least 100", EnvCustomers, s)
	}
	return n, nil
}

// seedKey identifies a seeded database: the dialect's migrations, the
// generator version and the count.
func seedKey(d db.Dialect, n int) (string, error) {
	fsys, err := db.MigrationsFS(d)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s/%s/%d\n", d, seedVersion, n)
	err = fs.WalkDir(fsys, ".", func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("customers_%d_%s", n, hex.EncodeToString(h.Sum(nil))[:10]), nil
}

// customerScratch returns a scratch database holding n seeded customers:
// a cached one when EnvCache is set and it was seeded before, else a new
// one seeded now (and kept when EnvCache is set).
func customerScratch(ctx context.Context, e Env, n int) (*Scratch, *SeedStats, error) {
	cache := os.Getenv(EnvCache)
	if cache == "" {
		s, err := NewScratch(e.DSN)
		if err != nil {
			return nil, nil, err
		}
		st, err := seedScratch(ctx, s, n, e.Out)
		if err != nil {
			s.Close()
			return nil, nil, err
		}
		return s, &st, nil
	}
	dialect := db.SQLite
	if e.DSN != "" {
		dialect = db.Postgres
	}
	key, err := seedKey(dialect, n)
	if err != nil {
		return nil, nil, err
	}
	s := &Scratch{Dir: filepath.Join(cache, key)}
	if e.DSN != "" {
		s.Dir = filepath.Join(cache, key+"_pg") // the server's data directory; the data is in the schema
		s.DSN = db.WithSearchPath(e.DSN, key)
	}
	marker := filepath.Join(s.Dir, "seeded.json")
	if b, err := os.ReadFile(marker); err == nil {
		fmt.Fprintf(e.Out, "seed: reusing %d customers seeded earlier (%s)\n", n, key)
		var st SeedStats
		_ = json.Unmarshal(b, &st)
		return s, &st, nil
	}
	// Start afresh: whatever is there was left half-seeded.
	if err := os.RemoveAll(s.Dir); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(s.Dir, 0o750); err != nil {
		return nil, nil, err
	}
	if e.DSN != "" {
		if err := freshSchema(e.DSN, key); err != nil {
			return nil, nil, err
		}
	}
	st, err := seedScratch(ctx, s, n, e.Out)
	if err != nil {
		return nil, nil, err
	}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(marker, b, 0o644); err != nil {
		return nil, nil, err
	}
	return s, &st, nil
}

func seedScratch(ctx context.Context, s *Scratch, n int, out io.Writer) (SeedStats, error) {
	a, err := app.OpenStore(ctx, s.Config(), app.Options{Hash: identity.HashParams{Time: 1, Memory: 8 * 1024, Threads: 1}})
	if err != nil {
		return SeedStats{}, err
	}
	defer a.Close()
	return SeedCustomers(ctx, a.DB, n, out)
}

// KindResult is the measurement of one kind of query.
type KindResult struct {
	Kind      string  `json:"kind"`
	Example   string  `json:"example"`
	QueryKind string  `json:"query_kind,omitempty"` // how the server classified the example
	Hits      int     `json:"hits"`                 // items on the example's first page
	FloorMS   float64 `json:"floor_ms"`
	Met       bool    `json:"met"`
	loadgen.Result
}

// CustomerBenchResult is what customer-search and customer-list report.
type CustomerBenchResult struct {
	Scenario  string       `json:"scenario"`
	Customers int          `json:"customers"`
	Seed      *SeedStats   `json:"seed,omitempty"`
	Load      [2]string    `json:"load_average"` // before and after, from /proc/loadavg
	Kinds     []KindResult `json:"kinds"`
	Missed    []string     `json:"missed,omitempty"`
}

type queryKind struct {
	name    string
	floorMS float64
	paths   []string
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// searchKinds draws the queries of every kind from the generated data, so
// that each has answers, in the proportions real data has them.
func searchKinds(n int) []queryKind {
	r := rand.New(rand.NewPCG(7, 7))
	const per = 64
	var name2, name3, company, pinyin, initials, last4, phone, number, email, serial, inside []string
	for len(name2) < per || len(name3) < per || len(company) < per || len(email) < per || len(serial) < per || len(phone) < per {
		c := GenCustomer(n, 1+r.IntN(n))
		runes := utf8.RuneCountInString(c.Name)
		switch {
		case c.Type == customers.TypeOrganization:
			company = append(company, c.Name)
			inside = append(inside, string([]rune(c.Name)[2:4])) // after the city: 华强 of 深圳华强…
		case runes == 2:
			name2 = append(name2, c.Name)
			pinyin = append(pinyin, c.Keys.Full)
			initials = append(initials, c.Keys.Initials)
		case runes == 3:
			name3 = append(name3, c.Name)
			inside = append(inside, string([]rune(c.Name)[1:])) // the given name: 小红 of 李小红
			pinyin = append(pinyin, c.Keys.Full)
			initials = append(initials, c.Keys.Initials)
		}
		if c.Email != "" {
			email = append(email, c.Email)
		}
		for _, o := range c.Products {
			serial = append(serial, o.Serial)
		}
		phone = append(phone, c.Phones[0].String())
		number = append(number, c.Number)
		last4 = append(last4, fmt.Sprintf("%04d", r.IntN(10000)))
	}
	substrings := []string{"技术有限", "有限公司", "科技有限", "股份有限", "网络科技", "医疗器械", "设备有限公司", "信息技术有限公司", "集团有限公司", "管理有限"}
	cities := seedCities[:12]
	api := func(qs []string) []string {
		out := make([]string, len(qs))
		for i, q := range qs {
			out[i] = "/api/v1/customers?q=" + url.QueryEscape(q)
		}
		return out
	}
	return []queryKind{
		{"name_2char (张伟)", searchFloorMS, api(name2[:per])},
		{"name_3char (张晓东)", searchFloorMS, api(name3[:per])},
		{"name_inside_2char (小红, 华强)", searchFloorMS, api(inside[:per])},
		{"city_prefix (北京)", searchFloorMS, api(cities)},
		{"company_substring (技术有限)", searchFloorMS, api(substrings)},
		{"company_name", searchFloorMS, api(company[:per])},
		{"pinyin (zhangwei)", searchFloorMS, api(pinyin[:per])},
		{"initials (zw)", searchFloorMS, api(initials[:per])},
		{"phone_last4", searchFloorMS, api(last4[:per])},
		{"phone", searchFloorMS, api(phone[:per])},
		{"customer_number", searchFloorMS, api(number[:per])},
		{"email", searchFloorMS, api(email[:per])},
		{"serial", searchFloorMS, api(serial[:per])},
	}
}

func listKinds() []queryKind {
	return []queryKind{
		{"list_api (tier=vip&type=organization)", listFloorMS, []string{"/api/v1/customers?tier=vip&type=organization"}},
		{"list_page (/customers?tier=vip)", listFloorMS, []string{"/customers?tier=vip"}},
		{"list_api (no filter)", listFloorMS, []string{"/api/v1/customers"}},
		{"list_api (tag=重点关怀)", listFloorMS, []string{"/api/v1/customers?tag=" + url.QueryEscape("重点关怀")}},
		{"list_api (lifecycle=churned&tier=potential)", listFloorMS, []string{"/api/v1/customers?lifecycle=churned&tier=potential"}},
		{"list_page (/customers?tier=vip&type=organization)", listFloorMS, []string{"/customers?tier=vip&type=organization"}},
	}
}

func runCustomerSearch(ctx context.Context, e Env, o Options) (any, error) {
	n, err := customerCount()
	if err != nil {
		return nil, err
	}
	return runCustomerKinds(ctx, e, o, "customer-search", n, searchKinds(n))
}

func runCustomerList(ctx context.Context, e Env, o Options) (any, error) {
	n, err := customerCount()
	if err != nil {
		return nil, err
	}
	return runCustomerKinds(ctx, e, o, "customer-list", n, listKinds())
}

// runCustomerKinds seeds (or reuses) n customers, starts the server and
// drives each kind of query in turn, cycling through its paths.
func runCustomerKinds(ctx context.Context, e Env, o Options, scenario string, n int, kinds []queryKind) (any, error) {
	s, seed, err := customerScratch(ctx, e, n)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// An agent: the usual user of the search box, who sees phones masked.
	token, err := s.SeedUser(ctx, fmt.Sprintf("bench-%d@example.com", time.Now().UnixNano()), "agent")
	if err != nil {
		return nil, err
	}
	srv, err := s.Start(ctx, e)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	header := http.Header{"Authorization": {"Bearer " + token}}
	res := CustomerBenchResult{Scenario: scenario, Customers: n, Seed: seed}
	res.Load[0] = loadAverage()
	client := &http.Client{Timeout: 30 * time.Second}
	if err := driveKinds(ctx, client, srv, header, scenario, o.Concurrency, o.Duration, kinds, &res); err != nil {
		return nil, err
	}
	res.Load[1] = loadAverage()
	writeKinds(e.Out, res)
	if len(res.Missed) > 0 {
		return res, fmt.Errorf("%s: floors missed: %s", scenario, strings.Join(res.Missed, ", "))
	}
	return res, nil
}

// probe sends one search and says how the server understood it and how
// many items came back.
func probe(ctx context.Context, c *http.Client, u string, h http.Header) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return "", 0, err
	}
	req.Header = h
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", 0, fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
		Kind  string            `json:"query_kind"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return "", 0, err
	}
	return page.Kind, len(page.Items), nil
}

func writeKinds(w io.Writer, r CustomerBenchResult) {
	fmt.Fprintf(w, "%s: %d customers; load average %s before, %s after\n", r.Scenario, r.Customers, r.Load[0], r.Load[1])
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\texample\tclassified\thits\treq/s\tp50 ms\tp99 ms\tmax ms\tfloor\t\t")
	for _, k := range r.Kinds {
		ok := "ok"
		if !k.Met {
			ok = "MISSED"
		}
		ex := k.Example
		if utf8.RuneCountInString(ex) > 24 {
			ex = string([]rune(ex)[:24]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f\t%.2f\t%.2f\t%.1f\t%.0f\t%s\t\n", k.Kind, ex, k.QueryKind, k.Hits, k.RequestsPerSecond,
			k.LatencyMS.P50, k.LatencyMS.P99, k.LatencyMS.Max, k.FloorMS, ok)
	}
	tw.Flush()
}

// CreateResult reports the concurrent-creation check.
type CreateResult struct {
	Scenario   string `json:"scenario"`
	Creators   int    `json:"creators"`
	Created    int    `json:"created"`
	Distinct   int    `json:"distinct"`
	Malformed  int    `json:"malformed"`
	Duplicates int    `json:"duplicates"`
	Gaps       int    `json:"gaps"` // serials missing within a month
	Load       string `json:"load_average"`
	loadgen.Result
}

// runCustomerCreate has 32 creators register 10,000 customers through the
// API, then checks every number: well-formed, distinct, and the serials of
// each month consecutive from 1.
func runCustomerCreate(ctx context.Context, e Env, o Options) (any, error) {
	const creators, total = 32, 10000
	rig, err := NewRig(ctx, e, "creator@example.com", "agent")
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	srv, token := rig.Server, rig.Token
	header := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	lr, err := loadgen.Run(ctx, loadgen.Options{
		Scenario:     "customer-create",
		BaseURL:      srv.BaseURL,
		Concurrency:  creators,
		MaxRequests:  total,
		Duration:     30 * time.Minute,
		PID:          srv.PID(),
		ExpectStatus: func(c int) bool { return c == http.StatusCreated },
		Next: func(worker, i int) loadgen.Request {
			body, _ := json.Marshal(map[string]any{
				"name":   fmt.Sprintf("并发客户%d-%d", worker, i),
				"phones": []string{fmt.Sprintf("139%08d", worker*1_000_000+i)},
				"tier":   "normal",
			})
			return loadgen.Request{Method: "POST", Path: "/api/v1/customers", Header: header, Body: body}
		},
	})
	if err != nil {
		return nil, err
	}
	_ = srv.Stop()
	res := CreateResult{Scenario: "customer-create", Creators: creators, Result: lr, Load: loadAverage()}
	numbers, err := allNumbers(ctx, rig.Scratch)
	if err != nil {
		return nil, err
	}
	res.Created = len(numbers)
	seen := map[string]bool{}
	serials := map[string][]int{}
	for _, num := range numbers {
		if seen[num] {
			res.Duplicates++
			continue
		}
		seen[num] = true
		if _, _, serial, err := customers.ParseNumber(num); err != nil {
			res.Malformed++
		} else {
			serials[num[:6]] = append(serials[num[:6]], serial)
		}
	}
	res.Distinct = len(seen)
	for _, list := range serials {
		sort.Ints(list)
		res.Gaps += list[len(list)-1] - len(list)
	}
	fmt.Fprintf(e.Out, "customer-create: %d creators, %d requests (%d × 201, %d failures) at %.0f/s, p50 %.1f ms, p99 %.1f ms; load average %s\n",
		creators, lr.Requests, lr.StatusCounts["201"], lr.Failures(), lr.RequestsPerSecond, lr.LatencyMS.P50, lr.LatencyMS.P99, res.Load)
	fmt.Fprintf(e.Out, "customer-create: %d customers stored, %d distinct numbers, %d duplicates, %d malformed, %d serial gaps\n",
		res.Created, res.Distinct, res.Duplicates, res.Malformed, res.Gaps)
	var problems []string
	if lr.Failures() > 0 {
		problems = append(problems, fmt.Sprintf("%d failed requests", lr.Failures()))
	}
	if int64(res.Created) != lr.StatusCounts["201"] || res.Created != total {
		problems = append(problems, fmt.Sprintf("%d stored for %d acknowledged", res.Created, lr.StatusCounts["201"]))
	}
	if res.Duplicates+res.Malformed+res.Gaps > 0 {
		problems = append(problems, "bad numbers")
	}
	if len(problems) > 0 {
		return res, errors.New("customer-create: " + strings.Join(problems, "; "))
	}
	return res, nil
}

func allNumbers(ctx context.Context, s *Scratch) ([]string, error) {
	cfg := s.Config()
	d, err := db.Open(ctx, cfg.DB, cfg.SQLitePath())
	if err != nil {
		return nil, err
	}
	defer d.Close()
	rows, err := d.R.QueryContext(ctx, `SELECT number FROM customers`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// freshSchema drops and creates a cached database's schema.
func freshSchema(dsn, schema string) error {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer admin.Close()
	_, _ = admin.Exec("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
	_, err = admin.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
	if err == nil {
		_, err = admin.Exec("CREATE SCHEMA " + schema)
	}
	if err != nil {
		return fmt.Errorf("cached schema: %w", err)
	}
	return nil
}

// driveKinds probes and loads each selected kind in turn, cycling through
// its paths, and adds its result (and a missed floor) to res.
func driveKinds(ctx context.Context, client *http.Client, srv *Server, header http.Header, scenario string, conc int, dur time.Duration,
	kinds []queryKind, res *CustomerBenchResult) error {
	for _, k := range selectKinds(kinds) {
		kr := KindResult{Kind: k.name, FloorMS: k.floorMS}
		kr.Example, _ = url.QueryUnescape(strings.TrimPrefix(k.paths[0], "/api/v1/customers?q="))
		var err error
		if strings.HasPrefix(k.paths[0], "/api/") {
			kr.QueryKind, kr.Hits, err = probe(ctx, client, srv.BaseURL+k.paths[0], header)
			if err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		paths := k.paths
		kr.Result, err = loadgen.Run(ctx, loadgen.Options{
			Scenario:     scenario + " " + k.name,
			BaseURL:      srv.BaseURL,
			Concurrency:  conc,
			Duration:     dur,
			Warmup:       500 * time.Millisecond,
			PID:          srv.PID(),
			ExpectStatus: func(c int) bool { return c == http.StatusOK },
			Next: func(worker, i int) loadgen.Request {
				return loadgen.Request{Path: paths[(worker*7+i)%len(paths)], Header: header}
			},
		})
		if err != nil {
			return err
		}
		kr.Met = kr.Failures() == 0 && kr.LatencyMS.P99 <= k.floorMS
		if !kr.Met {
			res.Missed = append(res.Missed, k.name)
		}
		res.Kinds = append(res.Kinds, kr)
	}
	return nil
}
