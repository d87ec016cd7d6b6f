package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
)

// ManagerRole is the role whose holders hear of every major complaint.
const ManagerRole = "manager"

// CommitmentLead is how long before a commitment's due time its owner is
// reminded (an overdue one not yet reminded is reminded at once).
const CommitmentLead = 15 * time.Minute

// Staff turns ticket events and due commitments into staff notices: one
// outbox row per recipient and chosen channel, written in the event's
// transaction.
type Staff struct {
	DB       *db.DB
	Clock    clock.Clock
	Outbox   *Outbox
	Inbox    *Inbox
	Identity *identity.Store
	Tickets  *tickets.Store
	Catalog  *i18n.Catalog
	// BaseURL, when set, makes the links in emails absolute.
	BaseURL string
	// Robots, when set, hears of major complaints and SLA notices once
	// per notice (the group robots of internal/robots, wired by app).
	Robots Alerter
	// WeCom, when set, gives staff members' WeCom user ids for the wecom
	// channel (internal/robots, wired by app); unset, nobody gets WeCom
	// application messages.
	WeCom WeComDirectory
}

// WeComDirectory finds a staff member's WeCom user id ("" when none is on
// file or no WeCom application can send to it).
type WeComDirectory interface {
	WeComUserID(ctx context.Context, userID int64) (string, error)
}

// notice is one thing to tell a staff member.
type notice struct {
	event  string // a preference event (EventAssigned…)
	key    string // catalog keys <key>.title and <key>.body
	params map[string]any
	link   string
	entity string
	id     string
	dedupe string // the source's key; the row's is <dedupe>:<user>:<channel>
	// forced channels go out whatever the preferences say.
	forced []string
}

// Listen is the tickets.Listener of the staff notices (see
// docs/notifications.md for who hears of what).
func (s *Staff) Listen(ctx context.Context, t tickets.Ticket, e tickets.Event) error {
	base := notice{entity: "ticket", id: fmt.Sprint(t.ID), link: fmt.Sprintf("/tickets/%d", t.ID),
		dedupe: fmt.Sprintf("ticket_event:%d", e.ID), params: map[string]any{"Number": t.Number, "Subject": t.Subject}}
	actor := ""
	if e.ActorID != 0 {
		if u, err := s.Identity.GetUserBrief(ctx, e.ActorID); err == nil {
			actor = u.Name
		}
	}
	base.params["Actor"] = actor
	var to []int64
	switch e.Kind {
	case tickets.EventCreated, tickets.EventAssigned:
		// A ticket routed to someone at intake is theirs as much as one
		// handed over later.
		if id := dataID(e.Data["owner_id"]); id != 0 && id != e.ActorID {
			to = []int64{id}
		}
		base.event, base.key = EventAssigned, "notify.assigned"
	case tickets.EventMentioned:
		if id := dataID(e.Data["user_id"]); id != 0 && id != e.ActorID {
			to = []int64{id}
		}
		base.event, base.key = EventMentioned, "notify.mentioned"
	case tickets.EventCustomerMessage:
		// The owner; a ticket nobody owns, its followers.
		if t.OwnerID != nil {
			to = []int64{*t.OwnerID}
		} else {
			ids, err := s.Tickets.FollowerIDs(ctx, t.ID)
			if err != nil {
				return err
			}
			to = ids
		}
		to = slices.DeleteFunc(to, func(id int64) bool { return id == e.ActorID })
		base.event, base.key = EventCustomerReply, "notify.customer_reply"
	case tickets.EventMajorComplaint:
		// Every manager, in-app and by email, whatever their settings.
		users, err := s.Identity.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Active && slices.Contains(u.Roles, ManagerRole) {
				to = append(to, u.ID)
			}
		}
		base.event, base.key, base.forced = EventMajorComplaint, "notify.major_complaint", []string{ChannelInApp, ChannelEmail}
	default:
		return nil
	}
	for _, id := range to {
		if err := s.send(ctx, id, base); err != nil {
			return err
		}
	}
	var team int64
	if t.TeamID != nil {
		team = *t.TeamID
	}
	return s.alert(ctx, Alert{Event: base.event, Key: base.key, Params: base.params, Link: base.link, Entity: base.entity,
		ID: base.id, TeamID: team, Dedupe: base.dedupe})
}

// dataID reads an id of an event's data (int64 in the process, float64
// once read back from JSON).
func dataID(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case *int64:
		if x != nil {
			return *x
		}
	case float64:
		return int64(x)
	case int:
		return int64(x)
	}
	return 0
}

