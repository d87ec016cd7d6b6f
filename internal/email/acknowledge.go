package email

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/tickets"
)

// AckSettingKey is where the administrator turns the first automatic
// acknowledgement on or off (internal/settings).
const AckSettingKey = "tickets.acknowledgement"

// AckSettings is the acknowledgement's setting. On by default: a customer
// who wrote should know at once that the request arrived and when they
// will hear back.
type AckSettings struct {
	Enabled bool `json:"enabled"`
}

// AckSettingsOf reads the setting and its version (0 when never saved).
func AckSettingsOf(ctx context.Context, st *settings.Store) (AckSettings, int64, error) {
	v := AckSettings{Enabled: true}
	if st == nil {
		return v, 0, nil
	}
	e, found, err := st.Entry(ctx, AckSettingKey)
	if err != nil || !found {
		return v, 0, err
	}
	if err := json.Unmarshal(e.Value, &v); err != nil {
		return v, 0, fmt.Errorf("settings %s: %w", AckSettingKey, err)
	}
	return v, e.Version, nil
}

// SaveAckSettings stores the setting (audited by the settings store);
// version is the one read, 0 for the first save.
func SaveAckSettings(ctx context.Context, st *settings.Store, v AckSettings, version int64) (int64, error) {
	return st.Set(ctx, AckSettingKey, v, version)
}

// PromiseFunc tells when a ticket with facts f received at received will
// have its first answer (sla.PolicyStore.Promise; the app wires it, so this
// package needs no policy store).
type PromiseFunc func(ctx context.Context, f sla.TicketFacts, received time.Time) (sla.Promise, bool, error)

// Acknowledger sends the first automatic acknowledgement: when a customer's
// own request (a mail, the web form, the portal) becomes a ticket, one mail
// through the outbox, in the ticket's creating transaction, says that it
// arrived, its number and subject, and when they will hear back.
type Acknowledger struct {
	db         *db.DB
	clock      clock.Clock
	outbox     *notify.Outbox
	mailboxes  *Mailboxes
	cat        *i18n.Catalog
	settings   *settings.Store
	promise    PromiseFunc
	portalBase string
}

// NewAcknowledger builds the listener; hand Listen to tickets.Store.Listen.
// settings may be nil (always on), promise nil (no promised time).
func NewAcknowledger(d *db.DB, c clock.Clock, o *notify.Outbox, m *Mailboxes, cat *i18n.Catalog, st *settings.Store,
	promise PromiseFunc, portalBase string) *Acknowledger {
	return &Acknowledger{db: d, clock: c, outbox: o, mailboxes: m, cat: cat, settings: st, promise: promise,
		portalBase: strings.TrimRight(portalBase, "/")}
}

// ackChannels are the channels on which the customer wrote themself. On
// the phone or at the counter an agent is talking to them; WeChat, SMS and
// chat answer in their own conversation.
var ackChannels = map[string]bool{"email": true, "web": true}

// inboundMail is the mail a ticket is being created from, handed by the
// intake to the listeners of that creation through the context: its
// email_threads row and its mailbox's are written only after the ticket.
type inboundMail struct {
	mailboxID  int64
	messageID  string
	references []string
	from       string
	// quiet is why the sender asked for no automatic answer ("" for none).
	quiet string
}

type inboundKey struct{}

func withInbound(ctx context.Context, m inboundMail) context.Context {
	return context.WithValue(ctx, inboundKey{}, m)
}

func inboundOf(ctx context.Context) (inboundMail, bool) {
	m, ok := ctx.Value(inboundKey{}).(inboundMail)
	return m, ok
}

// quietReason tells why an ordinary mail (Classify let it through) must
// still get no automatic answer: the sender asked for none (Microsoft's
// X-Auto-Response-Suppress), it came from a mailing list, or its address
// takes no answers. Its ticket is made; only the acknowledgement is not.
func quietReason(m *Mail) string {
	if v := strings.ToLower(m.Header("X-Auto-Response-Suppress")); strings.Contains(v, "all") || strings.Contains(v, "autoreply") {
		return "X-Auto-Response-Suppress"
	}
	if m.Header("List-Id") != "" || m.Header("List-Unsubscribe") != "" {
		return "mailing list"
	}
	local := m.From
	if i := strings.IndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	switch strings.NewReplacer("-", "", "_", "", ".", "").Replace(local) {
	case "noreply", "donotreply", "noresponse":
		return "sender " + m.From
	}
	return ""
}

