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
		return "", e.usage("cli.password_stdin_empty")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// userFlags names the flags of the user and token commands by the fields
// their validation errors name.
var userFlags = map[string]string{"roles": "role", "team_ids": "team", "password": "password-stdin"}

func cmdUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return e.usage("cli.user_usage")
	}
	switch args[0] {
	case "add":
		return userAdd(ctx, e, args[1:])
	case "passwd":
		return userPasswd(ctx, e, args[1:])
	}
	return e.usage("cli.user_unknown", "Command", args[0])
}

func userAdd(ctx context.Context, e env, args []string) error {
	var email, name, roles, teams, locale string
	var fromStdin bool
	c, _, err := flags(e, "user add", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", e.T("cli.flag.email_new"))
		fs.StringVar(&name, "name", "", e.T("cli.flag.name_user"))
		fs.StringVar(&roles, "role", "", e.T("cli.flag.role"))
		fs.StringVar(&locale, "locale", "zh-CN", e.T("cli.flag.locale"))
		fs.StringVar(&teams, "team", "", e.T("cli.flag.team"))
		fs.BoolVar(&fromStdin, "password-stdin", false, e.T("cli.flag.password_stdin_new"))
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
				return e.usage("cli.no_team", "Team", t)
			}
		}
	}
	u, err := a.Identity.CreateUser(cliContext(ctx), identity.NewUser{Email: email, Name: name, Password: password,
		Locale: locale, Roles: splitComma(roles), TeamIDs: teamIDs})
	if err != nil {
		return e.explain(err, userFlags)
	}
	fmt.Fprintln(e.stdout, e.T("cli.user_created", "ID", u.ID, "Email", u.Email, "Roles", strings.Join(u.Roles, ",")))
	if generated {
		fmt.Fprintln(e.stdout, e.T("cli.password_shown", "Password", password))
	}
	return nil
}

func userPasswd(ctx context.Context, e env, args []string) error {
	var email string
	var fromStdin bool
	c, _, err := flags(e, "user passwd", false, args, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", e.T("cli.flag.email_user"))
		fs.BoolVar(&fromStdin, "password-stdin", false, e.T("cli.flag.password_stdin_set"))
	})
	if err != nil {
		return err
	}
	if email == "" {
		return e.usage("cli.email_required")
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
		return e.usage("cli.no_user", "Email", email)
	}
	if err := a.Identity.SetPassword(cliContext(ctx), u.ID, password); err != nil {
		return e.explain(err, userFlags)
	}
	fmt.Fprintln(e.stdout, e.T("cli.password_changed", "Email", u.Email))
	if generated {
		fmt.Fprintln(e.stdout, e.T("cli.password_shown", "Password", password))
	}
	return nil
}

func cmdToken(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return e.usage("cli.token_usage")
	}
	var email, portalEmail, name string
	c, _, err := flags(e, "token create", false, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", e.T("cli.flag.email_token"))
		fs.StringVar(&portalEmail, "portal-email", "", e.T("cli.flag.portal_email"))
		fs.StringVar(&name, "name", "", e.T("cli.flag.name_token"))
	})
	if err != nil {
		return err
	}
	switch {
	case email != "" && portalEmail != "":
		return e.usage("cli.token_email_or_portal")
	case email == "" && portalEmail == "":
		return e.usage("cli.email_required")
	}
	a, err := app.OpenStore(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	if portalEmail != "" {
		return portalToken(ctx, e, a, portalEmail, name)
	}
	u, err := a.Identity.GetUserByEmail(ctx, email)
	if err != nil {
		return e.usage("cli.no_user", "Email", email)
	}
	_, secret, err := a.Identity.CreateToken(cliContext(ctx), u.ID, name)
	if err != nil {
		return e.explain(err, userFlags)
	}
	fmt.Fprintln(e.stdout, secret)
	return nil
}

// portalToken prints a new portal API token for the customer of an email
// address (opening their portal account when they have none yet): with it
// the ticket endpoints answer for that customer only.
func portalToken(ctx context.Context, e env, a *app.App, email, name string) error {
	acc, err := a.Portal.EnsureEmailAccount(cliContext(ctx), email)
	if errors.Is(err, domain.ErrNotFound) {
		return e.usage("cli.no_portal_customer", "Email", email)
	}
	if err != nil {
		return e.explain(err, map[string]string{"email": "portal-email"})
	}
	if strings.TrimSpace(name) == "" {
		name = "API"
	}
	_, secret, err := a.Portal.CreateToken(cliContext(ctx), acc.ID, name)
	if err != nil {
		return e.explain(err, userFlags)
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
