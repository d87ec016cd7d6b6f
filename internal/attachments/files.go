package attachments

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// tmpDir, under the root, holds uploads being written; on the same file
// system as their final place, so the rename that publishes one is atomic.
const tmpDir = "tmp"

type lockStripe struct{ sync.Mutex }

// lock serialises, within this process, placing, renewing and removing the
// bytes of one checksum.
func (s *Store) lock(sum string) func() {
	b, _ := hex.DecodeString(sum[:2])
	l := &s.locks[int(b[0])%len(s.locks)]
	l.Lock()
	return l.Unlock
}

func storageKey(sum string) string { return sum[:2] + "/" + sum }

func validSum(sum string) bool {
	if len(sum) != 64 {
		return false
	}
	_, err := hex.DecodeString(sum)
	return err == nil && strings.ToLower(sum) == sum
}

// pathOf is the file of a storage key; a key that is not a checksum's
// (which no code writes) maps to a path that does not exist rather than
// outside the root.
func (s *Store) pathOf(key string) string {
	dir, sum, ok := strings.Cut(key, "/")
	if !ok || !validSum(sum) || dir != sum[:2] {
		return filepath.Join(s.root, tmpDir, "invalid")
	}
	return filepath.Join(s.root, dir, sum)
}

// place moves the fsynced temporary file tmp to the bytes of sum (or drops
// it when they are already there), then renews the bytes' lease: their
// modification time is now, so neither Delete nor Cleanup removes them
// before a row can reference them.
func (s *Store) place(tmp, sum string, size int64) error {
	unlock := s.lock(sum)
	defer unlock()
	final := s.pathOf(storageKey(sum))
	if fi, err := os.Stat(final); err == nil && fi.Size() == size {
		_ = os.Remove(tmp)
		return s.touch(final)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return fmt.Errorf("attachments: place: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("attachments: place: %w", err)
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return fmt.Errorf("attachments: place: %w", err)
	}
	return s.touch(final)
}

// renew checks that staged bytes are still there and renews their lease.
func (s *Store) renew(sum string, size int64) error {
	unlock := s.lock(sum)
	defer unlock()
	final := s.pathOf(storageKey(sum))
	fi, err := os.Stat(final)
	if err == nil && fi.Size() != size {
		err = ErrCorrupt
	}
	if err != nil {
		return fmt.Errorf("attachments: staged bytes %s: %w", sum, err)
	}
	return s.touch(final)
}

func (s *Store) touch(path string) error {
	now := s.clock.Now()
	if err := os.Chtimes(path, now, now); err != nil {
		return fmt.Errorf("attachments: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// CleanupReport says what Cleanup removed.
type CleanupReport struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// Cleanup removes bytes that no live row references and that are older
// than Grace: those of deleted attachments, and orphans, the bytes of a
// Save whose transaction rolled back or of a Stage never recorded. It also
// removes temporary files left by a crash. A periodic job calls it (hourly
// is enough); several servers sharing the data directory may run it at once.
func (s *Store) Cleanup(ctx context.Context) (CleanupReport, error) {
	var rep CleanupReport
	cutoff := s.clock.Now().Add(-s.Grace)
	tmps, err := os.ReadDir(filepath.Join(s.root, tmpDir))
	if err != nil {
		return rep, fmt.Errorf("attachments: cleanup: %w", err)
	}
	for _, e := range tmps {
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(cutoff) {
			if os.Remove(filepath.Join(s.root, tmpDir, e.Name())) == nil {
				rep.Files++
				rep.Bytes += fi.Size()
			}
		}
	}
	var batch []string
	flush := func() error {
		r, err := s.release(ctx, batch)
		rep.Files += r.Files
		rep.Bytes += r.Bytes
		batch = batch[:0]
		return err
	}
	err = filepath.WalkDir(s.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != s.root && (d.Name() == tmpDir || len(d.Name()) != 2) {
				return filepath.SkipDir
			}
			return nil
		}
		if !validSum(d.Name()) || filepath.Base(filepath.Dir(path)) != d.Name()[:2] {
			return nil
		}
		if fi, err := d.Info(); err != nil || !fi.ModTime().Before(cutoff) {
			return nil
		}
		batch = append(batch, d.Name())
		if len(batch) == 200 {
			return flush()
		}
		return ctx.Err()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return rep, fmt.Errorf("attachments: cleanup: %w", err)
	}
	return rep, nil
}

// release removes the bytes of those checksums that no live row references
// and whose lease (modification time) is older than Grace.
func (s *Store) release(ctx context.Context, sums []string) (CleanupReport, error) {
	var rep CleanupReport
	if len(sums) == 0 {
		return rep, nil
	}
	args := make([]any, len(sums))
	marks := make([]string, len(sums))
	for i, sum := range sums {
		args[i], marks[i] = sum, fmt.Sprintf("$%d", i+1)
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT DISTINCT sha256 FROM attachments
		WHERE deleted_at IS NULL AND sha256 IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return rep, fmt.Errorf("attachments: release: %w", err)
	}
	live := map[string]bool{}
	for rows.Next() {
		var sum string
		if err := rows.Scan(&sum); err != nil {
			rows.Close()
			return rep, fmt.Errorf("attachments: release: %w", err)
		}
		live[sum] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("attachments: release: %w", err)
	}
	cutoff := s.clock.Now().Add(-s.Grace)
	for _, sum := range sums {
		if live[sum] {
			continue
		}
		if n, err := s.remove(sum, cutoff); err != nil {
			return rep, err
		} else if n >= 0 {
			rep.Files++
			rep.Bytes += n
		}
	}
	return rep, nil
}

// remove deletes the bytes of sum if their lease ended before cutoff; it
// returns their size, or -1 when they stay.
func (s *Store) remove(sum string, cutoff time.Time) (int64, error) {
	unlock := s.lock(sum)
	defer unlock()
	path := s.pathOf(storageKey(sum))
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return -1, fmt.Errorf("attachments: remove: %w", err)
	}
	if !fi.ModTime().Before(cutoff) {
		return -1, nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return -1, fmt.Errorf("attachments: remove: %w", err)
	}
	return fi.Size(), nil
}
