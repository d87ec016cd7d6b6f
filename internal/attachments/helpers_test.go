package attachments_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/settings"
)

type fixture struct {
	store *attachments.Store
	clock *clock.Fake
	audit *audit.Log
	dir   string
	db    *db.DB
}

// newFixture keeps the fake clock at the wall clock's time, so the leases
// the store writes as modification times compare with the files' own.
func newFixture(t *testing.T, d *db.DB) fixture {
	t.Helper()
	clk := clock.NewFake(time.Now())
	log := audit.New(d, clk)
	set := settings.New(d, clk, log)
	dir := t.TempDir()
	s, err := attachments.New(d, clk, log, set, dir)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{store: s, clock: clk, audit: log, dir: dir, db: d}
}

func actorCtx() context.Context {
	return audit.WithActor(context.Background(), audit.Actor{UserID: 3, Label: "agent@example.com"})
}

func pngBytes(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func zipWith(t testing.TB, names ...string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte("<x/>"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// refusedWith asserts err is a validation error for field attachments with
// key.
func refusedWith(t *testing.T, err error, key string) {
	t.Helper()
	var v *domain.ValidationError
	if !errors.As(err, &v) || len(v.Fields) != 1 || v.Fields[0].Field != attachments.Field || v.Fields[0].Key != key {
		t.Fatalf("error = %v, want %s", err, key)
	}
}

// contentFiles lists the content-addressed files under the root.
func contentFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "tmp" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tmpFiles(t *testing.T, root string) int {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(root, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// lazyReader produces n bytes of one repeated byte without holding them,
// and counts what was read.
type lazyReader struct {
	n, read int64
	b       byte
}

func (r *lazyReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), r.n-r.read)
	for i := range p[:k] {
		p[i] = r.b
	}
	r.read += k
	return int(k), nil
}
