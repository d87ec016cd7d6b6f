package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/jobs"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/web/api"
	"github.com/careloop/careloop/internal/web/httpx"
)

// importXLSX builds a one-sheet workbook of rows (header first).
func importXLSX(t testing.TB, rows [][]string, extraSheets int) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		for j, v := range row {
			cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
			if err := f.SetCellStr("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range extraSheets {
		name := fmt.Sprintf("S%d", i+2)
		if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		_ = f.SetCellStr(name, "A1", "x")
	}
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload posts a multipart import with form fields.
func upload(t *testing.T, k *testkit.Kit, token, query, name string, data []byte, fields map[string]string) *testkit.Response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for f, v := range fields {
		_ = mw.WriteField(f, v)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	return k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers/import" + query, Token: token, Body: b.Bytes(),
		Header: map[string]string{"Content-Type": mw.FormDataContentType()}})
}

type importAnswer struct {
	Created int `json:"created"`
	Errors  []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
	Rows  int  `json:"rows"`
	Valid int  `json:"valid"`
	Dry   bool `json:"dry_run"`
}

func customerCount(t *testing.T, k *testkit.Kit) int {
	t.Helper()
	var n int
	if err := k.App.DB.R.QueryRow(`SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var importRows = [][]string{
	{"客户编号", "客户名称/单位", "联系方式", "所属行业/产品类型", "生日"},
	{"202401001", "杭州西湖电子有限公司", "0571-88886666", "电子/路由器", ""},
	{"", "王小明", "1391234567", "", "2099-01-01"}, // bad phone, birthday in the future
	{"", "李娜", "13812345678", "", "1990-05-06"},
}

func TestCustomerImportAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, manager := k.User("manager@example.com", "supervisor")
		_, agent := k.User("agent@example.com", "agent")
		file := importXLSX(t, importRows, 0)

		if r := upload(t, k, agent, "", "c.xlsx", file, nil); r.Status != http.StatusForbidden {
			t.Fatalf("agent import: %d", r.Status)
		}
		// Dry run (query parameter): the per-row report, in English.
		r := upload(t, k, manager, "?dry_run=true", "c.xlsx", file, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("dry run: %d %s", r.Status, r.Body)
		}
		var a importAnswer
		r.JSON(t, &a)
		if !a.Dry || a.Created != 0 || a.Rows != 3 || a.Valid != 2 || len(a.Errors) != 2 || a.Errors[0].Row != 3 || a.Errors[0].Column != "联系方式" {
			t.Fatalf("dry run answer = %+v", a)
		}
		if customerCount(t, k) != 0 {
			t.Fatal("a dry run wrote customers")
		}
		// All or nothing (form field, Chinese): nothing imported.
		r = upload(t, k, manager, "", "c.xlsx", file, map[string]string{"dry_run": "false"})
		r.JSON(t, &a)
		if r.Status != http.StatusOK || a.Created != 0 || len(a.Errors) != 2 || customerCount(t, k) != 0 {
			t.Fatalf("all or nothing: %d %s", r.Status, r.Body)
		}
		if !strings.Contains(a.Errors[1].Message, "日期") && !strings.Contains(a.Errors[1].Message, "未来") {
			t.Errorf("message not in Chinese: %q", a.Errors[1].Message)
		}
		// Valid only.
		r = upload(t, k, manager, "?mode=valid_only", "c.xlsx", file, nil)
		r.JSON(t, &a)
		if r.Status != http.StatusOK || a.Created != 2 || len(a.Errors) != 2 || customerCount(t, k) != 2 {
			t.Fatalf("valid only: %d %s", r.Status, r.Body)
		}
		// Fixed file: the two imported rows are duplicates now, the fixed one goes in.
		fixed := [][]string{importRows[0], {"", "王小明", "13912345670", "", "1988-01-01"}}
		r = upload(t, k, manager, "", "fixed.xlsx", importXLSX(t, fixed, 0), nil)
		r.JSON(t, &a)
		if r.Status != http.StatusOK || a.Created != 1 || customerCount(t, k) != 3 {
			t.Fatalf("fixed file: %d %s", r.Status, r.Body)
		}
		// The imported number was kept; the next one continues after it.
		var num string
		if err := k.App.DB.R.QueryRow(`SELECT number FROM customers WHERE name = '杭州西湖电子有限公司'`).Scan(&num); err != nil || num != "202401001" {
			t.Fatalf("imported number %q %v", num, err)
		}
		// Options are checked.
		r = upload(t, k, manager, "?mode=some", "c.xlsx", file, nil)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("bad mode: %d", r.Status)
		}
	})
}

func TestCustomerImportRefusesBadFiles(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, manager := k.User("manager@example.com", "supervisor")
		cases := map[string][]byte{
			"not a spreadsheet": []byte("%PDF-1.4 \x00\x01\x02\x03"),
			"five sheets":       importXLSX(t, importRows, 4),
			"broken quote":      []byte("客户名称,联系方式\r\n\"张三,13912345678\r\n李四,13812345678\r\n"),
			"formula":           formulaXLSX(t),
			"empty":             {},
		}
		for name, data := range cases {
			r := upload(t, k, manager, "", name, data, nil)
			if r.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
				continue
			}
			if p := r.Problem(t); len(p.Errors) == 0 || p.Errors[0].Field != "file" {
				t.Errorf("%s: problem %+v", name, p)
			}
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers/import", Token: manager, Body: "{}"}); r.Status != http.StatusBadRequest {
			t.Errorf("no file: %d %s", r.Status, r.Body)
		}
		if customerCount(t, k) != 0 {
			t.Fatal("a refused file wrote customers")
		}
	})
}

func formulaXLSX(t *testing.T) []byte {
	f := excelize.NewFile()
	defer f.Close()
	_ = f.SetCellStr("Sheet1", "A1", "客户名称")
	_ = f.SetCellStr("Sheet1", "A2", "张三")
	_ = f.SetCellFormula("Sheet1", "A3", `HYPERLINK("http://x","y")`)
	var b bytes.Buffer
	_ = f.Write(&b)
	return b.Bytes()
}

// TestCustomerImportTooLarge sends 50 MB: refused with 413 without reading it.
func TestCustomerImportTooLarge(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, manager := k.User("manager@example.com", "supervisor")
		big := make([]byte, 50<<20)
		for _, chunked := range []bool{false, true} {
			var body io.Reader = bytes.NewReader(big)
			if chunked {
				body = io.MultiReader(strings.NewReader("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n"), bytes.NewReader(big))
			}
			req, _ := http.NewRequest("POST", k.URL+"/api/v1/customers/import", body)
			req.Header.Set("Authorization", "Bearer "+manager)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("chunked=%v: %v", chunked, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
				t.Fatalf("chunked=%v: %d %s", chunked, resp.StatusCode, b)
			}
		}
	})
}

func TestCustomerExportAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, manager := k.User("manager@example.com", "supervisor")
		u, _ := k.User("export@example.com", "quality")
		_, agent := k.User("agent@example.com", "agent")
		for _, in := range []map[string]any{
			{"name": "张伟", "phones": []string{"13912345678"}, "tier": "vip", "remarks": "=HYPERLINK(\"http://evil\")"},
			{"name": "李娜", "phones": []string{"13812345678"}, "tier": "normal"},
		} {
			if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/customers", Token: manager, Body: in}); r.Status != http.StatusCreated {
				t.Fatalf("create: %d %s", r.Status, r.Body)
			}
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers/export?format=csv", Token: agent}); r.Status != http.StatusForbidden {
			t.Fatalf("agent export: %d", r.Status)
		}
		// CSV, filtered by tier, as a role that may export but not see
		// contact details (masked phones).
		var csvOut bytes.Buffer
		masked := identity.NewPrincipal(u, []string{"exporter"}, []identity.Permission{identity.CustomersView, identity.CustomersExport})
		n, err := k.App.Customers.Export(context.Background(), masked, customers.Filter{Tier: "vip"}, "csv", api.ExportTextFor(httpx.Kit{Cat: k.App.Catalog}, "en"), &csvOut)
		body := csvOut.String()
		if err != nil || n != 1 || !strings.HasPrefix(body, "\ufeffNumber,Name,") || !strings.Contains(body, "139****5678") ||
			strings.Contains(body, "13912345678") || strings.Contains(body, "李娜") || !strings.Contains(body, `"'=HYPERLINK(""http://evil"")"`) {
			t.Fatalf("masked csv export: %d %v %q", n, err, body)
		}
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers/export?format=csv&tier=vip", Token: manager})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "13912345678") || !strings.Contains(string(r.Body), "'=HYPERLINK") {
			t.Fatalf("csv export: %d %s", r.Status, r.Body)
		}
		if !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("disposition %q", r.Header.Get("Content-Disposition"))
		}
		// XLSX as manager: full phones, the formula kept as a text cell; it
		// imports again (the header is recognised).
		r = k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers/export?format=xlsx&q=张伟", Token: manager})
		if r.Status != http.StatusOK {
			t.Fatalf("xlsx export: %d %s", r.Status, r.Body)
		}
		f, err := excelize.OpenReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := f.GetRows("customers")
		f.Close()
		if len(rows) != 2 || rows[1][1] != "张伟" || rows[1][3] != "13912345678" || !strings.HasPrefix(rows[1][13], "=HYPERLINK") {
			t.Fatalf("xlsx rows = %q", rows)
		}
		hr, err := customers.OpenImport(bytes.NewReader(r.Body), customers.ImportOptions{})
		if err != nil {
			t.Fatalf("export does not import: %v", err)
		}
		hr.Close()
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/customers/export?format=pdf", Token: manager}); r.Status != http.StatusBadRequest {
			t.Fatalf("pdf: %d", r.Status)
		}
	})
}

func TestCustomerImportJob(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		_, manager := k.User("manager@example.com", "supervisor")
		_, other := k.User("manager2@example.com", "supervisor")
		ctx := context.Background()
		runner, err := jobs.New(ctx, k.App.DB, slog.New(slog.DiscardHandler), jobs.Kinds{Identity: k.App.Identity, Clock: k.App.Clock, Customers: k.App.Customers})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(runner.Close)
		k.App.Customers.SetImportQueue(runner.InsertImport, 10)
		csv := "客户名称,联系方式\r\n"
		for i := range 30 {
			csv += fmt.Sprintf("客户%02d,139%08d\r\n", i, i)
		}
		// Queued (workers not started yet), then cancelled: nothing runs.
		r := upload(t, k, manager, "", "big.csv", []byte(csv), nil)
		if r.Status != http.StatusAccepted {
			t.Fatalf("large file: %d %s", r.Status, r.Body)
		}
		var job struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
			Result *struct {
				Created int `json:"created"`
			} `json:"result"`
		}
		r.JSON(t, &job)
		path := fmt.Sprintf("/api/v1/customers/import/jobs/%d", job.ID)
		if loc := r.Header.Get("Location"); loc != path || job.Status != "queued" {
			t.Fatalf("job %+v at %q", job, loc)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: path, Token: other}); r.Status != http.StatusNotFound {
			t.Fatalf("someone else's job: %d", r.Status)
		}
		r = k.Do(testkit.Request{Method: "DELETE", Path: path, Token: manager})
		r.JSON(t, &job)
		if r.Status != http.StatusAccepted || job.Status != "cancelled" {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		if err := runner.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = runner.Stop(sctx)
		})
		// A second upload runs to the end.
		r = upload(t, k, manager, "?mode=valid_only", "big.csv", []byte(csv+"坏行,123\r\n"), nil)
		r.JSON(t, &job)
		path = fmt.Sprintf("/api/v1/customers/import/jobs/%d", job.ID)
		deadline := time.Now().Add(30 * time.Second)
		for job.Status != "done" && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			r = k.Do(testkit.Request{Method: "GET", Path: path, Token: manager})
			r.JSON(t, &job)
		}
		if job.Status != "done" || job.Result == nil || job.Result.Created != 30 || customerCount(t, k) != 30 {
			t.Fatalf("job: %s", r.Body)
		}
		var report map[string]any
		_ = json.Unmarshal(r.Body, &report)
		if errs := report["result"].(map[string]any)["errors"].([]any); len(errs) != 1 {
			t.Fatalf("job errors = %v", errs)
		}
	})
}
