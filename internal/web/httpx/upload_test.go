package httpx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/web/httpx"
)

func newAttachments(t *testing.T, d *db.DB) *attachments.Store {
	t.Helper()
	clk := clock.NewFake(time.Now())
	log := audit.New(d, clk)
	st, err := attachments.New(d, clk, log, settings.New(d, clk, log), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 3, 3))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// uploadHandler answers what ReadUpload read, or its error as a problem.
func uploadHandler(st *attachments.Store) http.HandlerFunc {
	k := httpx.Kit{Cat: i18n.MustLoad(), Log: slog.New(slog.DiscardHandler)}
	return func(w http.ResponseWriter, r *http.Request) {
		form, err := httpx.ReadUpload(w, r, st, "files")
		if err != nil {
			k.Error(w, r, err)
			return
		}
		var out struct {
			Note  string   `json:"note"`
			Names []string `json:"names"`
			Types []string `json:"types"`
		}
		out.Note = form.Fields.Get("note")
		for _, f := range form.Files {
			out.Names = append(out.Names, f.Name())
			out.Types = append(out.Types, f.ContentType())
		}
		k.JSON(w, http.StatusOK, out)
	}
}

func TestReadUpload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		st := newAttachments(t, d)
		srv := httptest.NewServer(uploadHandler(st))
		defer srv.Close()

		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("note", "请看附件")
		fw, _ := mw.CreateFormFile("files", "现场照片.png")
		_, _ = fw.Write(pngBytes(t))
		fw, _ = mw.CreateFormFile("files", "清单.csv")
		_, _ = fw.Write([]byte("型号,数量\nRO-500,2\n"))
		_ = mw.Close()
		resp, err := http.Post(srv.URL, mw.FormDataContentType(), &body)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Note  string   `json:"note"`
			Names []string `json:"names"`
			Types []string `json:"types"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != 200 || got.Note != "请看附件" || fmt.Sprint(got.Names) != "[现场照片.png 清单.csv]" || fmt.Sprint(got.Types) != "[image/png text/csv]" {
			t.Fatalf("%d %+v", resp.StatusCode, got)
		}

		// A refused file is a 400 naming the field.
		body.Reset()
		mw = multipart.NewWriter(&body)
		fw, _ = mw.CreateFormFile("files", "page.txt")
		_, _ = fw.Write([]byte("<html><script>alert(1)</script>"))
		_ = mw.Close()
		req, _ := http.NewRequest("POST", srv.URL, &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		problem, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(problem), `"field":"attachments"`) || !strings.Contains(string(problem), "SVG") {
			t.Fatalf("%d %s", resp.StatusCode, problem)
		}

		// Not multipart.
		resp, err = http.Post(srv.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("json body: %d", resp.StatusCode)
		}
	})
}

// countingBody counts what the server read.
type countingBody struct {
	r    io.Reader
	read int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

func (c *countingBody) Close() error { return nil }

// lazy produces n bytes of 'z' without holding them.
type lazy struct{ n int64 }

func (l *lazy) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), l.n)
	for i := range p[:k] {
		p[i] = 'z'
	}
	l.n -= k
	return int(k), nil
}

// multipartStream is the body of one file part of n lazy bytes.
func multipartStream(name string, n int64) (io.Reader, string) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="files"; filename="`+name+`"`)
	h.Set("Content-Type", "text/plain")
	_, _ = mw.CreatePart(h)
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	return io.MultiReader(bytes.NewReader(head.Bytes()), &lazy{n: n}, strings.NewReader(tail)), mw.FormDataContentType()
}

