package attachments_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
)

func TestSaveOpenRoundTripAndDedupe(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := actorCtx()
		a, err := f.store.Save(ctx, "ticket_message", 41, "维修报告 2026年3月.pdf", bytes.NewReader(pdfBytes))
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || a.Filename != "维修报告 2026年3月.pdf" || a.ContentType != "application/pdf" || a.Size != int64(len(pdfBytes)) ||
			len(a.SHA256) != 64 || a.CreatedBy != 3 || a.Entity != "ticket_message" || a.EntityID != 41 {
			t.Fatalf("saved %+v", a)
		}
		path := filepath.Join(f.dir, "attachments", a.SHA256[:2], a.SHA256)
		if data, err := os.ReadFile(path); err != nil || !bytes.Equal(data, pdfBytes) {
			t.Fatalf("bytes at %s: %v", path, err)
		}
		got, rc, err := f.store.Open(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(data, pdfBytes) || got.Filename != a.Filename || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Fatalf("opened %+v, %d bytes", got, len(data))
		}

		b, err := f.store.Save(ctx, "ticket_message", 42, "copy.pdf", bytes.NewReader(pdfBytes))
		if err != nil {
			t.Fatal(err)
		}
		if b.SHA256 != a.SHA256 || b.ID == a.ID {
			t.Fatalf("dedupe: %+v vs %+v", b, a)
		}
		if files := contentFiles(t, f.store.Root()); len(files) != 1 {
			t.Fatalf("files on disk: %v", files)
		}
		if n := tmpFiles(t, f.store.Root()); n != 0 {
			t.Fatalf("%d temporary files left", n)
		}
		list, err := f.store.List(ctx, "ticket_message", 41)
		if err != nil || len(list) != 1 || list[0].ID != a.ID {
			t.Fatalf("list = %+v, %v", list, err)
		}

		// A file whose size no longer matches its row is not served.
		if err := os.WriteFile(path, pdfBytes[:10], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.store.Open(ctx, a.ID); !errors.Is(err, attachments.ErrCorrupt) {
			t.Fatalf("truncated bytes: %v", err)
		}
	})
}

func TestRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := actorCtx()
		save := func(name string, content []byte) error {
			_, err := f.store.Save(ctx, "ticket_message", 1, name, bytes.NewReader(content))
			return err
		}
		refusedWith(t, save("empty.txt", nil), attachments.KeyEmpty)

		// By name, before reading anything.
		for _, name := range []string{"page.html", "PAGE.HTM", "logo.svg", "x.xhtml", "app.js", "a.svgz"} {
			r := &lazyReader{n: 100, b: 'a'}
			_, err := f.store.Save(ctx, "ticket_message", 1, name, r)
			refusedWith(t, err, attachments.KeyActiveName)
			if r.read != 0 {
				t.Errorf("%s: %d bytes read", name, r.read)
			}
		}
		refusedWith(t, save("setup.exe", []byte("MZ\x90\x00")), attachments.KeyTypeNotAllowed)
		refusedWith(t, save("run.bat", []byte("echo hi\r\n")), attachments.KeyTypeNotAllowed)

		// By content.
		big := bytes.Repeat([]byte("设备运行正常。 "), 5000)
		split := append(append(bytes.Clone(big[:32*1024-3]), []byte("<sv")...), []byte("g onload=alert(1)>")...)
		utf16 := []byte{0xFF, 0xFE}
		for _, c := range "hello <script>alert(1)</script>" {
			utf16 = append(utf16, byte(c), 0)
		}
		for name, content := range map[string][]byte{
			"notes.txt":      []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
			"readme.txt":     []byte("\n\n  <html><body>hi</body></html>"),
			"later.txt":      append(bytes.Clone(big), []byte("\n<HTML>\n")...),
			"split.txt":      split,
			"utf16.txt":      utf16,
			"no-extension":   []byte("<!DOCTYPE html><p>x"),
			"list.csv":       []byte("name,note\n张伟,<iframe src=x>\n"),
			"ends-with.txt":  []byte("text then <svg"),
			"xml-styled.txt": []byte("a\n<?xml-stylesheet href=\"x.xsl\"?>"),
		} {
			err := save(name, content)
			refusedWith(t, err, attachments.KeyActiveContent)
		}
		// Honest text with angle brackets is kept.
		if err := save("ok.txt", []byte("温度 <5 度时 a <b 且 <a> 不是网页; <svgfoo>")); err != nil {
			t.Fatalf("honest text: %v", err)
		}

		// Mislabelled.
		err := save("invoice.pdf", pngBytes(t))
		refusedWith(t, err, attachments.KeyMislabelledPrefix+"png")
		cat := i18n.MustLoad()
		var v *domain.ValidationError
		errors.As(err, &v)
		if msg := cat.T(i18n.English, v.Fields[0].Key, v.Fields[0].Params); !strings.Contains(msg, "its content is a PNG image") || !strings.Contains(msg, "invoice.pdf") {
			t.Errorf("en message: %q", msg)
		}
		if msg := cat.T(i18n.Default, v.Fields[0].Key, v.Fields[0].Params); !strings.Contains(msg, "PNG 图片") {
			t.Errorf("zh message: %q", msg)
		}
		docx := zipWith(t, "[Content_Types].xml", "word/document.xml")
		refusedWith(t, save("sheet.xlsx", docx), attachments.KeyMislabelledPrefix+"docx")
		refusedWith(t, save("photo.jpg", pdfBytes), attachments.KeyMislabelledPrefix+"pdf")
		refusedWith(t, save("notes.txt", []byte{0x00, 0x01, 0x02, 0x03, 0xFF}), attachments.KeyMislabelledPrefix+"unknown")
		refusedWith(t, save("report.pdf", []byte("just text")), attachments.KeyMislabelledPrefix+"text")
		refusedWith(t, save("unknown-bytes", []byte{0x00, 0x01, 0x02}), attachments.KeyTypeNotAllowed)

		// What is kept is typed by its content.
		for name, want := range map[string]string{
			"report.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			"bundle.zip":  "application/zip",
			"photo":       "image/png",
			"客户名单.csv":    "text/csv",
		} {
			content := docx
			switch name {
			case "photo":
				content = pngBytes(t)
			case "客户名单.csv":
				content = []byte("姓名,电话\n张伟,13800000000\n")
			}
			a, err := f.store.Save(ctx, "ticket_message", 2, name, bytes.NewReader(content))
			if err != nil || a.ContentType != want {
				t.Errorf("%s: %+v %v", name, a, err)
			}
		}
		if n := tmpFiles(t, f.store.Root()); n != 0 {
			t.Fatalf("%d temporary files left by refusals", n)
		}
	})
}

func TestOverLimitStopsReading(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		r := &lazyReader{n: 200 << 20, b: 'x'}
		_, err := f.store.Save(actorCtx(), "ticket_message", 1, "huge.txt", r)
		refusedWith(t, err, attachments.KeyTooLarge)
		if limit := int64(attachments.DefaultMaxFileBytes); r.read > limit+64<<10 {
			t.Fatalf("read %d bytes of 200 MB for a %d-byte limit", r.read, limit)
		}
		var v *domain.ValidationError
		errors.As(err, &v)
		if v.Fields[0].Params["Max"] != "50 MB" {
			t.Fatalf("params = %v", v.Fields[0].Params)
		}
		if n := tmpFiles(t, f.store.Root()); n != 0 || len(contentFiles(t, f.store.Root())) != 0 {
			t.Fatalf("bytes left behind")
		}
	})
}