// send enqueues n for userID on each channel their preferences (or n's
// forced channels) choose, in ctx's transaction.
func (s *Staff) send(ctx context.Context, userID int64, n notice) error {
	u, err := s.Identity.GetUserBrief(ctx, userID)
	if err != nil {
		return fmt.Errorf("staff notice to %d: %w", userID, err)
	}
	if !u.Active {
		return nil
	}
	prefs, err := s.Inbox.Prefs(ctx, userID)
	if err != nil {
		return err
	}
	lang := i18n.Normalize(u.Locale)
	title := s.Catalog.T(lang, n.key+".title", n.params)
	body := s.Catalog.T(lang, n.key+".body", n.params)
	for _, ch := range NoticeChannels {
		if !prefs[n.event][ch] && !slices.Contains(n.forced, ch) {
			continue
		}
		m := Message{Channel: ch, Kind: "staff." + n.event, UserID: u.ID, Subject: title, Body: body,
			Entity: n.entity, EntityID: n.id, DedupeKey: fmt.Sprintf("%s:%d:%s", n.dedupe, u.ID, ch)}
		switch ch {
		case ChannelInApp:
			m.Recipient = fmt.Sprint(u.ID)
			m.Data, _ = json.Marshal(InAppData{Key: n.key + ".title", Params: n.params, Link: n.link})
		case ChannelEmail:
			if u.Email == "" || u.Demo {
				continue // demo accounts' addresses are made up
			}
			m.Recipient = u.Email
			link := n.link
			if s.BaseURL != "" {
				link = strings.TrimRight(s.BaseURL, "/") + link
			}
			m.Body = body + "\n\n" + link + "\n"
			m.Data = json.RawMessage(`{"auto": true}`)
		case ChannelWeCom:
			if s.WeCom == nil || u.Demo {
				continue
			}
			wid, err := s.WeCom.WeComUserID(ctx, u.ID)
			if err != nil {
				return err
			}
			if wid == "" {
				continue // no WeCom user id on file: nothing to send to
			}
			m.Recipient = wid
			if s.BaseURL != "" {
				m.Body = body + "\n\n" + strings.TrimRight(s.BaseURL, "/") + n.link
			}
		}
		if _, err := s.Outbox.Enqueue(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// RemindCommitments tells the owners of promises due within
// CommitmentLead (or overdue) and not yet reminded, once per promise: the
// claim and its outbox rows commit together, and the claim is a
// conditional update only one server wins. It returns how many it sent.
func (s *Staff) RemindCommitments(ctx context.Context) (int, error) {
	due, err := s.Tickets.CommitmentsToRemind(ctx, s.Clock.Now().Add(CommitmentLead), 200)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, c := range due {
		err := s.DB.WithTx(ctx, func(ctx context.Context) error {
			ok, err := s.Tickets.ClaimCommitmentReminder(ctx, c.ID)
			if err != nil || !ok {
				return err
			}
			sent++
			return s.send(ctx, *c.OwnerID, notice{event: EventCommitmentDue, key: "notify.commitment_due",
				params: map[string]any{"Number": c.TicketNumber, "Subject": c.TicketSubject, "Text": c.Text,
					"Due": c.DueAt.In(shanghai).Format("2006-01-02 15:04")},
				link: fmt.Sprintf("/tickets/%d", c.TicketID), entity: "ticket", id: fmt.Sprint(c.TicketID),
				dedupe: fmt.Sprintf("commitment_due:%d", c.ID)})
		})
		if err != nil {
			return sent, fmt.Errorf("remind commitment %d: %w", c.ID, err)
		}
	}
	return sent, nil
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}()

// CommitmentRemindArgs is the minute's look for due commitments.
type CommitmentRemindArgs struct{}

// Kind names the job in River's table.
func (CommitmentRemindArgs) Kind() string { return "commitment_remind" }

type remindWorker struct {
	river.WorkerDefaults[CommitmentRemindArgs]
	s *Staff
}

func (w *remindWorker) Work(ctx context.Context, _ *river.Job[CommitmentRemindArgs]) error {
	_, err := w.s.RemindCommitments(ctx)
	return err
}

// Jobs is the staff notices' background work: commitment_remind every
// minute, once per minute across the servers.
func (s *Staff) Jobs() staffJobs { return staffJobs{s} }

type staffJobs struct{ s *Staff }

// Register adds the reminder's worker and its periodic job.
func (j staffJobs) Register(w *river.Workers, _ *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(w, &remindWorker{s: j.s})
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Minute), func() (river.JobArgs, *river.InsertOpts) {
		return CommitmentRemindArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}
