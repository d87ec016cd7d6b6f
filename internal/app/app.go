// Package app is the composition root: configuration → database → domains →
// web server → background jobs, with Start and Shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/care"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/config"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/jobs"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/reach"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/ticketsla"
	"github.com/careloop/careloop/internal/timeline"
	"github.com/careloop/careloop/internal/web"
	"github.com/careloop/careloop/internal/web/ui"
	"github.com/careloop/careloop/internal/webhooks"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wecomkf"
)

// App is a running Careloop.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Clock    clock.Clock
	DB       *db.DB
	Catalog  *i18n.Catalog
	Audit    *audit.Log
	Identity *identity.Store
	Jobs     *jobs.Runner
	Server   *web.Server
	Setup    *ui.SetupCode

	Calendars *sla.Store // business calendars (internal/sla)
	// SLAPolicies are the SLA policies on those calendars (internal/sla).
	SLAPolicies *sla.PolicyStore
	Customers   *customers.Store
	Products    *customers.Catalog
	Timeline    *timeline.Log
	Tickets     *tickets.Store
	Settings    *settings.Store // the administrator's settings (internal/settings)
	// Attachments keeps files under Config.DataDir/attachments (also with
	// PostgreSQL); nil when no data directory is configured.
	Attachments *attachments.Store
	// Outbox is the one way out for every outbound message (internal/notify).
	Outbox *notify.Outbox
	// Mailboxes send and take in the company's email.
	Mailboxes *email.Mailboxes
	// Webhooks tell other systems of changes (the outbox's webhook channel).
	Webhooks *webhooks.Store
	// SMS is the text-message channel: its configuration and counters.
	SMS *sms.Store
	// Intake turns mail taken in into tickets and replies; Poller reads the
	// mailboxes over IMAP (its job runs with the others).
	Intake *email.Intake
	Poller *email.Poller
	// Notices turns ticket events and due commitments into staff
	// notifications (in-app, email) through the outbox.
	Notices *notify.Staff
	// Robots are the group robots of DingTalk and WeCom: team alerts
	// through the outbox (major complaints, SLA notices, backlog).
	Robots *robots.Store
	// WeChat is the Official Account channel (callback, accounts).
	WeChat *wechat.Store
	// WeComKF is the WeCom 微信客服 channel (callback, pull, replies).
	WeComKF *wecomkf.Store
	// Portal is the customer portal and the public web form.
	Portal *portal.Store
	// SLATimers keeps the tickets' SLA timers; SLA starts and moves them
	// on ticket events and sweeps their warnings and escalations.
	SLATimers *sla.TimerStore
	SLA       *ticketsla.Service
	// Surveys are the survey after every case and its follow-ups.
	Surveys *surveys.Store
	// Care is proactive care: plans, the scheduler and its job, tasks.
	Care *care.Store

	http     *http.Server
	listener net.Listener
}

// Options adjust what Open builds (tests use them).
type Options struct {
	Clock     clock.Clock
	Hash      identity.HashParams
	NoJobs    bool
	LogOutput io.Writer
}