func TestLimitsFromSettings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := actorCtx()
		l, v, err := f.store.LimitsVersion(ctx)
		if err != nil || v != 0 || l.MaxFileBytes != attachments.DefaultMaxFileBytes || l.MaxFiles != 10 || !l.Allows("application/pdf") || l.Allows("image/svg+xml") {
			t.Fatalf("defaults %+v v%d %v", l, v, err)
		}
		bad := attachments.Limits{MaxFileBytes: 10, MaxFiles: 0, AllowedTypes: []string{"text/html"}}
		var ve *domain.ValidationError
		if _, err := f.store.SetLimits(ctx, bad, 0); !errors.As(err, &ve) || len(ve.Fields) != 3 {
			t.Fatalf("bad limits: %v", err)
		}
		l.MaxFileBytes, l.MaxFiles = 4<<10, 2
		l.AllowedTypes = []string{"text/plain", "image/png"}
		if _, err := f.store.SetLimits(ctx, l, 0); err != nil {
			t.Fatal(err)
		}
		// The writer's cache was dropped: the limit applies at once.
		r := &lazyReader{n: 1 << 20, b: 'y'}
		_, err = f.store.Save(ctx, "ticket_message", 1, "a.txt", r)
		refusedWith(t, err, attachments.KeyTooLarge)
		if r.read > 4<<10+1 {
			t.Fatalf("read %d", r.read)
		}
		refusedWith(t, func() error {
			_, err := f.store.Save(ctx, "ticket_message", 1, "a.pdf", bytes.NewReader(pdfBytes))
			return err
		}(),
			attachments.KeyTypeNotAllowed)
		for i := range 2 {
			if _, err := f.store.Save(ctx, "ticket_message", 1, "n.txt", strings.NewReader("note "+string(rune('a'+i)))); err != nil {
				t.Fatal(err)
			}
		}
		_, err = f.store.Save(ctx, "ticket_message", 1, "third.txt", strings.NewReader("three"))
		refusedWith(t, err, attachments.KeyTooMany)
		if _, err := f.store.Save(ctx, "ticket_message", 2, "other.txt", strings.NewReader("three")); err != nil {
			t.Fatalf("another message: %v", err)
		}
		page, err := f.audit.List(ctx, audit.Filter{Action: "setting.update", EntityID: attachments.SettingKey})
		if err != nil || len(page.Entries) != 1 {
			t.Fatalf("audit: %+v %v", page, err)
		}
	})
}

