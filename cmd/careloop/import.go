package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/web/api"
	"github.com/careloop/careloop/internal/web/httpx"
)

const importUsage = `usage: careloop import customers FILE [--dry-run] [--valid-only] [--allow-duplicates] [--json] [--lang zh-CN|en]

Imports customers from an .xlsx or CSV file and prints the per-row report
(rows numbered as in the spreadsheet, the header being row 1). By default
nothing is imported while any row has a problem; --valid-only imports the
valid rows and reports the others. Exits with status 1 when a row has a
problem or the file is refused.`

const exportUsage = `usage: careloop export customers --format csv|xlsx [--q TEXT] [--type T] [--tier T] [--lifecycle S] [--tag T] [--masked] [--lang zh-CN|en] FILE

Writes the customers matching the filters (those of GET /api/v1/customers)
to FILE. Phones are in full unless --masked.`

// reorder moves positional arguments after the flags, so that
// "import customers FILE --dry-run" parses like "--dry-run FILE"; flags not
// named in bools take a value.
func reorder(args []string, bools map[string]bool) []string {
	var flagArgs, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flagArgs = append(flagArgs, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && !bools[name] && i+1 < len(args) {
			i++
			flagArgs = append(flagArgs, args[i])
		}
	}
	return append(flagArgs, pos...)
}

var cliBools = map[string]bool{"dry-run": true, "valid-only": true, "allow-duplicates": true, "json": true, "masked": true, "h": true, "help": true}

func cliLang(s string) (string, error) {
	if l := i18n.Normalize(s); l != "" {
		return l, nil
	}
	return "", usageError{fmt.Sprintf("unknown language %q (zh-CN or en)", s)}
}

func cmdImport(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "customers" {
		fmt.Fprintln(e.stderr, importUsage)
		return usageError{"import: what to import? (customers)"}
	}
	var dry, validOnly, allowDup, asJSON bool
	var lang string
	c, fs, err := flags(e, "import customers", false, reorder(args[1:], cliBools), func(fs *flag.FlagSet) {
		fs.BoolVar(&dry, "dry-run", false, "check the file and print the report; write nothing")
		fs.BoolVar(&validOnly, "valid-only", false, "import the valid rows and report the others (default: all or nothing)")
		fs.BoolVar(&allowDup, "allow-duplicates", false, "import phones and emails that other customers already have")
		fs.BoolVar(&asJSON, "json", false, "print the report as the API's JSON")
		fs.StringVar(&lang, "lang", i18n.Default, "language of the report: zh-CN or en")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, importUsage)
		return usageError{"import customers: give exactly one FILE"}
	}
	if lang, err = cliLang(lang); err != nil {
		return err
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import customers: %w", err)
	}
	defer f.Close()
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	cat := a.Catalog
	ctx = audit.WithActor(ctx, audit.Actor{Label: "cli"})
	rep, err := a.Customers.Import(ctx, f, customers.ImportSettings{DryRun: dry, ValidOnly: validOnly, AllowDuplicates: allowDup,
		FileName: filepath.Base(path)})
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		msgs := make([]string, len(ve.Fields))
		for i, fe := range ve.Fields {
			msgs[i] = cat.T(lang, fe.Key, fe.Params)
		}
		return fmt.Errorf("import customers: %s: %s", filepath.Base(path), strings.Join(msgs, "; "))
	}
	if err != nil {
		return err
	}
	res := api.ImportResultOf(httpx.Kit{Cat: cat}, lang, rep)
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printImport(e, cat, lang, rep, res)
	}
	if rep.ErrorRows > 0 {
		return fmt.Errorf("import customers: %d of %d rows have problems", rep.ErrorRows, rep.Rows)
	}
	return nil
}

func printImport(e env, cat *i18n.Catalog, lang string, rep customers.ImportReport, res api.ImportResult) {
	params := map[string]any{"Rows": rep.Rows, "Valid": rep.Valid, "ErrorRows": rep.ErrorRows, "Created": rep.Created,
		"First": rep.FirstNumber, "Last": rep.LastNumber, "Max": customers.MaxReportErrors, "Count": rep.ErrorCount}
	switch {
	case rep.DryRun:
		fmt.Fprintln(e.stdout, cat.T(lang, "import.result_dry", params))
	case rep.Created > 0:
		fmt.Fprintln(e.stdout, cat.T(lang, "import.result_done", params))
		if rep.ErrorRows > 0 {
			fmt.Fprintln(e.stdout, cat.T(lang, "import.result_skipped", params))
		}
	case rep.ErrorRows > 0:
		fmt.Fprintln(e.stdout, cat.T(lang, "import.result_refused", params))
	}
	for _, er := range res.Errors {
		fmt.Fprintf(e.stdout, "%s %d\t%s\t%s\n", cat.T(lang, "import.row", nil), er.Row, er.Column, er.Message)
	}
	if rep.Truncated {
		fmt.Fprintln(e.stdout, cat.T(lang, "import.truncated", params))
	}
}

func cmdExport(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "customers" {
		fmt.Fprintln(e.stderr, exportUsage)
		return usageError{"export: what to export? (customers)"}
	}
	var format, lang string
	var masked bool
	var f customers.Filter
	c, fs, err := flags(e, "export customers", false, reorder(args[1:], cliBools), func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "", "csv or xlsx (default: from FILE's extension)")
		fs.StringVar(&f.Q, "q", "", "search text, as in the list's search box")
		fs.StringVar(&f.Type, "type", "", "individual or organization")
		fs.StringVar(&f.Tier, "tier", "", "vip, normal or potential")
		fs.StringVar(&f.Lifecycle, "lifecycle", "", "lifecycle stage")
		fs.StringVar(&f.Tag, "tag", "", "a tag")
		fs.BoolVar(&masked, "masked", false, "mask phones as for staff without customers.contact_view")
		fs.StringVar(&lang, "lang", i18n.Default, "language of the headers: zh-CN or en")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, exportUsage)
		return usageError{"export customers: give exactly one FILE"}
	}
	path := fs.Arg(0)
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	}
	if format != customers.ExportCSV && format != customers.ExportXLSX {
		return usageError{fmt.Sprintf("export customers: --format must be csv or xlsx, not %q", format)}
	}
	if lang, err = cliLang(lang); err != nil {
		return err
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	perms := []identity.Permission{identity.CustomersView, identity.CustomersExport}
	if !masked {
		perms = append(perms, identity.CustomersContactView)
	}
	p := identity.NewPrincipal(identity.User{Email: "cli", Name: "cli", Active: true}, []string{"cli"}, perms)
	ctx = audit.WithActor(ctx, audit.Actor{Label: "cli"})
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return fmt.Errorf("export customers: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := a.Customers.Export(ctx, p, f, format, api.ExportTextFor(httpx.Kit{Cat: a.Catalog}, lang), tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export customers: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export customers: %w", err)
	}
	fmt.Fprintf(e.stdout, "%d\t%s\n", n, path)
	return nil
}
