package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/testkit"
)

// importStep is the progress a background import reported after a batch.
type importStep struct {
	ID          int64
	Phase       string
	Done, Total int
}

// importGate holds the background imports of a Careloop after each batch
// of rows (customers.Store.SetImportHook), so that a test sees an import
// running at a known point, without waiting for time to pass.
type importGate struct {
	t        testing.TB
	steps    chan importStep
	resume   chan struct{}
	open     chan struct{} // closed: imports run without stopping
	openOnce sync.Once
}

// gateImports holds every background import of k after each batch until
// the test resumes it, or opens the gate. The gate opens when the test
// ends, before the kit stops its workers (Cleanup runs last in, first out).
func gateImports(t testing.TB, k *testkit.Kit) *importGate {
	g := &importGate{t: t, steps: make(chan importStep), resume: make(chan struct{}), open: make(chan struct{})}
	k.App.Customers.SetImportHook(func(ctx context.Context, id int64, phase string, done, total int) {
		select {
		case g.steps <- importStep{ID: id, Phase: phase, Done: done, Total: total}:
		case <-g.open:
			return
		case <-ctx.Done():
			return
		}
		// Held even when cancelled, so that the test sees the cancel
		// asked while the import still runs.
		select {
		case <-g.resume:
		case <-g.open:
		}
	})
	t.Cleanup(g.Open)
	return g
}

const gateTimeout = 30 * time.Second

// Next waits for the next batch of a background import; the import then
// waits until Resume (or Open).
func (g *importGate) Next() importStep {
	g.t.Helper()
	select {
	case s := <-g.steps:
		return s
	case <-time.After(gateTimeout):
		g.t.Fatalf("no background import reported progress within %v", gateTimeout)
		return importStep{}
	}
}

// Resume lets the held import go on to its next batch.
func (g *importGate) Resume() {
	g.t.Helper()
	select {
	case g.resume <- struct{}{}:
	case <-time.After(gateTimeout):
		g.t.Fatal("no background import is held")
	}
}

// Until resumes the held import until it reports phase with at least done
// rows, and returns that step (held).
func (g *importGate) Until(phase string, done int) importStep {
	g.t.Helper()
	for {
		s := g.Next()
		if s.Phase == phase && s.Done >= done {
			return s
		}
		g.Resume()
	}
}

// Open lets every import run to its end without stopping.
func (g *importGate) Open() { g.openOnce.Do(func() { close(g.open) }) }

// customersCSV is a valid import file of n customers whose names start with
// prefix and whose mobile numbers start at 139 followed by first.
func customersCSV(prefix string, n, first int) []byte {
	var b strings.Builder
	b.WriteString("客户名称,联系方式\r\n")
	for i := range n {
		fmt.Fprintf(&b, "%s%04d,139%08d\r\n", prefix, i, first+i)
	}
	return []byte(b.String())
}

type importJobAnswer struct {
	ID              int64  `json:"id"`
	Status          string `json:"status"`
	Phase           string `json:"phase"`
	RowsDone        int    `json:"rows_done"`
	RowsTotal       int    `json:"rows_total"`
	CancelRequested bool   `json:"cancel_requested"`
	Result          *struct {
		Created int `json:"created"`
	} `json:"result"`
	FinishedAt *time.Time `json:"finished_at"`
}

func getJob(t *testing.T, k *testkit.Kit, token, path string) importJobAnswer {
	t.Helper()
	r := k.Do(testkit.Request{Method: "GET", Path: path, Token: token})
	if r.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	var j importJobAnswer
	r.JSON(t, &j)
	return j
}

// waitJobEnd polls a job until it leaves queued and running.
func waitJobEnd(t *testing.T, k *testkit.Kit, token, path string) importJobAnswer {
	t.Helper()
	deadline := time.Now().Add(gateTimeout)
	for {
		j := getJob(t, k, token, path)
		if j.Status != customers.ImportQueued && j.Status != customers.ImportRunning {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after %v", path, j.Status, gateTimeout)
		}
		time.Sleep(20 * time.Millisecond) // polling interval of an asynchronous job
	}
}

