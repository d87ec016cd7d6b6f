package web_test

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit"
)

var attachPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func attachPNG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type upFile struct {
	name    string
	content []byte
}

// multipartPost is a multipart body: the fields (in order, name then
// value), then the files under "attachments".
func multipartPost(t testing.TB, fields []string, files ...upFile) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile("attachments", f.name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(f.content)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

func (f *ticketFix) upload(token string, ticketID int64, fields []string, files ...upFile) *testkit.Response {
	f.k.T.Helper()
	body, ct := multipartPost(f.k.T, fields, files...)
	return f.do(token, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", ticketID), body, "Content-Type", ct)
}

type attachJSON struct {
	ID          int64  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	URL         string `json:"url"`
	PreviewURL  string `json:"preview_url"`
}

type attachThread struct {
	Items []struct {
		Kind        string       `json:"kind"`
		ID          int64        `json:"id"`
		Body        string       `json:"body"`
		Attachments []attachJSON `json:"attachments"`
	} `json:"items"`
}

func (f *ticketFix) attachmentRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.k.App.DB.R.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM attachments WHERE deleted_at IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTicketAttachmentsAPI(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		tk := f.create(t, f.alice, nil)
		img := attachPNG(t)
		r := f.upload(f.alice, tk.ID, []string{"body", "请看现场照片和报告", "time_spent_minutes", "3"},
			upFile{"现场照片.png", img}, upFile{"维修报告.pdf", attachPDF})
		if r.Status != http.StatusCreated {
			t.Fatalf("multipart reply: %d %s", r.Status, r.Body)
		}
		var item struct {
			Kind        string       `json:"kind"`
			TimeSpent   int          `json:"time_spent_minutes"`
			Attachments []attachJSON `json:"attachments"`
		}
		r.JSON(t, &item)
		if item.Kind != "reply" || item.TimeSpent != 3 || len(item.Attachments) != 2 {
			t.Fatalf("reply: %s", r.Body)
		}
		photo, report := item.Attachments[0], item.Attachments[1]
		if photo.Filename != "现场照片.png" || photo.ContentType != "image/png" || photo.Size != int64(len(img)) || len(photo.SHA256) != 64 ||
			photo.URL != fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", tk.ID, photo.ID) || photo.PreviewURL != photo.URL+"?preview=1" {
			t.Fatalf("photo: %+v", photo)
		}
		if report.ContentType != "application/pdf" || report.PreviewURL != "" {
			t.Fatalf("report: %+v", report)
		}
		// JSON replies still work, and list no files.
		if r := f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), map[string]any{"body": "稍后上门"}); r.Status != http.StatusCreated ||
			!strings.Contains(string(r.Body), `"attachments":[]`) {
			t.Fatalf("json reply: %d %s", r.Status, r.Body)
		}
		const secretName = "内部-客户投诉记录-9c1e.pdf"
		r = f.upload(f.alice, tk.ID, []string{"body", "客户以前投诉过", "internal", "true"}, upFile{secretName, attachPDF})
		if r.Status != http.StatusCreated || !strings.Contains(string(r.Body), `"kind":"note"`) || !strings.Contains(string(r.Body), secretName) {
			t.Fatalf("multipart note: %d %s", r.Status, r.Body)
		}
		var noteItem struct {
			Attachments []attachJSON `json:"attachments"`
		}
		r.JSON(t, &noteItem)
		noteFile := noteItem.Attachments[0]

		// The thread lists each message's files.
		var thread attachThread
		f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil).JSON(t, &thread)
		files := map[string]attachJSON{}
		for _, it := range thread.Items {
			for _, a := range it.Attachments {
				files[it.Kind+":"+a.Filename] = a
			}
		}
		if len(files) != 3 || files["reply:现场照片.png"].ID != photo.ID || files["note:"+secretName].ID != noteFile.ID {
			t.Fatalf("thread files: %+v", files)
		}

		// Downloads: attachment, nosniff, sandbox; inline only as an image preview.
		get := func(token, path string) *testkit.Response { return f.do(token, "GET", path, nil) }
		r = get(f.alice, report.URL)
		if r.Status != 200 || !bytes.Equal(r.Body, attachPDF) || r.Header.Get("Content-Type") != "application/pdf" ||
			!strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") || !strings.Contains(r.Header.Get("Content-Disposition"), "filename*=UTF-8''%E7%BB%B4") ||
			r.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("download: %d %v", r.Status, r.Header)
		}
		if r = get(f.alice, report.URL+"?preview=1"); !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("a PDF previewed inline: %v", r.Header)
		}
		r = get(f.alice, photo.PreviewURL)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline;") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") ||
			r.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.Equal(r.Body, img) {
			t.Fatalf("preview: %d %v", r.Status, r.Header)
		}
		if r = get(f.alice, photo.URL); !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("image without ?preview: %v", r.Header)
		}

		// Who cannot see the ticket gets 404: a technician and an agent of
		// another team; a file through another ticket is not found either.
		other := f.create(t, f.alice, nil)
		for _, c := range []struct{ name, token, method, path string }{
			{"technician", f.tom, "GET", report.URL}, {"technician", f.tom, "GET", noteFile.URL}, {"other agent", f.bob, "GET", photo.PreviewURL},
			{"other agent", f.bob, "DELETE", report.URL},
			{"another ticket", f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", other.ID, report.ID)},
			{"another ticket", f.alice, "DELETE", fmt.Sprintf("/api/v1/tickets/%d/attachments/%d", other.ID, report.ID)},
			{"no such file", f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/attachments/999999", tk.ID)},
			{"bad id", f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/attachments/x", tk.ID)},
		} {
			if r := f.do(c.token, c.method, c.path, nil); r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "PDF") {
				t.Errorf("%s: %s %s: %d %s", c.name, c.method, c.path, r.Status, r.Body)
			}
		}

		// The note's file reaches no path a customer's data leaves by.
		for _, p := range []string{fmt.Sprintf("/api/v1/customers/%d/timeline", f.customerID), fmt.Sprintf("/api/v1/customers/%d", f.customerID),
			fmt.Sprintf("/api/v1/tickets/%d", tk.ID), fmt.Sprintf("/api/v1/tickets/%d/events", tk.ID), "/api/v1/customers/export?format=csv"} {
			if r := f.do(f.admin, "GET", p, nil); r.Status != 200 || strings.Contains(string(r.Body), secretName) {
				t.Errorf("GET %s: %d, shows the note's file: %v", p, r.Status, strings.Contains(string(r.Body), secretName))
			}
		}
		if r := f.do(f.admin, "POST", fmt.Sprintf("/api/v1/customers/%d/data-export", f.customerID), nil); r.Status != 200 || strings.Contains(string(r.Body), secretName) {
			t.Errorf("data export: %d, shows the note's file: %v", r.Status, strings.Contains(string(r.Body), secretName))
		}
		p, _ := k.App.Identity.PrincipalFor(t.Context(), f.aliceU.ID)
		msgs, err := k.App.Tickets.Messages(t.Context(), p, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			for _, a := range m.Attachments {
				if a.ID == noteFile.ID {
					t.Fatal("the note's file among the customer-facing messages")
				}
			}
		}
		if _, _, err := k.App.Tickets.OpenReplyAttachment(t.Context(), p, tk.ID, noteFile.ID); err == nil {
			t.Fatal("the note's file opens on the customer-facing path")
		}

		// Deleting: tickets.edit and the scope; audited; gone from the thread.
		if r := f.do(f.tom, "DELETE", report.URL, nil); r.Status != http.StatusForbidden {
			t.Fatalf("technician deletes: %d", r.Status)
		}
		if r := f.do(f.alice, "DELETE", report.URL, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := get(f.alice, report.URL); r.Status != http.StatusNotFound {
			t.Fatalf("deleted file: %d", r.Status)
		}
		if r := f.do(f.alice, "DELETE", report.URL, nil); r.Status != http.StatusNotFound {
			t.Fatalf("delete twice: %d", r.Status)
		}
		if r := get(f.alice, fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID)); strings.Contains(string(r.Body), "维修报告.pdf") {
			t.Fatalf("deleted file still listed: %s", r.Body)
		}
		r = f.do(f.admin, "GET", "/api/v1/audit?entity=ticket&limit=200", nil)
		if !strings.Contains(string(r.Body), "ticket.attachment_delete") {
			t.Fatalf("not audited: %s", r.Body)
		}
	})
}

