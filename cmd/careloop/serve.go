package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/careloop/careloop/internal/app"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/demo"
)

// flags parses the shared configuration flags of a subcommand.
func flags(e env, name string, serve bool, args []string, extra func(fs *flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	c := config.Defaults()
	fs := flag.NewFlagSet("careloop "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = e.flagUsage(fs, name)
	b := config.Bind(fs, e.getenv, &c, serve, func(key string, params map[string]any) string {
		return catalog().T(e.lang, key, params)
	})
	if extra != nil {
		extra(fs)
	}
	if err := e.parseFlags(fs, args); err != nil {
		return c, fs, err
	}
	if err := b.Finish(); err != nil {
		return c, fs, usageError{err.Error()}
	}
	return c, fs, nil
}

func cmdServe(ctx context.Context, e env, args []string) error {
	c, _, err := flags(e, "serve", true, args, nil)
	if err != nil {
		return err
	}
	if c.Demo && c.SecretKey == "" {
		// The demo's channel secrets are samples, sealed with a public key.
		c.SecretKey = demo.SecretKey
	}
	start := time.Now()
	a, err := app.Open(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	if c.Demo {
		if err := demo.Seed(ctx, a.Identity); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if err := demo.SeedCustomers(ctx, a.DB, a.Customers, a.Products, a.Clock.Now()); err != nil {
			return fmt.Errorf("demo customers: %w", err)
		}
		if err := demo.SeedTickets(ctx, a.DB, a.Identity, a.Clock.Now(), a.SLA, a.Attachments); err != nil {
			return fmt.Errorf("demo tickets: %w", err)
		}
		if err := demo.SeedPortal(ctx, a.DB, a.Identity, a.Products, a.Portal, a.Clock.Now(), a.Attachments); err != nil {
			return fmt.Errorf("demo portal: %w", err)
		}
		if err := demo.SeedMail(ctx, a.Mailboxes, a.Intake); err != nil {
			return fmt.Errorf("demo mail: %w", err)
		}
		if err := demo.SeedChannels(ctx, demo.ChannelStores{DB: a.DB, Identity: a.Identity, Tickets: a.Tickets, Outbox: a.Outbox, SMS: a.SMS,
			WeChat: a.WeChat, Robots: a.Robots, Webhooks: a.Webhooks}, a.Clock.Now()); err != nil {
			return fmt.Errorf("demo channels: %w", err)
		}
		if err := demo.SeedSurveys(ctx, demo.SurveyStores{DB: a.DB, Identity: a.Identity, Tickets: a.Tickets, Surveys: a.Surveys}); err != nil {
			return fmt.Errorf("demo surveys: %w", err)
		}
		a.Setup = nil
	}
	if err := a.Listen(); err != nil {
		return err
	}
	url := "http://" + a.Addr()
	if c.BaseURL != "" {
		url = c.BaseURL
	}
	where := c.SQLitePath()
	if c.IsPostgres() {
		where = "PostgreSQL"
	}
	a.Log.Info("careloop listening", "url", url, "database", where, "pid", os.Getpid(), "startup_ms", time.Since(start).Milliseconds())
	fmt.Fprintln(e.stdout, e.T("cli.running_at", "URL", url))
	if c.Demo {
		fmt.Fprintln(e.stdout, e.T("cli.demo_accounts", "Password", demo.Password))
		for _, acc := range demo.Accounts {
			fmt.Fprintf(e.stdout, "  %-12s %s\n", acc.Role, acc.Email)
		}
		fmt.Fprintln(e.stdout, e.T("cli.demo_portal", "URL", url+"/portal/signin", "Email", demo.PortalEmail))
	} else if a.Setup != nil {
		if n, err := a.Identity.CountUsers(ctx); err == nil && n == 0 {
			a.Log.Warn("first run: open the setup page and enter the one-time setup code", "url", url+"/setup", "setup_code", a.Setup.Code())
			fmt.Fprintln(e.stdout, e.T("cli.first_run", "URL", url, "Code", a.Setup.Code()))
		}
	}
	return a.Serve(ctx)
}

func cmdMigrate(ctx context.Context, e env, args []string) error {
	c, _, err := flags(e, "migrate", false, args, nil)
	if err != nil {
		return err
	}
	// Open migrates Careloop's tables and River's.
	a, err := app.Open(ctx, c, app.Options{LogOutput: e.stderr})
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(e.stdout, e.T("cli.migrated"))
	return nil
}
