package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes an online, consistent copy of the SQLite database to dest.
// VACUUM INTO copies inside one read transaction, so the copy is a single
// point in time and a running server keeps writing meanwhile (WAL). It runs
// on the writer connection only because the readers are query-only.
func Backup(ctx context.Context, d *DB, dest string) error {
	if d.Dialect != SQLite {
		return errors.New("backup: only SQLite databases; use pg_dump for PostgreSQL")
	}
	if strings.ContainsRune(dest, 0) {
		return errors.New("backup: invalid file name")
	}
	if _, err := d.W.ExecContext(ctx, `VACUUM INTO $1`, dest); err != nil {
		return fmt.Errorf("backup to %s: %w", dest, err)
	}
	return nil
}

// CheckBackup verifies that path is an intact Careloop SQLite database.
func CheckBackup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup file: %w", err)
	}
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer c.Close()
	var result string
	if err := c.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return fmt.Errorf("%s is not a SQLite database: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("%s is damaged: %s", path, result)
	}
	var n int
	if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM goose_db_version`).Scan(&n); err != nil {
		return fmt.Errorf("%s is not a Careloop database: %w", path, err)
	}
	return nil
}

// Restore replaces the database at target with the backup at src. The
// server must be stopped. The old database is kept beside it as .before-restore.
func Restore(ctx context.Context, src, target string) error {
	if err := CheckBackup(ctx, src); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return err
	}
	tmp := target + ".restoring"
	if err := copyFile(src, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(target); err == nil {
		// Fold the old WAL into the old file before moving it aside, so the
		// kept copy is whole.
		if old, err := sql.Open("sqlite", SQLiteDSN(target, false)); err == nil {
			_, _ = old.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			old.Close()
		}
		if err := os.Rename(target, target+".before-restore"); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Remove(target + suffix)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