// TestTicketAttachmentBadInput: every refused file is a 4xx naming the
// field, and the message is not saved.
func TestTicketAttachmentBadInput(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		tk := f.create(t, f.alice, nil)
		lim := attachments.DefaultLimits()
		lim.MaxFileBytes = 64 << 10
		if r := f.do(f.admin, "PUT", "/api/v1/attachment-limits", map[string]any{"max_file_bytes": lim.MaxFileBytes, "max_files": 3,
			"allowed_types": lim.AllowedTypes, "version": 0}); r.Status != http.StatusOK {
			t.Fatalf("limits: %d %s", r.Status, r.Body)
		}
		beforeThread := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil).Body
		before := f.get(t, f.admin, tk.ID)
		ok := upFile{"ok.pdf", attachPDF}
		for _, c := range []struct {
			name   string
			fields []string
			files  []upFile
			status int
			field  string
			says   string
		}{
			{"0 bytes", nil, []upFile{ok, {"空.txt", nil}}, 400, "attachments", "空.txt"},
			{"html", nil, []upFile{ok, {"page.html", []byte("<p>hi</p>")}}, 400, "attachments", "page.html"},
			{"svg", nil, []upFile{{"logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)}}, 400, "attachments", "logo.svg"},
			{"markup in text", nil, []upFile{{"notes.txt", []byte("hello <script>alert(1)</script>")}}, 400, "attachments", "notes.txt"},
			{"PNG named .pdf", nil, []upFile{{"invoice.pdf", attachPNG(t)}}, 400, "attachments", "PNG"},
			{"over the limit", nil, []upFile{ok, {"big.txt", bytes.Repeat([]byte("a"), 65<<10)}}, 413, "attachments", "64 KB"},
			{"too many", nil, []upFile{ok, ok, ok, ok}, 400, "attachments", "3"},
			{"bad internal", []string{"internal", "maybe"}, []upFile{ok}, 400, "internal", ""},
			{"bad minutes", []string{"time_spent_minutes", "lots"}, []upFile{ok}, 400, "time_spent_minutes", ""},
			{"unknown field", []string{"colour", "red"}, []upFile{ok}, 400, "colour", ""},
			{"file in a text field", []string{}, nil, 400, "body", ""},
		} {
			fields := append([]string{"body", "见附件"}, c.fields...)
			if c.name == "file in a text field" {
				fields = nil
			}
			var r *testkit.Response
			if c.name == "file in a text field" {
				var b bytes.Buffer
				mw := multipart.NewWriter(&b)
				w, _ := mw.CreateFormFile("body", "x.txt")
				_, _ = w.Write([]byte("hi"))
				_ = mw.Close()
				r = f.do(f.alice, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), b.Bytes(), "Content-Type", mw.FormDataContentType())
			} else {
				r = f.upload(f.alice, tk.ID, fields, c.files...)
			}
			if r.Status != c.status {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
				continue
			}
			p := r.Problem(t)
			if len(p.Errors) == 0 || p.Errors[0].Field != c.field || !strings.Contains(p.Errors[0].Message, c.says) {
				t.Errorf("%s: %s", c.name, r.Body)
			}
		}
		if after := f.do(f.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil).Body; !bytes.Equal(after, beforeThread) {
			t.Errorf("the thread changed: %s", after)
		}
		if after := f.get(t, f.admin, tk.ID); after.Version != before.Version || after.TimeSpent != before.TimeSpent {
			t.Errorf("the ticket changed: %+v", after)
		}
		if n := f.attachmentRows(t); n != 0 {
			t.Errorf("%d attachment rows", n)
		}

		// The limits: everyone reads them, only settings.manage sets them.
		r := f.do(f.alice, "GET", "/api/v1/attachment-limits", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"max_file_bytes":65536`) || !strings.Contains(string(r.Body), `"known_types"`) {
			t.Fatalf("read limits: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.alice, "PUT", "/api/v1/attachment-limits", map[string]any{"max_file_bytes": 1 << 20, "max_files": 3, "allowed_types": []string{"application/pdf"}, "version": 1}); r.Status != http.StatusForbidden {
			t.Fatalf("agent sets limits: %d", r.Status)
		}
		r = f.do(f.admin, "PUT", "/api/v1/attachment-limits", map[string]any{"max_file_bytes": 10, "max_files": 3, "allowed_types": []string{"text/html"}, "version": 1})
		if p := r.Problem(t); r.Status != 400 || len(p.Errors) != 2 {
			t.Fatalf("bad limits: %d %s", r.Status, r.Body)
		}
		if r := f.do(f.admin, "PUT", "/api/v1/attachment-limits", map[string]any{"max_file_bytes": 1 << 20, "max_files": 3, "allowed_types": []string{"application/pdf"}, "version": 0}); r.Status != http.StatusPreconditionFailed {
			t.Fatalf("stale limits: %d %s", r.Status, r.Body)
		}
	})
}

// countingReader counts what the server read of a lazily made body.
type countingReader struct {
	r    io.Reader
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

func (c *countingReader) Close() error { return nil }

// lazyBytes produces n bytes of 'z' without holding them.
type lazyBytes struct{ n int64 }

func (l *lazyBytes) Read(p []byte) (int, error) {
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

// hugeReply is a reply's multipart body with one file of n lazy bytes.
func hugeReply(n int64) (io.Reader, string) {
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	_ = mw.WriteField("body", "很大的文件")
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="attachments"; filename="huge.txt"`)
	h.Set("Content-Type", "text/plain")
	_, _ = mw.CreatePart(h)
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	return io.MultiReader(bytes.NewReader(head.Bytes()), &lazyBytes{n: n}, strings.NewReader(tail)), mw.FormDataContentType()
}

// TestTicketAttachmentHugeUploadRefusedEarly: with the default 50 MB cap, a
// 200 MB file is refused after the cap (streamed to disk, never held in
// memory), and a body declared larger than the limits allow before a byte
// is read; the message is not saved.
func TestTicketAttachmentHugeUploadRefusedEarly(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		f := newTicketFix(t, k)
		tk := f.create(t, f.alice, nil)
		send := func(n, declared int64) (*httptest.ResponseRecorder, *countingReader) {
			stream, ct := hugeReply(n)
			body := &countingReader{r: stream}
			req := httptest.NewRequest("POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), body)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+f.alice)
			req.ContentLength = declared
			w := httptest.NewRecorder()
			k.App.Server.ServeHTTP(w, req)
			return w, body
		}
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		w, body := send(200<<20, -1)
		runtime.ReadMemStats(&m1)
		if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), `"field":"attachments"`) || !strings.Contains(w.Body.String(), "50 MB") {
			t.Fatalf("200 MB streamed: %d %s", w.Code, w.Body)
		}
		if limit := int64(attachments.DefaultMaxFileBytes); body.read > limit+64<<10 {
			t.Fatalf("read %d bytes of 200 MB for a %d-byte cap", body.read, limit)
		}
		if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 40<<20 {
			t.Fatalf("%d MB allocated while refusing 200 MB: the upload was buffered", alloc>>20)
		}
		w, body = send(600<<20, 600<<20)
		if w.Code != http.StatusRequestEntityTooLarge || body.read != 0 || !strings.Contains(w.Body.String(), `"field":"attachments"`) {
			t.Fatalf("declared 600 MB: %d, read %d: %s", w.Code, body.read, w.Body)
		}
		var thread attachThread
		f.do(f.alice, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil).JSON(t, &thread)
		if len(thread.Items) != 0 || f.attachmentRows(t) != 0 {
			t.Fatalf("something was saved: %+v", thread)
		}
	})
}

