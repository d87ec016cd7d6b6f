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
		return e.usage("cli.backup_usage")
	}
	if c.IsPostgres() {
		return e.usage("cli.backup_postgres")
	}
	dest, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	if _, err := os.Stat(dest); err == nil {
		return e.usage("cli.backup_exists", "File", dest)
	}
	if _, err := os.Stat(c.SQLitePath()); err != nil {
		return fmt.Errorf("%s: %w", e.T("cli.no_database", "Path", c.SQLitePath()), err)
	}
	d, err := db.Open(ctx, "", c.SQLitePath())
	if err != nil {
		return err
	}
	defer d.Close()
	if err := db.Backup(ctx, d, dest); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, e.T("cli.backup_written", "File", dest))
	return nil
}

func cmdRestore(ctx context.Context, e env, args []string) error {
	c, fs, err := flags(e, "restore", false, args, nil)
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return e.usage("cli.restore_usage")
	}
	if c.IsPostgres() {
		return e.usage("cli.restore_postgres")
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
	fmt.Fprintln(e.stdout, e.T("cli.restored", "File", src, "Path", c.SQLitePath()))
	return nil
}
