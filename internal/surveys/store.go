package surveys

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/reach"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/tickets"
)

// Sources of a survey.
const (
	SourceTicket = "ticket"
)

// States of a survey.
const (
	StatePlanned    = "planned"    // waiting for its due time
	StateSent       = "sent"       // its link went out through the outbox
	StateAnswered   = "answered"   // by the link or on the phone
	StateSuppressed = "suppressed" // not sent on purpose (Reason says why)
	StateCancelled  = "cancelled"  // the ticket was reopened before it went out
)

// Ways an answer came in.
const (
	ViaLink  = "link"
	ViaPhone = "phone"
)

// Survey is one survey of one case.
type Survey struct {
	ID         int64  `json:"id"`
	SourceKind string `json:"source_kind"`
	SourceID   int64  `json:"source_id"`
	Cycle      int    `json:"cycle"`
	TicketID   int64  `json:"ticket_id,omitempty"`
	CustomerID int64  `json:"customer_id"`
	TeamID     int64  `json:"team_id,omitempty"`
	State      string `json:"state"`
	// Reason is why it was suppressed: catalog keys joined by commas
	// (reach's skips, surveys.suppressed.*).
	Reason      string     `json:"reason,omitempty"`
	Channel     string     `json:"channel,omitempty"`
	Language    string     `json:"language"`
	DueAt       time.Time  `json:"due_at"`
	SentAt      *time.Time `json:"sent_at,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	CSAT        *int       `json:"csat,omitempty"`
	NPS         *int       `json:"nps,omitempty"`
	Comment     string     `json:"comment,omitempty"`
	AnsweredAt  *time.Time `json:"answered_at,omitempty"`
	AnsweredVia string     `json:"answered_via,omitempty"`
	AnsweredBy  int64      `json:"answered_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Deps are what the store works with; Outbox, Reach and Staff are needed
// to send and to tell, Settings may be nil (the defaults).
type Deps struct {
	DB       *db.DB
	Clock    clock.Clock
	Audit    *audit.Log
	Settings *settings.Store
	Outbox   *notify.Outbox
	Reach    *reach.Chooser
	Tickets  *tickets.Store
	Identity *identity.Store
	Staff    *notify.Staff
	Catalog  *i18n.Catalog
	// BaseURL is the public address the links point to.
	BaseURL string
	Log     *slog.Logger
}

// Store keeps the surveys and their follow-ups.
type Store struct {
	db       *db.DB
	clock    clock.Clock
	audit    *audit.Log
	settings *settings.Store
	outbox   *notify.Outbox
	reach    *reach.Chooser
	tickets  *tickets.Store
	identity *identity.Store
	staff    *notify.Staff
	cat      *i18n.Catalog
	base     string
	log      *slog.Logger
	// Batch is how many due surveys one transaction of SendDue claims.
	Batch int
	// Workers is how many batches SendDue sends at once on PostgreSQL.
	Workers int
	// AnswerLimit throttles the public page's answers per address.
	AnswerLimit *identity.Throttle
}

// New returns the store.
func New(d Deps) *Store {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	t := identity.NewThrottle(d.Clock)
	// A person answers one survey in a minute or two, a family or an
	// office behind one address a few; thirty posts a minute is a script.
	t.Window, t.PerAccount, t.PerIP = time.Minute, 10, 30
	return &Store{db: d.DB, clock: d.Clock, audit: d.Audit, settings: d.Settings, outbox: d.Outbox, reach: d.Reach,
		tickets: d.Tickets, identity: d.Identity, staff: d.Staff, cat: d.Catalog, base: strings.TrimRight(d.BaseURL, "/"),
		log: d.Log, Batch: 200, Workers: 4, AnswerLimit: t}
}

const surveyCols = `id, source_kind, source_id, cycle, COALESCE(ticket_id, 0), customer_id, COALESCE(team_id, 0), state, reason,
	channel, language, due_at, sent_at, expires_at, csat, nps, comment, answered_at, answered_via, COALESCE(answered_by, 0), created_at`

type scanner interface{ Scan(dst ...any) error }

func scanSurvey(r scanner) (Survey, error) {
	var s Survey
	var sent, exp, ans sql.NullTime
	var csat, nps sql.NullInt64
	err := r.Scan(&s.ID, &s.SourceKind, &s.SourceID, &s.Cycle, &s.TicketID, &s.CustomerID, &s.TeamID, &s.State, &s.Reason,
		&s.Channel, &s.Language, &s.DueAt, &sent, &exp, &csat, &nps, &s.Comment, &ans, &s.AnsweredVia, &s.AnsweredBy, &s.CreatedAt)
	if err != nil {
		return s, err
	}
	s.DueAt, s.CreatedAt = s.DueAt.UTC(), s.CreatedAt.UTC()
	s.SentAt, s.ExpiresAt, s.AnsweredAt = tptr(sent), tptr(exp), tptr(ans)
	if csat.Valid {
		v := int(csat.Int64)
		s.CSAT = &v
	}
	if nps.Valid {
		v := int(nps.Int64)
		s.NPS = &v
	}
	return s, nil
}

func tptr(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	v := n.Time.UTC()
	return &v
}

// get returns survey id whatever its ticket (callers check the ticket).
func (s *Store) get(ctx context.Context, id int64) (Survey, error) {
	sv, err := scanSurvey(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+surveyCols+` FROM surveys WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Survey{}, fmt.Errorf("survey %d: %w", id, domain.ErrNotFound)
	}
	return sv, err
}

// Get returns survey id when p may see its ticket.
func (s *Store) Get(ctx context.Context, p *identity.Principal, id int64) (Survey, error) {
	sv, err := s.get(ctx, id)
	if err != nil {
		return sv, err
	}
	if err := s.visible(ctx, p, sv); err != nil {
		return Survey{}, err
	}
	return sv, nil
}

// visible: a survey is seen by whoever sees its ticket.
func (s *Store) visible(ctx context.Context, p *identity.Principal, sv Survey) error {
	if sv.TicketID == 0 {
		return nil
	}
	if err := s.tickets.Visible(ctx, p, sv.TicketID); err != nil {
		return fmt.Errorf("survey %d: %w", sv.ID, domain.ErrNotFound)
	}
	return nil
}

// Filter narrows List.
type Filter struct {
	TicketID   int64
	CustomerID int64
	Limit      int
}

// List returns the surveys of a ticket or a customer, newest first, those
// whose tickets p may see.
func (s *Store) List(ctx context.Context, p *identity.Principal, f Filter) ([]Survey, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.TicketID != 0 {
		args = append(args, f.TicketID)
		where = append(where, fmt.Sprintf("ticket_id = $%d", len(args)))
	}
	if f.CustomerID != 0 {
		args = append(args, f.CustomerID)
		where = append(where, fmt.Sprintf("customer_id = $%d", len(args)))
	}
	args = append(args, f.Limit)
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT `+surveyCols+` FROM surveys WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list surveys: %w", err)
	}
	var all []Survey
	for rows.Next() {
		sv, err := scanSurvey(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, sv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Survey{}
	seen := map[int64]bool{}
	for _, sv := range all {
		if sv.TicketID != 0 {
			ok, known := seen[sv.TicketID]
			if !known {
				ok = s.tickets.Visible(ctx, p, sv.TicketID) == nil
				seen[sv.TicketID] = ok
			}
			if !ok {
				continue
			}
		}
		out = append(out, sv)
	}
	return out, nil
}

// ReasonText renders a suppressed survey's reason in lang.
func (s *Store) ReasonText(sv Survey, lang string) string {
	if sv.Reason == "" {
		return ""
	}
	out := ""
	for _, k := range strings.Split(sv.Reason, ",") {
		t := s.cat.T(lang, k, nil)
		if out == "" {
			out = t
			continue
		}
		out = s.cat.T(lang, "reach.join", map[string]any{"A": out, "B": t})
	}
	return out
}
