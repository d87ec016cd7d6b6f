package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
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

// reportLang checks --lang; empty means the CLI's language.
func (e env) reportLang(s string) (string, error) {
	if s == "" {
		return e.lang, nil
	}
	if l := i18n.Normalize(s); l != "" {
		return l, nil
	}
	return "", e.usage("cli.bad_lang", "Value", s)
}

func cmdImport(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "customers" {
		fmt.Fprintln(e.stderr, e.T("cli.import_usage"))
		return e.usage("cli.import_what")
	}
	var dry, validOnly, allowDup, asJSON bool
	var lang string
	c, fs, err := flags(e, "import customers", false, reorder(args[1:], cliBools), func(fs *flag.FlagSet) {
		fs.BoolVar(&dry, "dry-run", false, e.T("cli.flag.dry_run"))
		fs.BoolVar(&validOnly, "valid-only", false, e.T("cli.flag.valid_only"))
		fs.BoolVar(&allowDup, "allow-duplicates", false, e.T("cli.flag.allow_duplicates"))
		fs.BoolVar(&asJSON, "json", false, e.T("cli.flag.json"))
		fs.StringVar(&lang, "lang", "", e.T("cli.flag.lang_report"))
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, e.T("cli.import_usage"))
		return e.usage("cli.import_one_file")
	}
	if lang, err = e.reportLang(lang); err != nil {
		return err
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return errors.New(e.T("cli.import_failed", "File", path, "Reason", err.Error()))
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
		return errors.New(catalog().T(lang, "cli.import_failed", map[string]any{"File": filepath.Base(path), "Reason": strings.Join(msgs, "; ")}))
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
		return errors.New(catalog().T(lang, "cli.import_rows_with_problems", map[string]any{"ErrorRows": rep.ErrorRows, "Rows": rep.Rows}))
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
		fmt.Fprintln(e.stderr, e.T("cli.export_usage"))
		return e.usage("cli.export_what")
	}
	var format, lang string
	var masked bool
	var f customers.Filter
	c, fs, err := flags(e, "export customers", false, reorder(args[1:], cliBools), func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "", e.T("cli.flag.format"))
		fs.StringVar(&f.Q, "q", "", e.T("cli.flag.q"))
		fs.StringVar(&f.Type, "type", "", e.T("cli.flag.type"))
		fs.StringVar(&f.Tier, "tier", "", e.T("cli.flag.tier"))
		fs.StringVar(&f.Lifecycle, "lifecycle", "", e.T("cli.flag.lifecycle"))
		fs.StringVar(&f.Tag, "tag", "", e.T("cli.flag.tag"))
		fs.BoolVar(&masked, "masked", false, e.T("cli.flag.masked"))
		fs.StringVar(&lang, "lang", "", e.T("cli.flag.lang_headers"))
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, e.T("cli.export_usage"))
		return e.usage("cli.export_one_file")
	}
	path := fs.Arg(0)
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	}
	if format != customers.ExportCSV && format != customers.ExportXLSX {
		return e.usage("cli.export_bad_format", "Value", format)
	}
	if lang, err = e.reportLang(lang); err != nil {
		return err
	}
	// The filters are checked as the API checks them: --tier gold is a
	// mistake, not an empty export.
	if f, err = customers.FilterFromQuery(url.Values{"q": {f.Q}, "type": {f.Type}, "tier": {f.Tier}, "lifecycle": {f.Lifecycle}, "tag": {f.Tag}}, 0); err != nil {
		return e.explain(err, nil)
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
		return errors.New(e.T("cli.export_failed", "Reason", err.Error()))
	}
	defer os.Remove(tmp.Name())
	n, err := a.Customers.Export(ctx, p, f, format, api.ExportTextFor(httpx.Kit{Cat: a.Catalog}, lang), tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.New(e.T("cli.export_failed", "Reason", err.Error()))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return errors.New(e.T("cli.export_failed", "Reason", err.Error()))
	}
	fmt.Fprintf(e.stdout, "%d\t%s\n", n, path)
	return nil
}