// NewLogger builds the slog logger of the configuration.
func NewLogger(c config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenStore opens and migrates the database and the domain stores, without
// the web server: what the CLI subcommands need.
func OpenStore(ctx context.Context, c config.Config, o Options) (*App, error) {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.LogOutput == nil {
		o.LogOutput = io.Discard
	}
	a := &App{Config: c, Clock: o.Clock, Log: NewLogger(c, o.LogOutput)}
	var err error
	a.DB, err = db.Open(ctx, c.DB, c.SQLitePath())
	if err != nil {
		return nil, err
	}
	if n, err := a.DB.Migrate(ctx); err != nil {
		a.DB.Close()
		return nil, err
	} else if n > 0 {
		a.Log.Info("migrations applied", "count", n, "dialect", a.DB.Dialect)
	}
	a.Catalog, err = i18n.Load()
	if err != nil {
		a.DB.Close()
		return nil, err
	}
	a.Audit = audit.New(a.DB, a.Clock)
	a.Identity = identity.NewStore(a.DB, a.Clock, a.Audit, identity.Options{Hash: o.Hash})
	if err := a.Identity.EnsureDefaultRoles(ctx); err != nil {
		a.DB.Close()
		return nil, err
	}
	a.Timeline = timeline.New(a.DB, a.Clock)
	a.Customers = customers.NewStore(a.DB, a.Clock, a.Audit, a.Timeline)
	// Names of customers older than the text index (migration 00011); once
	// done, one lookup.
	if n, err := a.Customers.BackfillNameIndex(ctx); err != nil {
		a.DB.Close()
		return nil, err
	} else if n > 0 {
		a.Log.Info("customer names indexed", "count", n)
	}
	a.Products = customers.NewCatalog(a.DB, a.Clock, a.Audit)
	a.Tickets = tickets.NewStore(a.DB, a.Clock, a.Audit, a.Timeline)
	// Tickets older than their text index (migration 00014); once done,
	// one lookup.
	if n, err := a.Tickets.BackfillTextIndex(ctx); err != nil {
		a.DB.Close()
		return nil, err
	} else if n > 0 {
		a.Log.Info("tickets indexed for search", "count", n)
	}
	if err := a.Tickets.EnsureDefaultCategories(ctx); err != nil {
		a.DB.Close()
		return nil, err
	}
	if err := a.Tickets.EnsureDefaultTemplates(ctx); err != nil {
		a.DB.Close()
		return nil, err
	}
	a.Calendars = sla.NewStore(a.DB, a.Clock, a.Audit)
	a.Settings = settings.New(a.DB, a.Clock, a.Audit)
	a.Tickets.UseSettings(a.Settings)
	if c.DataDir != "" {
		if a.Attachments, err = attachments.New(a.DB, a.Clock, a.Audit, a.Settings, c.DataDir); err != nil {
			a.DB.Close()
			return nil, err
		}
		a.Tickets.UseAttachments(a.Attachments)
	}
	if err := a.Calendars.EnsureBuiltins(ctx); err != nil {
		a.DB.Close()
		return nil, err
	}
	a.SLAPolicies = sla.NewPolicyStore(a.DB, a.Clock, a.Audit, a.Calendars, sla.Vocabulary{
		Types: tickets.Types, Severities: tickets.Severities, Channels: tickets.Channels, Tiers: customers.Tiers})
	if err := a.SLAPolicies.EnsureDefault(ctx); err != nil {
		a.DB.Close()
		return nil, err
	}
	a.Outbox = notify.New(a.DB, a.Clock, a.Audit, a.Timeline, notify.Options{})
	a.Outbox.UseConsent(a.Customers.MayReceive)
	sealer, err := email.NewSealer(c.SecretKey)
	if err != nil {
		a.DB.Close()
		return nil, err
	}
	a.Mailboxes = email.NewMailboxes(a.DB, a.Clock, a.Audit, sealer)
	a.Outbox.Register(email.NewChannel(a.Mailboxes.ForSending, &email.Sender{}, a.Clock))
	a.Webhooks = webhooks.New(a.DB, a.Clock, a.Audit, sealer, a.Outbox, webhooks.Options{})
	a.Outbox.Register(a.Webhooks)
	a.Tickets.Listen(a.Webhooks.ListenTickets)
	a.Customers.Listen(a.Webhooks.ListenCustomers)
	a.SMS = sms.NewStore(a.DB, a.Clock, a.Settings, sealer)
	a.Outbox.Register(a.SMS.Channel())
	a.WeChat = wechat.NewStore(a.DB, a.Clock, a.Settings, sealer, a.Customers, a.Tickets)
	// Links in customers' mails need the public address; without
	// --base-url, the server's own (never the request's Host, which a
	// caller chooses: a sign-in link must not point elsewhere).
	base := c.BaseURL
	if base == "" {
		base = "http://" + c.Addr
	}
	replies := email.NewReplies(a.DB, a.Clock, a.Outbox, a.Mailboxes, a.Catalog, base)
	a.Tickets.Listen(replies.Listen)
	// Replies to WeChat followers: the 客服消息 API, through the outbox.
	a.WeChat.Use(wechat.Options{Outbox: a.Outbox, Catalog: a.Catalog, BaseURL: base, AllowPrivate: c.RobotsAllowPrivate,
		Files: a.Attachments})
	a.Outbox.Register(a.WeChat.Channel())
	a.Tickets.Listen(a.WeChat.Listen)
	// WeCom 微信客服: messages pulled after each callback, replies through the outbox.
	a.WeComKF = wecomkf.NewStore(a.DB, a.Clock, a.Settings, sealer, a.Customers, a.Tickets)
	a.WeComKF.Use(wecomkf.Options{Outbox: a.Outbox, AllowPrivate: c.RobotsAllowPrivate})
	a.Outbox.Register(a.WeComKF.Channel())
	a.Tickets.Listen(a.WeComKF.Listen)
	// Outside the 48-hour window with no reply template: the channel reach
	// picks for a reply, WeChat excluded (SMS, email).
	reroute := a.WeChat.Reroute(&reach.Chooser{DB: a.DB, Channels: a.Outbox, Consent: a.Customers.MayReceive}, replies.Send)
	a.WeChat.SetFallback(reroute)
	// 微信客服 outside its window (48 hours, 5 messages, 95018/95007): the same.
	a.WeComKF.SetFallback(reroute)
	a.Tickets.Listen(email.NewAcknowledger(a.DB, a.Clock, a.Outbox, a.Mailboxes, a.Catalog, a.Settings, a.SLAPolicies.Promise, base).Listen)
	a.Intake = email.NewIntake(a.DB, a.Clock, a.Customers, a.Tickets, a.Timeline, a.Catalog)
	a.Poller = email.NewPoller(a.DB, a.Clock, a.Mailboxes, a.Intake, a.Log, email.PollOptions{})
	inbox := notify.NewInbox(a.DB, a.Clock, a.Audit)
	a.Outbox.Register(inbox.Channel())
	a.Notices = &notify.Staff{DB: a.DB, Clock: a.Clock, Outbox: a.Outbox, Inbox: inbox, Identity: a.Identity, Tickets: a.Tickets,
		Catalog: a.Catalog, BaseURL: c.BaseURL}
	a.Robots = robots.New(robots.Deps{DB: a.DB, Clock: a.Clock, Audit: a.Audit, Sealer: sealer, Catalog: a.Catalog, Identity: a.Identity,
		Tickets: a.Tickets, Outbox: a.Outbox}, robots.Options{AllowPrivate: c.RobotsAllowPrivate, BaseURL: c.BaseURL})
	a.Outbox.Register(a.Robots.Channel())
	a.Outbox.Register(a.Robots.AppChannel())
	a.Notices.Robots, a.Notices.WeCom = a.Robots, a.Robots
	a.Tickets.Listen(a.Notices.Listen)
	a.SLATimers = sla.NewTimerStore(a.DB, a.Clock)
	host, _ := os.Hostname()
	a.SLA = ticketsla.New(ticketsla.Deps{DB: a.DB, Clock: a.Clock, Policies: a.SLAPolicies, Calendars: a.Calendars,
		Timers: a.SLATimers, Tickets: a.Tickets, Identity: a.Identity, Staff: a.Notices, Catalog: a.Catalog, Log: a.Log,
		Server: fmt.Sprintf("%s:%d", host, os.Getpid())})
	a.Tickets.Listen(a.SLA.Listen)
	a.Portal = portal.NewStore(portal.Deps{DB: a.DB, Clock: a.Clock, Audit: a.Audit, Outbox: a.Outbox, Tickets: a.Tickets,
		Customers: a.Customers, Catalog: a.Catalog}, portal.Options{BaseURL: base})
	a.Surveys = surveys.New(surveys.Deps{DB: a.DB, Clock: a.Clock, Audit: a.Audit, Settings: a.Settings, Outbox: a.Outbox,
		Reach: &reach.Chooser{DB: a.DB, Channels: a.Outbox, Consent: a.Customers.MayReceive}, Tickets: a.Tickets,
		Identity: a.Identity, Staff: a.Notices, Catalog: a.Catalog, BaseURL: base, Log: a.Log})
	a.Tickets.Listen(a.Surveys.Listen)
	a.Care = care.New(care.Deps{DB: a.DB, Clock: a.Clock, Audit: a.Audit, Customers: a.Customers})
	if err := a.Care.EnsureDefaults(ctx); err != nil {
		a.DB.Close()
		return nil, err
	}
	return a, nil
}

// Open builds the whole application: stores, jobs and the web server.
func Open(ctx context.Context, c config.Config, o Options) (*App, error) {
	a, err := OpenStore(ctx, c, o)
	if err != nil {
		return nil, err
	}
	if !o.NoJobs {
		modules := []jobs.Module{a.Tickets.Jobs(), a.Notices.Jobs(), a.Poller.Jobs(), a.Portal.Jobs(), a.SLA.Jobs(), a.Robots.Jobs(),
			a.Surveys.Jobs()}
		modules = append(modules, a.WeComKF.Jobs())
		if a.Attachments != nil {
			modules = append(modules, a.Attachments.Jobs())
		}
		modules = append(modules, a.WeChat.Jobs())
		modules = append(modules, a.Care.Jobs())
		a.Jobs, err = jobs.New(ctx, a.DB, a.Log, jobs.Kinds{Identity: a.Identity, Customers: a.Customers, Clock: a.Clock, Modules: modules})
		if err != nil {
			a.DB.Close()
			return nil, err
		}
		// Customer imports of more rows than this run as background jobs
		// (--import-sync-rows).
		a.Customers.SetImportQueue(a.Jobs.InsertImport, c.ImportSyncRows)
		a.Customers.SetRestageQueue(a.Jobs.InsertLifecycle)
		a.WeComKF.SetQueue(func(ctx context.Context, p wecomkf.PullArgs) error { return a.Jobs.Insert(ctx, p, nil) })
		a.WeChat.UseJobs(a.Jobs.Insert)
	}
	if n, err := a.Identity.CountUsers(ctx); err == nil && n == 0 {
		a.Setup = ui.NewSetupCode()
	}
	deps := web.Deps{Config: c, Log: a.Log, DB: a.DB, Clock: a.Clock, Catalog: a.Catalog, Identity: a.Identity,
		Audit: a.Audit, Setup: a.Setup, Calendars: a.Calendars, SLAPolicies: a.SLAPolicies, Customers: a.Customers, Products: a.Products, Timeline: a.Timeline, Tickets: a.Tickets, Outbox: a.Outbox, Mailboxes: a.Mailboxes,
		SMS: a.SMS, Settings: a.Settings, Portal: a.Portal, Webhooks: a.Webhooks, SLATimers: a.SLATimers, Robots: a.Robots, WeChat: a.WeChat,
		WeComKF: a.WeComKF, Surveys: a.Surveys, Care: a.Care}
	if a.Jobs != nil {
		deps.JobStats = a.Jobs.Stats
	}
	a.Server, err = web.New(deps)
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// Listen binds the configured address; Addr then tells the real one.
func (a *App) Listen() error {
	l, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.Config.Addr, err)
	}
	a.listener = l
	return nil
}

