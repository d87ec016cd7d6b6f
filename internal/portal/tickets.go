package portal

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/tickets"
)

// What a customer sees of their tickets: the public part only. Every query
// here names the principal's customer; writes go through the ticket store,
// whose scope for a portal principal is the same customer.

// Channel is the channel of what a customer writes on the portal or the web
// form (tickets.Channels' "web form / portal").
const Channel = "web"

// TicketSummary is a line of the customer's list of tickets.
type TicketSummary struct {
	ID        int64     `json:"id"`
	Number    string    `json:"number"`
	Subject   string    `json:"subject"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TicketPage is a page of the customer's tickets, newest change first.
type TicketPage struct {
	Items      []TicketSummary `json:"items"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// Product names the product a ticket is about.
type Product struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Model  string `json:"model"`
	Serial string `json:"serial"`
}

// Ticket is a customer's ticket without anything staff-only (owner, team,
// tags, time spent, complaint analysis, custom fields, notes).
type Ticket struct {
	ID          int64      `json:"id"`
	Number      string     `json:"number"`
	Subject     string     `json:"subject"`
	Description string     `json:"description"`
	Type        string     `json:"type"`
	Channel     string     `json:"channel"`
	State       string     `json:"state"`
	Product     *Product   `json:"product"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	ResolvedAt  *time.Time `json:"resolved_at"`
	ClosedAt    *time.Time `json:"closed_at"`
	// MovedFrom is the ticket asked for when it was merged into this one.
	MovedFrom int64 `json:"-"`
}

// CanConfirm tells whether the customer may confirm the resolution.
func (t Ticket) CanConfirm() bool { return t.State == tickets.StateResolved }

// CanReopen tells whether the customer may say it is not fixed.
func (t Ticket) CanReopen() bool {
	return t.State == tickets.StateResolved || t.State == tickets.StateClosed
}

// CanReply tells whether the ticket takes a message (a closed one is
// reopened by "not fixed" instead).
func (t Ticket) CanReply() bool {
	return t.State != tickets.StateClosed && t.State != tickets.StateNoAction
}

// File is a file of a message as the customer sees it.
type File struct {
	ID          int64     `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
	Image       bool      `json:"-"`
}

// Message is a message of the public thread: a reply from staff or the
// customer's own.
type Message struct {
	ID           int64     `json:"id"`
	FromCustomer bool      `json:"from_customer"`
	AuthorName   string    `json:"author_name"`
	Body         string    `json:"body"`
	CreatedAt    time.Time `json:"created_at"`
	Files        []File    `json:"attachments"`
}

// need refuses anyone but a portal caller: these reads are the customer's.
func need(p *identity.Principal) error {
	if !p.IsPortal() {
		return fmt.Errorf("portal: %w", domain.ErrForbidden)
	}
	return nil
}

func encodeCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 36) + "." + strconv.FormatInt(id, 36)))
}

func decodeCursor(s string) (time.Time, int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, err
	}
	a, b, ok := strings.Cut(string(raw), ".")
	us, err1 := strconv.ParseInt(a, 36, 64)
	id, err2 := strconv.ParseInt(b, 36, 64)
	if !ok || err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, errors.New("cursor")
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// ListFilter selects a page of the customer's tickets.
type ListFilter struct {
	State  string // one of tickets.States, or "" for all
	Open   bool   // only those still being worked on
	Cursor string
	Limit  int // 1–100, default 20
}

// Tickets lists the customer's tickets, the latest change first.
func (s *Store) Tickets(ctx context.Context, p *identity.Principal, f ListFilter) (TicketPage, error) {
	if err := need(p); err != nil {
		return TicketPage{}, err
	}
	var v domain.ValidationError
	if f.State != "" && !slices.Contains(tickets.States, f.State) {
		v.Add("state", "validation.one_of", map[string]any{"Values": strings.Join(tickets.States, ", ")})
	}
	if f.Limit == 0 {
		f.Limit = 20
	}
	if f.Limit < 1 || f.Limit > 100 {
		v.Add("limit", "validation.range", map[string]any{"Min": 1, "Max": 100})
	}
	var at time.Time
	var after int64
	if f.Cursor != "" {
		var err error
		if at, after, err = decodeCursor(f.Cursor); err != nil {
			v.Add("cursor", "validation.cursor", nil)
		}
	}
	if err := v.Err(); err != nil {
		return TicketPage{}, err
	}
	conds := []string{"t.customer_id = $1", "t.merged_into IS NULL"}
	args := []any{p.CustomerID}
	if f.State != "" {
		args = append(args, f.State)
		conds = append(conds, "t.state = $"+strconv.Itoa(len(args)))
	}
	if f.Open {
		conds = append(conds, "t.is_open")
	}
	if after != 0 {
		args = append(args, at, after)
		n := len(args)
		conds = append(conds, fmt.Sprintf("(t.updated_at < $%d OR (t.updated_at = $%d AND t.id < $%d))", n-1, n-1, n))
	}
	args = append(args, f.Limit+1)
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT t.id, t.number, t.subject, t.state, t.created_at, t.updated_at FROM tickets t
		WHERE `+strings.Join(conds, " AND ")+` ORDER BY t.updated_at DESC, t.id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return TicketPage{}, fmt.Errorf("portal tickets: %w", err)
	}
	defer rows.Close()
	page := TicketPage{Items: []TicketSummary{}}
	for rows.Next() {
		var t TicketSummary
		if err := rows.Scan(&t.ID, &t.Number, &t.Subject, &t.State, &t.CreatedAt, &t.UpdatedAt); err != nil {
			return TicketPage{}, err
		}
		t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
		page.Items = append(page.Items, t)
	}
	if err := rows.Err(); err != nil {
		return TicketPage{}, err
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[f.Limit-1]
		page.NextCursor = encodeCursor(last.UpdatedAt, last.ID)
	}
	return page, nil
}

