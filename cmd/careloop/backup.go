package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/careloop/careloop/internal/db"
)

func cmdBackup(ctx context.Context, e env, args []string) error {
	c, fs, err := flags(e, "backup", false, args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: careloop backup [--data DIR] FILE"}
	}
	if c.IsPostgres() {
		return usageError{"backup copies the SQLite database; for PostgreSQL use pg_dump (see docs/operations.md)"}
	}
	dest, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	if _, err := os.Stat(dest); err == nil {
		return usageError{fmt.Sprintf("%s exists; choose a new file name", dest)}
	}
	if _, err := os.Stat(c.SQLitePath()); err != nil {
		return fmt.Errorf("no database at %s: %w", c.SQLitePath(), err)
	}
	d, err := db.Open(ctx, "", c.SQLitePath())
	if err != nil {
		return err
	}
	defer d.Close()
	if err := db.Backup(ctx, d, dest); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "backup written to %s\n", dest)
	return nil
}

func cmdRestore(ctx context.Context, e env, args []string) error {
	c, fs, err := flags(e, "restore", false, args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: careloop restore [--data DIR] FILE   (stop the server first)"}
	}
	if c.IsPostgres() {
		return usageError{"restore replaces the SQLite database; for PostgreSQL use pg_restore/psql (see docs/operations.md)"}
	}
	src := fs.Arg(0)
	if err := db.CheckBackup(ctx, src); err != nil {
		return err
	}
	if err := db.Restore(ctx, src, c.SQLitePath()); err != nil {
		if errors.Is(err, sql.ErrConnDone) {
			return fmt.Errorf("restore: %w", err)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "restored %s into %s\n", src, c.SQLitePath())
	return nil
}