// Addr is the address the server listens on.
func (a *App) Addr() string { return a.listener.Addr().String() }

// Serve runs the HTTP server and the job workers until ctx ends, then shuts
// down gracefully: stop accepting, finish in-flight requests and jobs.
func (a *App) Serve(ctx context.Context) error {
	a.http = &http.Server{
		Handler:           a.Server,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	var outboxDone chan struct{}
	if a.Jobs != nil {
		if err := a.Jobs.Start(ctx); err != nil {
			return err
		}
		// The outbox delivers with the jobs: a server started without
		// jobs (tests, the CLI) sends nothing.
		octx, stop := context.WithCancel(context.WithoutCancel(ctx))
		outboxDone = make(chan struct{})
		go func() { defer close(outboxDone); a.Outbox.Run(octx) }()
		defer func() { stop(); <-outboxDone }()
	}
	errc := make(chan error, 1)
	go func() { errc <- a.http.Serve(a.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "grace", a.Config.ShutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownGrace)
	defer cancel()
	err := a.http.Shutdown(sctx)
	if a.Jobs != nil {
		err = errors.Join(err, a.Jobs.Stop(sctx))
	}
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// Close releases the database.
func (a *App) Close() error {
	if a.Jobs != nil {
		a.Jobs.Close()
	}
	return a.DB.Close()
}