func TestReadUploadRefusesEarly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		st := newAttachments(t, d)
		ctx := context.Background()
		lim := attachments.DefaultLimits()
		lim.MaxFileBytes = 1 << 20
		if _, err := st.SetLimits(ctx, lim, 0); err != nil {
			t.Fatal(err)
		}
		h := uploadHandler(st)

		// A Content-Length above the limits: refused before reading.
		stream, ct := multipartStream("big.txt", 200<<20)
		body := &countingBody{r: stream}
		req := httptest.NewRequest("POST", "/upload", body)
		req.Header.Set("Content-Type", ct)
		req.ContentLength = 200 << 20
		w := httptest.NewRecorder()
		h(w, req)
		if w.Code != http.StatusRequestEntityTooLarge || body.read != 0 {
			t.Fatalf("declared 200 MB: %d, read %d: %s", w.Code, body.read, w.Body)
		}
		if !strings.Contains(w.Body.String(), "10 个文件") {
			t.Fatalf("problem: %s", w.Body)
		}

		// No Content-Length (chunked): the file part stops at its limit.
		stream, ct = multipartStream("big.txt", 200<<20)
		body = &countingBody{r: stream}
		req = httptest.NewRequest("POST", "/upload", body)
		req.Header.Set("Content-Type", ct)
		req.ContentLength = -1
		w = httptest.NewRecorder()
		h(w, req)
		if w.Code != http.StatusRequestEntityTooLarge || body.read > lim.MaxFileBytes+64<<10 {
			t.Fatalf("streamed 200 MB: %d, read %d: %s", w.Code, body.read, w.Body)
		}
		if !strings.Contains(w.Body.String(), "big.txt") || !strings.Contains(w.Body.String(), "1 MB") {
			t.Fatalf("problem: %s", w.Body)
		}

		// More files than allowed: refused at the first one too many.
		lim.MaxFiles = 2
		if _, err := st.SetLimits(ctx, lim, 1); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for i := range 3 {
			fw, _ := mw.CreateFormFile("files", fmt.Sprintf("n%d.txt", i))
			fmt.Fprintf(fw, "note %d", i)
		}
		_ = mw.Close()
		req = httptest.NewRequest("POST", "/upload", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		w = httptest.NewRecorder()
		h(w, req)
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "2") {
			t.Fatalf("three files: %d %s", w.Code, w.Body)
		}
	})
}

func TestServeAttachment(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		st := newAttachments(t, d)
		ctx := context.Background()
		img, err := st.Save(ctx, "ticket_message", 1, "现场 照片.png", bytes.NewReader(pngBytes(t)))
		if err != nil {
			t.Fatal(err)
		}
		txt, err := st.Save(ctx, "ticket_message", 1, "说明.txt", strings.NewReader("0123456789 维修说明"))
		if err != nil {
			t.Fatal(err)
		}
		serve := func(id int64, target string, hdr map[string]string) *httptest.ResponseRecorder {
			t.Helper()
			a, rc, err := st.Open(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", target, nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			httpx.ServeAttachment(w, req, a, rc)
			return w
		}
		common := func(w *httptest.ResponseRecorder) {
			t.Helper()
			if w.Header().Get("X-Content-Type-Options") != "nosniff" || w.Header().Get("Content-Security-Policy") != "sandbox; default-src 'none'" {
				t.Errorf("headers %v", w.Header())
			}
		}

		w := serve(txt.ID, "/a/2", nil)
		common(w)
		if w.Code != 200 || w.Header().Get("Content-Type") != "text/plain" || w.Body.String() != "0123456789 维修说明" ||
			w.Header().Get("Content-Disposition") != `attachment; filename="__.txt"; filename*=UTF-8''%E8%AF%B4%E6%98%8E.txt` {
			t.Fatalf("text: %d %v %q", w.Code, w.Header(), w.Body)
		}
		w = serve(txt.ID, "/a/2?preview=1", map[string]string{"Range": "bytes=2-5"})
		common(w)
		if w.Code != http.StatusPartialContent || w.Body.String() != "2345" || !strings.HasPrefix(w.Header().Get("Content-Disposition"), "attachment;") {
			t.Fatalf("range, text never inline: %d %v %q", w.Code, w.Header(), w.Body)
		}
		w = serve(img.ID, "/a/1", nil)
		common(w)
		if w.Header().Get("Content-Type") != "image/png" ||
			w.Header().Get("Content-Disposition") != `attachment; filename="__ __.png"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%20%E7%85%A7%E7%89%87.png` {
			t.Fatalf("image: %v", w.Header())
		}
		w = serve(img.ID, "/a/1?preview=1", nil)
		common(w)
		if !strings.HasPrefix(w.Header().Get("Content-Disposition"), "inline;") || w.Body.Len() != int(img.Size) {
			t.Fatalf("preview: %v", w.Header())
		}
		w = serve(img.ID, "/a/1", map[string]string{"If-None-Match": `"` + img.SHA256 + `"`})
		if w.Code != http.StatusNotModified {
			t.Fatalf("etag: %d", w.Code)
		}
	})
}