// TestCustomerImportJobProgressAndCancel runs a background import (the row
// threshold lowered through the configuration), holds it while it runs,
// reads its progress, cancels it through the API and checks that nothing
// was kept; then the rules around it: ended jobs cannot be cancelled, and
// nobody but the user who started a job sees it.
func TestCustomerImportJobProgressAndCancel(t *testing.T) {
	testkit.EachWith(t, testkit.Options{Jobs: true, ImportSyncRows: 100}, func(t *testing.T, k *testkit.Kit) {
		managerUser, manager := k.User("manager@example.com", "supervisor")
		_, other := k.User("manager2@example.com", "supervisor")
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		// A token's first use is a write (its last use); on SQLite it would
		// wait for a running import's transaction, so use each one now.
		for _, tok := range []string{manager, other, admin, agent} {
			if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/me", Token: tok}); r.Status != http.StatusOK {
				t.Fatalf("me: %d", r.Status)
			}
		}
		for i, name := range []string{"已有客户甲", "已有客户乙"} {
			in := map[string]any{"name": name, "phones": []string{fmt.Sprintf("1380000000%d", i)}}
			if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: manager, Body: in}); r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
		}
		before := customerCount(t, k)
		g := gateImports(t, k)

		// At the threshold the file is imported during the request.
		r := upload(t, k, manager, "", "small.csv", customersCSV("小文件", 100, 0), map[string]string{"dry_run": "true"})
		if r.Status != http.StatusOK {
			t.Fatalf("100 rows (threshold 100): %d %s", r.Status, r.Body)
		}
		// Above it, a job (all or nothing, the default).
		r = upload(t, k, manager, "", "big.csv", customersCSV("大文件", 1000, 1000), nil)
		if r.Status != http.StatusAccepted {
			t.Fatalf("1000 rows: %d %s", r.Status, r.Body)
		}
		var job importJobAnswer
		r.JSON(t, &job)
		path := fmt.Sprintf("/api/v1/customers/import/jobs/%d", job.ID)

		// Checking: rows read, total unknown yet.
		s := g.Next()
		if s != (importStep{ID: job.ID, Phase: customers.PhaseChecking, Done: 400}) {
			t.Fatalf("first step %+v", s)
		}
		if j := getJob(t, k, manager, path); j.Status != customers.ImportRunning || j.Phase != customers.PhaseChecking ||
			j.RowsDone != 400 || j.RowsTotal != 0 {
			t.Fatalf("checking: %+v", j)
		}
		// Importing, held after the first batch inside the write transaction.
		g.Resume()
		s = g.Until(customers.PhaseImporting, 1)
		if s.Done != 400 || s.Total != 1000 {
			t.Fatalf("importing step %+v", s)
		}
		if j := getJob(t, k, manager, path); j.Status != customers.ImportRunning || j.Phase != customers.PhaseImporting ||
			j.RowsDone != 400 || j.RowsTotal != 1000 || j.CancelRequested {
			t.Fatalf("importing: %+v", j)
		}
		// Nobody else sees or cancels it: another user, even an admin, gets
		// 404; a role without customers.import 403.
		for _, c := range []struct {
			token  string
			status int
		}{{other, http.StatusNotFound}, {admin, http.StatusNotFound}, {agent, http.StatusForbidden}} {
			for _, method := range []string{"GET", "DELETE"} {
				if r := k.Do(testkit.Request{Method: method, Path: path, Token: c.token}); r.Status != c.status {
					t.Errorf("%s by someone else: %d %s, want %d", method, r.Status, r.Body, c.status)
				}
			}
		}
		if r := k.Do(testkit.Request{Method: "DELETE", Path: path}); r.Status != http.StatusUnauthorized {
			t.Errorf("DELETE without a token: %d", r.Status)
		}
		if j := getJob(t, k, manager, path); j.Status != customers.ImportRunning || j.CancelRequested {
			t.Fatalf("after the others' attempts: %+v", j)
		}
		// Cancelled while it runs: accepted, still running with the cancel
		// asked; resumed, it stops before its next batch and rolls back.
		r = k.Do(testkit.Request{Method: "DELETE", Path: path, Token: manager})
		r.JSON(t, &job)
		if r.Status != http.StatusAccepted || job.Status != customers.ImportRunning || !job.CancelRequested {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if j := getJob(t, k, manager, path); j.Status != customers.ImportRunning || !j.CancelRequested || j.RowsDone != 400 {
			t.Fatalf("cancel asked: %+v", j)
		}
		g.Resume()
		g.Open()
		job = waitJobEnd(t, k, manager, path)
		if job.Status != customers.ImportCancelled || job.Result != nil || job.FinishedAt == nil {
			t.Fatalf("after cancel: %+v", job)
		}
		if n := customerCount(t, k); n != before {
			t.Fatalf("%d customers after a cancelled import, want %d", n, before)
		}
		var files, audits int
		_ = k.App.DB.R.QueryRow(`SELECT COUNT(*) FROM customer_import_files`).Scan(&files)
		_ = k.App.DB.R.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.import'`).Scan(&audits)
		if files != 0 || audits != 0 {
			t.Fatalf("a cancelled import left %d stored files, %d audit entries", files, audits)
		}
		// An ended job cannot be cancelled again: 409 saying why, in the
		// user's language.
		for _, lang := range []struct{ locale, want string }{{"zh-CN", "该导入已经结束（已取消），无法再取消。"}, {"en", "already ended (cancelled)"}} {
			if r := k.Do(testkit.Request{Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", managerUser.ID), Token: admin,
				Body: map[string]any{"locale": lang.locale}}); r.Status != http.StatusOK {
				t.Fatalf("set locale: %d %s", r.Status, r.Body)
			}
			r = k.Do(testkit.Request{Method: "DELETE", Path: path, Token: manager})
			if r.Status != http.StatusConflict || !strings.Contains(r.Problem(t).Detail, lang.want) {
				t.Fatalf("cancel a cancelled job (%s): %d %s", lang.locale, r.Status, r.Body)
			}
		}

		// The same file, run to its end (the gate is open now), valid rows only.
		r = upload(t, k, manager, "?mode=valid_only", "big.csv", customersCSV("大文件", 1000, 1000), nil)
		r.JSON(t, &job)
		path = fmt.Sprintf("/api/v1/customers/import/jobs/%d", job.ID)
		if r.Status != http.StatusAccepted {
			t.Fatalf("second upload: %d %s", r.Status, r.Body)
		}
		job = waitJobEnd(t, k, manager, path)
		if job.Status != customers.ImportDone || job.Result == nil || job.Result.Created != 1000 || job.RowsDone != 1000 || job.RowsTotal != 1000 {
			t.Fatalf("finished job: %+v", job)
		}
		if n := customerCount(t, k); n != before+1000 {
			t.Fatalf("%d customers, want %d", n, before+1000)
		}
		r = k.Do(testkit.Request{Method: "DELETE", Path: path, Token: manager})
		if r.Status != http.StatusConflict || !strings.Contains(r.Problem(t).Detail, "already ended (finished)") {
			t.Fatalf("cancel a finished job: %d %s", r.Status, r.Body)
		}
		if n := customerCount(t, k); n != before+1000 {
			t.Fatalf("a refused cancel changed the customers: %d", n)
		}
		// The page's cancel button of an ended job leads back to its page;
		// someone else's is not found.
		page := fmt.Sprintf("/customers/import/jobs/%d", job.ID)
		for _, c := range []struct {
			email  string
			status int
		}{{"manager@example.com", http.StatusSeeOther}, {"manager2@example.com", http.StatusNotFound}} {
			resp, err := k.Login(c.email, testkit.Password).PostForm(k.URL+page+"/cancel", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status || (c.status == http.StatusSeeOther && resp.Header.Get("Location") != page) {
				t.Errorf("page cancel by %s: %d %q", c.email, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})
}