// Ticket returns one of the customer's tickets; another customer's, or no
// ticket, is not found. A ticket merged into another of theirs returns the
// other, with MovedFrom set.
func (s *Store) Ticket(ctx context.Context, p *identity.Principal, id int64) (Ticket, error) {
	if err := need(p); err != nil {
		return Ticket{}, err
	}
	t, merged, err := s.ticket(ctx, p, id)
	if err == nil && merged != 0 {
		var moved Ticket
		if moved, _, err = s.ticket(ctx, p, merged); err == nil {
			moved.MovedFrom = id
			return moved, nil
		}
	}
	return t, err
}

func (s *Store) ticket(ctx context.Context, p *identity.Principal, id int64) (Ticket, int64, error) {
	var t Ticket
	var merged, productID sql.NullInt64
	var product, model, serial sql.NullString
	var resolved, closed sql.NullTime
	err := s.db.HotRow(ctx, `SELECT t.id, t.number, t.subject, t.description, t.type, t.channel, t.state, t.created_at, t.updated_at,
		t.resolved_at, t.closed_at, t.merged_into, cp.id, pr.name, pr.model, cp.serial
		FROM tickets t LEFT JOIN customer_products cp ON cp.id = t.owned_product_id AND cp.customer_id = t.customer_id
		LEFT JOIN products pr ON pr.id = cp.product_id
		WHERE t.id = $1 AND t.customer_id = $2`, id, p.CustomerID).Scan(&t.ID, &t.Number, &t.Subject, &t.Description, &t.Type, &t.Channel,
		&t.State, &t.CreatedAt, &t.UpdatedAt, &resolved, &closed, &merged, &productID, &product, &model, &serial)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, 0, fmt.Errorf("ticket %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return Ticket{}, 0, fmt.Errorf("portal ticket: %w", err)
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	if resolved.Valid {
		r := resolved.Time.UTC()
		t.ResolvedAt = &r
	}
	if closed.Valid {
		c := closed.Time.UTC()
		t.ClosedAt = &c
	}
	if productID.Valid {
		t.Product = &Product{ID: productID.Int64, Name: product.String, Model: model.String, Serial: serial.String}
	}
	return t, merged.Int64, nil
}

// Messages returns the public thread of one of the customer's tickets,
// oldest first: replies and their own messages (ticket_messages only).
func (s *Store) Messages(ctx context.Context, p *identity.Principal, ticketID int64) ([]Message, error) {
	if err := need(p); err != nil {
		return nil, err
	}
	list, err := s.tickets.Messages(ctx, p, ticketID)
	if err != nil {
		return nil, err
	}
	out := make([]Message, len(list))
	for i, m := range list {
		out[i] = Message{ID: m.ID, FromCustomer: m.FromCustomer, AuthorName: m.AuthorName, Body: m.Body, CreatedAt: m.CreatedAt.UTC(),
			Files: files(m.Attachments)}
		if m.FromCustomer {
			out[i].AuthorName = ""
		}
	}
	return out, nil
}

func files(list []attachments.Attachment) []File {
	out := make([]File, len(list))
	for i, a := range list {
		out[i] = File{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, CreatedAt: a.CreatedAt.UTC(), Image: a.Previewable()}
	}
	return out
}

// Reply adds the customer's message (with files staged by the handler) to
// one of their tickets; on a resolved ticket it reopens it, as any message
// from the customer does.
func (s *Store) Reply(ctx context.Context, p *identity.Principal, ticketID int64, body string, staged []attachments.Staged) (Message, error) {
	if err := need(p); err != nil {
		return Message{}, err
	}
	if _, err := s.Ticket(ctx, p, ticketID); err != nil {
		return Message{}, err
	}
	m, err := s.tickets.AddCustomerMessageWithFiles(ctx, p, ticketID, body, Channel, staged)
	if err != nil {
		return Message{}, err
	}
	return Message{ID: m.ID, FromCustomer: true, Body: m.Body, CreatedAt: m.CreatedAt.UTC(), Files: files(m.Attachments)}, nil
}

// Confirm is the customer confirming that a resolved ticket is solved: it
// closes (the closed loop). confirmation is what they said, or the page's
// sentence in their language.
func (s *Store) Confirm(ctx context.Context, p *identity.Principal, ticketID int64, confirmation string) error {
	if err := need(p); err != nil {
		return err
	}
	_, err := s.tickets.ConfirmResolved(ctx, p, ticketID, confirmation)
	return err
}

// Reopen is the customer saying a resolved or closed ticket is not fixed,
// with their reason.
func (s *Store) Reopen(ctx context.Context, p *identity.Principal, ticketID int64, reason string) error {
	if err := need(p); err != nil {
		return err
	}
	_, err := s.tickets.ReopenNotFixed(ctx, p, ticketID, reason, Channel)
	return err
}

// OpenFile returns a file of a message of one of the customer's tickets;
// a note's file, or another ticket's, is not found.
func (s *Store) OpenFile(ctx context.Context, p *identity.Principal, ticketID, fileID int64) (attachments.Attachment, io.ReadSeekCloser, error) {
	if err := need(p); err != nil {
		return attachments.Attachment{}, nil, err
	}
	return s.tickets.OpenReplyAttachment(ctx, p, ticketID, fileID)
}

// NewRequest is a request the customer makes on the portal.
type NewRequest struct {
	Type           string `json:"type"`
	Subject        string `json:"subject"`
	Description    string `json:"description"`
	OwnedProductID int64  `json:"owned_product_id"`
}

// RequestTypes are the kinds of request the portal offers, in its order.
var RequestTypes = []string{"consultation", "fault", "repair", "return", "exchange", "complaint", "suggestion", "other"}

// Submit opens a request for the customer (channel web) with the files
// they sent; filesNote is the body of the message carrying the files.
func (s *Store) Submit(ctx context.Context, p *identity.Principal, in NewRequest, staged []attachments.Staged, filesNote string) (Ticket, error) {
	if err := need(p); err != nil {
		return Ticket{}, err
	}
	var v domain.ValidationError
	if in.Type == "" {
		in.Type = "consultation"
	}
	if !slices.Contains(RequestTypes, in.Type) {
		v.Add("type", "validation.one_of", map[string]any{"Values": strings.Join(RequestTypes, ", ")})
	}
	if strings.TrimSpace(in.Description) == "" {
		v.Add("description", "validation.required", nil)
	}
	if err := v.Err(); err != nil {
		// Report the ticket's own checks (subject…) along with these.
		return Ticket{}, mergeInvalid(err, checkTicketText(in.Subject, in.Description))
	}
	ti := tickets.Input{CustomerID: p.CustomerID, Type: in.Type, Channel: Channel, Subject: in.Subject, Description: in.Description}
	if in.OwnedProductID != 0 {
		id := in.OwnedProductID
		ti.OwnedProductID = &id
	}
	t, err := s.tickets.CreateForCustomer(ctx, p, ti, staged, filesNote)
	if err != nil {
		return Ticket{}, err
	}
	return s.Ticket(ctx, p, t.ID)
}

// checkTicketText repeats the ticket's checks of subject and description,
// so a form shows every problem at once.
func checkTicketText(subject, description string) error {
	var v domain.ValidationError
	subject = strings.TrimSpace(subject)
	if subject == "" {
		v.Add("subject", "validation.required", nil)
	} else if n := len([]rune(subject)); n > tickets.MaxSubject {
		v.Add("subject", "validation.too_long", map[string]any{"Max": tickets.MaxSubject})
	}
	if len([]rune(description)) > tickets.MaxText {
		v.Add("description", "validation.too_long", map[string]any{"Max": tickets.MaxText})
	}
	return v.Err()
}

// mergeInvalid joins the fields of two validation errors.
func mergeInvalid(a, b error) error {
	var va, vb *domain.ValidationError
	if !errors.As(a, &va) {
		return a
	}
	if b == nil || !errors.As(b, &vb) {
		return a
	}
	out := &domain.ValidationError{Fields: append(append([]domain.FieldError{}, va.Fields...), vb.Fields...)}
	return out
}

// Owned is one of the customer's products with its warranty.
type Owned = customers.Owned

// Products returns the customer's products, newest purchase first, with
// their warranty's last day and whether it still covers them today.
func (s *Store) Products(ctx context.Context, p *identity.Principal) ([]Owned, error) {
	if err := need(p); err != nil {
		return nil, err
	}
	return s.customers.ListOwned(ctx, p.CustomerID)
}

// Coverage is what service the customer is entitled to today.
func (s *Store) Coverage(ctx context.Context, p *identity.Principal, owned []Owned) (customers.Coverage, error) {
	if err := need(p); err != nil {
		return customers.Coverage{}, err
	}
	contracts, err := s.customers.ListContracts(ctx, p.CustomerID)
	if err != nil {
		return customers.Coverage{}, err
	}
	return customers.CoverageOf(owned, contracts), nil
}
