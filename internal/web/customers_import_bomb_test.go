package web_test

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/testkit/xlsxbomb"
)

// TestCustomerImportRefusesBombs uploads spreadsheet bombs (64 MB of text in
// 100 KB, in the sheet and in the shared strings) to the API and the page:
// 400 naming the file, the message of the key the reader refused with, in
// the caller's language, nothing written, and little memory spent.
func TestCustomerImportRefusesBombs(t *testing.T) {
	const size = 64 << 20
	bombs := map[string][]byte{
		"sheet":          xlsxbomb.SheetBomb(size),
		"shared strings": xlsxbomb.StringsBomb(size),
	}
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		manager, token := k.User("manager@example.com", "supervisor")
		_, admin := k.User("admin@example.com", "admin")
		browser := k.Login("manager@example.com", testkit.Password)
		for name, bomb := range bombs {
			// What the reader refuses it with, to compare the answers to.
			_, err := customers.OpenImport(bytes.NewReader(bomb), customers.ImportOptions{MaxBytes: 32 << 20})
			var v *domain.ValidationError
			if !errors.As(err, &v) || v.Fields[0].Key != customers.KeyImportCompression {
				t.Fatalf("%s: the reader says %v, want %s", name, err, customers.KeyImportCompression)
			}
			for _, lang := range []string{"zh-CN", "en"} {
				if r := k.Do(testkit.Request{Method: "PATCH", Path: fmt.Sprintf("/api/v1/users/%d", manager.ID), Token: admin,
					Body: map[string]any{"locale": lang}}); r.Status != http.StatusOK {
					t.Fatalf("set locale: %d %s", r.Status, r.Body)
				}
				want := k.App.Catalog.T(lang, v.Fields[0].Key, v.Fields[0].Params)
				runtime.GC()
				var m0, m1 runtime.MemStats
				runtime.ReadMemStats(&m0)
				r := upload(t, k, token, "?dry_run=true", "bomb.xlsx", bomb, nil)
				runtime.ReadMemStats(&m1)
				if r.Status != http.StatusBadRequest {
					t.Fatalf("%s (%s): %d %s", name, lang, r.Status, r.Body)
				}
				if p := r.Problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "file" || p.Errors[0].Message != want {
					t.Fatalf("%s (%s): problem %+v, want file: %q", name, lang, p, want)
				}
				// The server and this client share the process: the upload's
				// buffers (a few MB) count, 64 MB of text would.
				if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 24<<20 {
					t.Errorf("%s (%s): the refusal allocated %d MB", name, lang, alloc>>20)
				}
				// The page shows the same message in place of the report.
				var b bytes.Buffer
				mw := multipart.NewWriter(&b)
				_ = mw.WriteField("dry_run", "on")
				fw, _ := mw.CreateFormFile("file", "bomb.xlsx")
				_, _ = fw.Write(bomb)
				_ = mw.Close()
				page := k.DoWith(browser, testkit.Request{Method: "POST", Path: "/customers/import", Body: b.Bytes(),
					Header: map[string]string{"Content-Type": mw.FormDataContentType()}})
				if page.Status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(string(page.Body)), want) {
					t.Fatalf("page, %s (%s): %d, want %q", name, lang, page.Status, want)
				}
			}
		}
		var files, audits int
		_ = k.App.DB.R.QueryRow(`SELECT COUNT(*) FROM customer_import_files`).Scan(&files)
		_ = k.App.DB.R.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action LIKE 'customer.%'`).Scan(&audits)
		if n := customerCount(t, k); n != 0 || files != 0 || audits != 0 {
			t.Fatalf("refused bombs left %d customers, %d stored files, %d audit entries", n, files, audits)
		}
	})
}