func TestDeleteAndCleanup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := actorCtx()
		content := pngBytes(t)
		a, err := f.store.Save(ctx, "ticket_message", 1, "a.png", bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		b, err := f.store.Save(ctx, "ticket_message", 2, "b.png", bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(2 * time.Hour)
		if err := f.store.Delete(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.store.Open(ctx, a.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("open deleted: %v", err)
		}
		if err := f.store.Delete(ctx, a.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
		if len(contentFiles(t, f.store.Root())) != 1 {
			t.Fatal("bytes removed while b references them")
		}
		page, err := f.audit.List(ctx, audit.Filter{Action: "attachment.delete"})
		if err != nil || len(page.Entries) != 1 || page.Entries[0].EntityID != itoa(a.ID) || page.Entries[0].ActorID != 3 ||
			page.Entries[0].Changes["filename"].Before != "a.png" {
			t.Fatalf("audit: %+v %v", page, err)
		}

		// Deleting inside a transaction that rolls back keeps row and bytes.
		err = d.WithTx(ctx, func(ctx context.Context) error {
			if err := f.store.Delete(ctx, b.ID); err != nil {
				return err
			}
			return errors.New("roll back")
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatal(err)
		}
		if _, rc, err := f.store.Open(ctx, b.ID); err != nil {
			t.Fatalf("after rollback: %v", err)
		} else {
			rc.Close()
		}
		if err := f.store.Delete(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if files := contentFiles(t, f.store.Root()); len(files) != 0 {
			t.Fatalf("last reference deleted, bytes kept: %v", files)
		}

		// Deleting a fresh upload leaves its bytes to Cleanup.
		c, err := f.store.Save(ctx, "ticket_message", 3, "c.txt", strings.NewReader("fresh"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.Delete(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if len(contentFiles(t, f.store.Root())) != 1 {
			t.Fatal("fresh bytes removed at once")
		}
		f.clock.Advance(2 * time.Hour)
		rep, err := f.store.Cleanup(ctx)
		if err != nil || rep.Files != 1 || rep.Bytes != 5 || len(contentFiles(t, f.store.Root())) != 0 {
			t.Fatalf("cleanup %+v %v", rep, err)
		}
	})
}

func TestOrphansOfRolledBackSaves(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := actorCtx()
		live, err := f.store.Save(ctx, "ticket_message", 1, "live.txt", strings.NewReader("kept"))
		if err != nil {
			t.Fatal(err)
		}
		err = d.WithTx(ctx, func(ctx context.Context) error {
			if _, err := f.store.Save(ctx, "ticket_message", 2, "orphan.txt", strings.NewReader("rolled back")); err != nil {
				return err
			}
			return errors.New("roll back")
		})
		if err == nil || err.Error() != "roll back" {
			t.Fatal(err)
		}
		if _, err := f.store.Stage(ctx, "staged.txt", strings.NewReader("never recorded")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(f.store.Root(), "tmp", "upload-crashed"), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if n := len(contentFiles(t, f.store.Root())); n != 3 {
			t.Fatalf("%d files", n)
		}
		rep, err := f.store.Cleanup(ctx)
		if err != nil || rep.Files != 0 {
			t.Fatalf("young orphans removed: %+v %v", rep, err)
		}
		f.clock.Advance(time.Hour + time.Minute)
		rep, err = f.store.Cleanup(ctx)
		if err != nil || rep.Files != 3 {
			t.Fatalf("cleanup %+v %v", rep, err)
		}
		files := contentFiles(t, f.store.Root())
		if len(files) != 1 || filepath.Base(files[0]) != live.SHA256 || tmpFiles(t, f.store.Root()) != 0 {
			t.Fatalf("left %v", files)
		}
		if _, rc, err := f.store.Open(ctx, live.ID); err != nil {
			t.Fatal(err)
		} else {
			rc.Close()
		}
	})
}

func TestStageThenRecordInTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := actorCtx()
		st, err := f.store.Stage(ctx, "photo.png", bytes.NewReader(pngBytes(t)))
		if err != nil {
			t.Fatal(err)
		}
		if st.ContentType() != "image/png" || st.Name() != "photo.png" || st.Size() == 0 {
			t.Fatalf("staged %+v", st)
		}
		var a attachments.Attachment
		err = d.WithTx(ctx, func(ctx context.Context) error {
			a, err = f.store.Record(ctx, "ticket_message", 9, st)
			return err
		})
		if err != nil || !a.Previewable() {
			t.Fatalf("%+v %v", a, err)
		}
		if _, err := f.store.Record(ctx, "", 9, st); err == nil {
			t.Fatal("empty entity recorded")
		}
		if _, err := f.store.Record(ctx, "ticket_message", 9, attachments.Staged{}); err == nil {
			t.Fatal("zero staged recorded")
		}
	})
}

func TestCleanName(t *testing.T) {
	long := strings.Repeat("很长的名字", 60) + ".pdf"
	for in, want := range map[string]string{
		"../../etc/passwd":             "passwd",
		`C:\Users\王\Desktop\报告.pdf`:    "报告.pdf",
		"a\x00b\x07c.txt":              "abc.txt",
		"invoice\u202Efdp.exe":         "invoicefdp.exe",
		"  .hidden.txt. ":              "hidden.txt",
		`what?<>:"|*.txt`:              "what_______.txt",
		"":                             "attachment",
		"..":                           "attachment",
		"bad\xffutf8.txt":              "badutf8.txt",
		"tab\tname\n.txt":              "tabname.txt",
		"维修报告 2026年3月.pdf":             "维修报告 2026年3月.pdf",
		strings.Repeat("x", 300) + ".": strings.Repeat("x", 200),
	} {
		if got := attachments.CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
	got := attachments.CleanName(long)
	if r := []rune(got); len(r) != attachments.MaxNameChars || !strings.HasSuffix(got, ".pdf") {
		t.Errorf("long name: %d chars %q", len(r), got)
	}
}

// Every refusal key is in the catalog, in both languages (the catalog test
// checks they have the same keys).
func TestCatalogKeys(t *testing.T) {
	cat := i18n.MustLoad()
	keys := []string{attachments.KeyEmpty, attachments.KeyTooLarge, attachments.KeyTooMany, attachments.KeyActiveName,
		attachments.KeyActiveContent, attachments.KeyTypeNotAllowed, attachments.KeyLimitFileBytes, attachments.KeyLimitFiles,
		attachments.KeyLimitType, attachments.KeyLimitNoTypes}
	for _, fam := range attachments.Families() {
		keys = append(keys, attachments.KeyMislabelledPrefix+fam)
	}
	for _, k := range keys {
		if !cat.Has(k) {
			t.Errorf("catalog lacks %s", k)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
