package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
)

// cliContext marks changes made from the command line in the audit trail.
func cliContext(ctx context.Context) context.Context {
	return audit.WithActor(ctx, audit.Actor{Label: "cli"})
}

// readPassword takes the first line of stdin.
func readPassword(e env) (string, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usageError{"--password-stdin: no password on standard input"}
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// explain turns a validation error into readable lines.
func explain(err error) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	cat := i18n.MustLoad()
	var b strings.Builder
	for i, f := range v.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "--%s: %s", strings.ReplaceAll(f.Field, "_", "-"), cat.T(i18n.English, f.Key, f.Params))
	}
	return usageError{b.String()}
}

func cmdUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{"usage: careloop user add|passwd [flags]"}
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, e, args[1:])
	case "passwd":
		return userPasswd(ctx, e, args[1:])
	}
	return usageError{fmt.Sprintf("unknown user command %q: want add or passwd", args[0])}
}

func userAdd(ctx context.Context, e env, args []string) error {
	var email, name, roles, teams, locale string
	var fromStdin bool
	c, _, err := flags(e, "user add", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "sign-in email (required)")
		fs.StringVar(&name, "name", "", "display name (required)")
		fs.StringVar(&roles, "role", "", "roles, comma-separated: agent, after_sales, tech_support, technician, supervisor, quality, manager, admin")
		fs.StringVar(&locale, "locale", "zh-CN", "language: zh-CN or en")
		fs.StringVar(&teams, "team", "", "team names, comma-separated (optional)")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input; otherwise one is generated and printed once")
	})
	if err != nil {
		return err
	}
	password, generated := "", false
	if fromStdin {
		if password, err = readPassword(e); err != nil {
			return err
		}
	} else {
		password, generated = identity.GeneratePassword(), true
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	var teamIDs []int64
	if teams != "" {
		all, err := a.Identity.ListTeams(ctx)
		if err != nil {
			return err
		}
		for _, t := range splitComma(teams) {
			found := false
			for _, x := range all {
				if x.Name == t {
					teamIDs, found = append(teamIDs, x.ID), true
				}
			}
			if !found {
				return usageError{fmt.Sprintf("--team: no team named %q", t)}
			}
		}
	}
	u, err := a.Identity.CreateUser(cliContext(ctx), identity.NewUser{Email: email, Name: name, Password: password,
		Locale: locale, Roles: splitComma(roles), TeamIDs: teamIDs})
	if err != nil {
		return explain(err)
	}
	fmt.Fprintf(e.stdout, "created user %d %s (%s)\n", u.ID, u.Email, strings.Join(u.Roles, ","))
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", password)
	}
	return nil
}

func userPasswd(ctx context.Context, e env, args []string) error {
	var email string
	var fromStdin bool
	c, _, err := flags(e, "user passwd", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.BoolVar(&fromStdin, "password-stdin", false, "read the new password from standard input; otherwise one is generated and printed once")
	})
	if err != nil {
		return err
	}
	if email == "" {
		return usageError{"--email is required"}
	}
	password, generated := "", false
	if fromStdin {
		if password, err = readPassword(e); err != nil {
			return err
		}
	} else {
		password, generated = identity.GeneratePassword(), true
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Identity.GetUserByEmail(ctx, email)
	if err != nil {
		return usageError{fmt.Sprintf("--email: no user %s", email)}
	}
	if err := a.Identity.SetPassword(cliContext(ctx), u.ID, password); err != nil {
		return explain(err)
	}
	fmt.Fprintf(e.stdout, "password changed for %s; their sessions were ended\n", u.Email)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", password)
	}
	return nil
}

func cmdToken(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"usage: careloop token create --email E --name LABEL"}
	}
	var email, name string
	c, _, err := flags(e, "token create", false, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user the token acts for (required)")
		fs.StringVar(&name, "name", "", "a label, e.g. the integration's name (required)")
	})
	if err != nil {
		return err
	}
	if email == "" {
		return usageError{"--email is required"}
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Identity.GetUserByEmail(ctx, email)
	if err != nil {
		return usageError{fmt.Sprintf("--email: no user %s", email)}
	}
	_, secret, err := a.Identity.CreateToken(cliContext(ctx), u.ID, name)
	if err != nil {
		return explain(err)
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