// Listen is the tickets listener (it runs in the creating transaction).
func (a *Acknowledger) Listen(ctx context.Context, t tickets.Ticket, e tickets.Event) error {
	if e.Kind != tickets.EventCreated || !ackChannels[t.Channel] || e.ActorID != 0 {
		// A ticket a staff member records (actor set) is being handled by
		// them already: they tell the customer themself.
		return nil
	}
	in, fromMail := inboundOf(ctx)
	if t.Channel == "email" && !fromMail {
		return nil // an email ticket typed in by hand, not a mail taken in
	}
	if fromMail && in.quiet != "" {
		return nil
	}
	dedupe := fmt.Sprintf("ticket_ack:%d", t.ID)
	q := a.db.Q(ctx)
	var seen int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE dedupe_key = $1`, dedupe).Scan(&seen); err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	if seen > 0 {
		return nil // acknowledged already: once per ticket
	}
	on, _, err := AckSettingsOf(ctx, a.settings)
	if err != nil {
		return fmt.Errorf("acknowledge: %w", err)
	}
	if !on.Enabled {
		return nil
	}
	var name, address, tier string
	var category, createdBy sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT c.name, c.email, c.tier, t.category_id, t.created_by FROM tickets t
		JOIN customers c ON c.id = t.customer_id WHERE t.id = $1`, t.ID).Scan(&name, &address, &tier, &category, &createdBy); err != nil {
		return fmt.Errorf("acknowledge: customer: %w", err)
	}
	if createdBy.Valid {
		return nil // recorded by a staff member, who is talking to the customer
	}
	if fromMail {
		address = in.from // the one who wrote, also when it is a contact's address
	}
	if strings.TrimSpace(address) == "" {
		return nil
	}
	mailboxID := in.mailboxID
	mb, err := a.mailboxes.ForSending(ctx, mailboxID)
	if errors.Is(err, ErrNoMailbox) && mailboxID != 0 {
		mailboxID = 0 // the mailbox written to was switched off: the default one answers
		mb, err = a.mailboxes.ForSending(ctx, 0)
	}
	if errors.Is(err, ErrNoMailbox) {
		return nil // nothing can send it
	}
	if err != nil {
		return fmt.Errorf("acknowledge: mailbox: %w", err)
	}
	lang, err := a.language(ctx, t.CustomerID)
	if err != nil {
		return err
	}
	facts := sla.TicketFacts{Type: t.Type, Severity: t.Severity, Channel: t.Channel, Tier: tier, CategoryID: category.Int64}
	if t.TeamID != nil {
		facts.TeamID = *t.TeamID
	}
	promised := a.cat.T(lang, "email.ack.no_promise", nil)
	if a.promise != nil {
		p, ok, err := a.promise(ctx, facts, t.CreatedAt)
		if errors.Is(err, domain.ErrNotFound) {
			// The policy's calendar is gone: acknowledge without a time
			// rather than refuse the customer's request.
			ok, err = false, nil
		}
		if err != nil {
			return fmt.Errorf("acknowledge: promise: %w", err)
		}
		if ok {
			promised = a.cat.T(lang, "email.ack.promise", map[string]any{"Promise": p.Text(a.cat, lang)})
		}
	}
	params := map[string]any{"Name": name, "Number": t.Number, "Subject": t.Subject}
	text := a.cat.T(lang, "email.ack.greeting", params) + "\n\n" + a.cat.T(lang, "email.ack.received", params) + "\n" +
		promised + "\n\n" + a.cat.T(lang, "email.reply.footer", params)
	if a.portalBase != "" {
		text += "\n" + a.cat.T(lang, "email.reply.portal", map[string]any{"URL": fmt.Sprintf("%s/portal/tickets/%d", a.portalBase, t.ID)})
	}
	text += "\n\n" + a.cat.T(lang, "email.ack.automatic", nil)
	id := NewMessageID("t"+t.Number, mb.Address)
	subject := fmt.Sprintf("[#%s] %s", t.Number, t.Subject)
	var refs []string
	if fromMail && in.messageID != "" {
		// An answer to the customer's mail, so their client shows it in
		// that conversation.
		subject = "Re: " + subject
		refs = append(refs, in.references...)
		if len(refs) > 19 {
			refs = refs[len(refs)-19:]
		}
		refs = append(refs, in.messageID)
	} else {
		subject = a.cat.T(lang, "email.ack.subject", params)
	}
	data, _ := json.Marshal(Data{MailboxID: mailboxID, MessageID: id, InReplyTo: in.messageID, References: refs, ToName: name, Auto: true})
	oid, err := a.outbox.Enqueue(ctx, notify.Message{Channel: notify.ChannelEmail, Kind: "ticket.acknowledgement", CustomerID: t.CustomerID,
		Recipient: address, Subject: subject, Body: text, Data: data, Transactional: true, Entity: "ticket", EntityID: fmt.Sprint(t.ID),
		DedupeKey: dedupe})
	if err != nil {
		return err
	}
	// The acknowledgement is part of the ticket's thread: the customer's
	// answer to it finds the ticket by its In-Reply-To.
	_, err = q.ExecContext(ctx, `INSERT INTO email_threads (message_id, ticket_id, customer_id, direction, outbox_id, created_at)
		VALUES ($1, $2, $3, 'out', $4, $5) ON CONFLICT (message_id) DO NOTHING`, id, t.ID, t.CustomerID, oid, db.Now(a.clock.Now()))
	return err
}

// language is the customer's: the language they chose on the portal (the
// only language a customer record keeps), else the default.
func (a *Acknowledger) language(ctx context.Context, customerID int64) (string, error) {
	var locale string
	err := a.db.Q(ctx).QueryRowContext(ctx, `SELECT locale FROM portal_accounts WHERE customer_id = $1 AND locale <> ''
		ORDER BY id DESC LIMIT 1`, customerID).Scan(&locale)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("acknowledge: language: %w", err)
	}
	if l := i18n.Normalize(locale); l != "" {
		return l, nil
	}
	return i18n.Default, nil
}