// postMultipart posts a multipart form with a page's client.
func postMultipart(t *testing.T, c *http.Client, u string, fields []string, files ...upFile) (int, string, string) {
	t.Helper()
	body, ct := multipartPost(t, fields, files...)
	resp, err := c.Post(u, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

var pageFileRE = regexp.MustCompile(`<a href="(/tickets/\d+/attachments/(\d+))" class="file-name">([^<]+)</a>`)

// TestTicketPagesAttachments: the composer posts files with the reply; the
// thread shows them with a preview for the image and a delete form; a
// refused file keeps the typed text and says why next to the file input;
// downloads go through the ticket's scope.
func TestTicketPagesAttachments(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			tk := startTicketPages(t, tg)
			ticketURL := fmt.Sprintf("%s/tickets/%d", tk.URL, tk.serviceTicket.ID)
			agent := tk.Login("agent@example.com", testkit.Password)
			_, page := getPage(t, agent, ticketURL)
			if !strings.Contains(page, `enctype="multipart/form-data"`) || !strings.Contains(page, `<input id="attachments" name="attachments" type="file" multiple`) ||
				!strings.Contains(page, "每个不超过 50 MB") {
				t.Fatalf("the composer has no file input")
			}
			img := attachPNG(t)
			status, loc, body := postMultipart(t, agent, ticketURL+"/posts", []string{"kind", "reply", "body", "照片和报告见附件", "seen_message_id", "0", "time_spent", "2"},
				upFile{"外机照片.png", img}, upFile{"检测报告.pdf", attachPDF})
			if status != http.StatusSeeOther || !strings.Contains(loc, "done=ticket_replied") {
				t.Fatalf("post with files: %d %s %s", status, loc, body)
			}
			_, page = getPage(t, agent, ticketURL)
			links := pageFileRE.FindAllStringSubmatch(page, -1)
			if len(links) != 2 || links[0][3] != "外机照片.png" || links[1][3] != "检测报告.pdf" {
				t.Fatalf("files on the page: %v", links)
			}
			if !strings.Contains(page, `<img src="`+links[0][1]+`?preview=1" alt="外机照片.png"`) || strings.Contains(page, links[1][1]+"?preview=1") {
				t.Errorf("the image has no preview, or the PDF has one")
			}
			if !strings.Contains(page, `action="`+links[1][1]+`/delete"`) {
				t.Errorf("no delete form")
			}
			resp, err := agent.Get(tk.URL + links[1][1])
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(data, attachPDF) || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") ||
				resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
				t.Fatalf("page download: %d %v", resp.StatusCode, resp.Header)
			}
			// Others: the technician and the other team get 404, not the file.
			for _, email := range []string{"tech@example.com", "other@example.com"} {
				c := tk.Login(email, testkit.Password)
				if got, body := getPage(t, c, tk.URL+links[1][1]); got != http.StatusNotFound || strings.Contains(body, "PDF-1.4") {
					t.Errorf("%s downloads: %d", email, got)
				}
			}

			// A refused file: the typed text stays, the reason is next to the input.
			status, _, body = postMultipart(t, agent, ticketURL+"/posts", []string{"kind", "note", "body", "这段文字不能丢", "time_spent", "7"},
				upFile{"logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)})
			if status != http.StatusBadRequest || !strings.Contains(body, ">这段文字不能丢</textarea>") || !strings.Contains(body, `value="7"`) ||
				!regexp.MustCompile(`<span class="field-err" id="attachments-error">[^<]*logo.svg`).MatchString(body) ||
				!strings.Contains(body, `value="note" checked`) {
				t.Fatalf("refused file: %d %s", status, body)
			}
			status, _, body = postMultipart(t, agent, ticketURL+"/posts", []string{"kind", "reply", "body", "重命名的图片"}, upFile{"invoice.pdf", img})
			if status != http.StatusBadRequest || !strings.Contains(body, ">重命名的图片</textarea>") || !strings.Contains(body, "PNG 图片") {
				t.Fatalf("mislabelled file: %d", status)
			}
			if _, page = getPage(t, agent, ticketURL); strings.Contains(page, "这段文字不能丢") || strings.Contains(page, "重命名的图片") {
				t.Fatal("a refused post was saved")
			}

			// Deleting.
			if got, _, _ := postPage(t, tk.Login("tech@example.com", testkit.Password), tk.URL+links[1][1]+"/delete", nil); got != http.StatusForbidden {
				t.Errorf("technician deletes: %d", got)
			}
			status, loc, _ = postPage(t, agent, tk.URL+links[1][1]+"/delete", nil)
			if status != http.StatusSeeOther || !strings.Contains(loc, "done=ticket_attachment_deleted") {
				t.Fatalf("delete: %d %s", status, loc)
			}
			_, page = getPage(t, agent, tk.URL+loc)
			if strings.Contains(page, "检测报告.pdf") || !strings.Contains(page, "外机照片.png") || !strings.Contains(page, "文件已删除") {
				t.Fatalf("after delete the page shows the file, or no flash")
			}
			if got, _ := getPage(t, agent, tk.URL+links[1][1]); got != http.StatusNotFound {
				t.Errorf("deleted file: %d", got)
			}
			// An urlencoded post (no file input) still works.
			if got, _, _ := postPage(t, agent, ticketURL+"/posts", url.Values{"kind": {"reply"}, "body": {"没有附件的回复"}}); got != http.StatusSeeOther {
				t.Errorf("urlencoded post: %d", got)
			}
		})
	}
}

// TestAttachmentSettingsPage: an administrator sets the limits on
// /admin/attachments and the composer follows them; bad values come back
// marked; an agent may not open the page.
func TestAttachmentSettingsPage(t *testing.T) {
	tk := startTicketPages(t, dbtest.Targets(t)[0])
	tk.User("admin@example.com", "admin")
	admin := tk.Login("admin@example.com", testkit.Password)
	status, page := getPage(t, admin, tk.URL+"/admin/attachments")
	if status != 200 || !strings.Contains(page, `name="max_file_mb" inputmode="decimal" value="50"`) || !strings.Contains(page, `value="application/pdf" checked`) ||
		strings.Contains(page, `value="image/heic" checked`) {
		t.Fatalf("settings page: %d", status)
	}
	if _, page = getPage(t, admin, tk.URL+"/admin"); !strings.Contains(page, `href="/admin/attachments"`) {
		t.Error("the settings overview does not list the attachments")
	}
	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"max_file_mb": {"很大"}, "max_files": {"5"}, "allowed_types": {"application/pdf"}}, "单个文件"},
		{url.Values{"max_file_mb": {"2"}, "max_files": {"500"}, "allowed_types": {"application/pdf"}}, "1 到 50"},
		{url.Values{"max_file_mb": {"2"}, "max_files": {"5"}}, "至少"},
		{url.Values{"max_file_mb": {"2"}, "max_files": {"5"}, "allowed_types": {"image/svg+xml"}}, "image/svg+xml"},
	} {
		c.form.Set("version", "0")
		if got, _, body := postPage(t, admin, tk.URL+"/admin/attachments", c.form); got != http.StatusBadRequest || !strings.Contains(body, c.field) {
			t.Errorf("%v: %d", c.form, got)
		}
	}
	status, loc, _ := postPage(t, admin, tk.URL+"/admin/attachments", url.Values{"max_file_mb": {"0.5"}, "max_files": {"2"},
		"allowed_types": {"application/pdf", "image/png"}, "version": {"0"}})
	if status != http.StatusSeeOther || !strings.Contains(loc, "done=saved") {
		t.Fatalf("save: %d %s", status, loc)
	}
	if got, _, _ := postPage(t, admin, tk.URL+"/admin/attachments", url.Values{"max_file_mb": {"1"}, "max_files": {"2"},
		"allowed_types": {"application/pdf"}, "version": {"0"}}); got != http.StatusConflict {
		t.Errorf("stale save: %d", got)
	}
	agent := tk.Login("agent@example.com", testkit.Password)
	if got, _ := getPage(t, agent, tk.URL+"/admin/attachments"); got != http.StatusForbidden {
		t.Errorf("agent opens the settings: %d", got)
	}
	ticketURL := fmt.Sprintf("%s/tickets/%d", tk.URL, tk.serviceTicket.ID)
	if _, page = getPage(t, agent, ticketURL); !strings.Contains(page, "最多 2 个文件，每个不超过 512 KB") || !strings.Contains(page, `data-max-bytes="524288"`) {
		t.Error("the composer does not follow the limits")
	}
	if got, _, body := postMultipart(t, agent, ticketURL+"/posts", []string{"kind", "reply", "body", "文本文件"}, upFile{"说明.txt", []byte("纯文本")}); got != http.StatusBadRequest ||
		!strings.Contains(body, "不能作为附件") {
		t.Errorf("a type no longer allowed: %d", got)
	}
	if got, _, body := postMultipart(t, agent, ticketURL+"/posts", []string{"kind", "reply", "body", "大文件"}, upFile{"大.pdf", append(bytes.Clone(attachPDF), make([]byte, 600<<10)...)}); got != http.StatusRequestEntityTooLarge ||
		!strings.Contains(body, ">大文件</textarea>") {
		t.Errorf("over the new size: %d", got)
	}
}
