package tickets

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Message is a reply the customer sees or a message from them.
type Message struct {
	ID           int64     `json:"id"`
	TicketID     int64     `json:"ticket_id"`
	FromCustomer bool      `json:"from_customer"`
	AuthorID     *int64    `json:"author_id"`
	AuthorName   string    `json:"author_name"`
	Body         string    `json:"body"`
	Channel      string    `json:"channel"`
	TimeSpent    int       `json:"time_spent_minutes"`
	CreatedAt    time.Time `json:"created_at"`
	// Attachments are the files of the message (attachments.go).
	Attachments []attachments.Attachment `json:"attachments"`
}

// Note is an internal note: staff only, never sent, never shown to the
// customer.
type Note struct {
	ID         int64     `json:"id"`
	TicketID   int64     `json:"ticket_id"`
	AuthorID   *int64    `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	TimeSpent  int       `json:"time_spent_minutes"`
	Mentions   []int64   `json:"mentions"`
	CreatedAt  time.Time `json:"created_at"`
	// Attachments are the note's files: staff only, like the note.
	Attachments []attachments.Attachment `json:"attachments"`
}

// Post is what an agent writes on a ticket.
type Post struct {
	Body     string `json:"body"`
	Internal bool   `json:"internal"`
	// TimeSpent in minutes, summed per ticket.
	TimeSpent int `json:"time_spent_minutes"`
	// SeenMessageID is the newest message the writer had on screen; a
	// reply is refused when another reply came after it (two agents
	// answering the same customer message at once).
	SeenMessageID *int64 `json:"seen_message_id"`
	// Mentions are colleagues named in a note (by user id); @name in the
	// body is resolved by the page before it posts.
	Mentions []int64 `json:"mentions"`
}

// DoubleReplyError says a colleague replied after the message the writer
// answered; First is that reply, to show.
type DoubleReplyError struct {
	First Message
}

func (e *DoubleReplyError) Error() string { return "a colleague has replied meanwhile" }

// Unwrap makes it a conflict.
func (e *DoubleReplyError) Unwrap() error {
	return domain.Conflict("tickets.error.double_reply", map[string]any{"Name": e.First.AuthorName},
		map[string]any{"message_id": e.First.ID, "author_name": e.First.AuthorName, "body": e.First.Body})
}

var mentionRE = regexp.MustCompile(`@\S+`)

// AddPost adds an agent's reply or internal note. A reply on a closed
// ticket is refused (reopen it first); a reply on a new or acknowledged
// ticket is the first response and moves it to in progress.
func (s *Store) AddPost(ctx context.Context, p *identity.Principal, ticketID int64, in Post) (Message, Note, error) {
	in.Body = strings.TrimSpace(in.Body)
	var v domain.ValidationError
	if in.Body == "" {
		v.Add("body", "validation.required", nil)
	}
	checkLen(&v, "body", in.Body, MaxMessageBody)
	if in.TimeSpent < 0 || in.TimeSpent > 24*60 {
		v.Add("time_spent_minutes", "validation.range", map[string]any{"Min": 0, "Max": 24 * 60})
	}
	if len(in.Mentions) > 20 {
		v.Add("mentions", "validation.too_many", map[string]any{"Max": 20})
	}
	if err := v.Err(); err != nil {
		return Message{}, Note{}, err
	}
	var msg Message
	var note Note
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, ticketID)
		if err != nil {
			return err
		}
		if in.Internal {
			note, err = s.addNote(ctx, p, t, in)
			return err
		}
		msg, err = s.addReply(ctx, p, t, in)
		return err
	})
	if err != nil {
		return Message{}, Note{}, fmt.Errorf("ticket post: %w", err)
	}
	return msg, note, nil
}

func (s *Store) addReply(ctx context.Context, p *identity.Principal, t Ticket, in Post) (Message, error) {
	q := s.db.Q(ctx)
	if t.State == StateClosed || t.State == StateNoAction {
		return Message{}, domain.Conflict("tickets.error.reply_closed", map[string]any{"Number": t.Number},
			map[string]any{"state": t.State})
	}
	if in.SeenMessageID != nil && *in.SeenMessageID < t.LastMessageID {
		var first Message
		err := q.QueryRowContext(ctx, `SELECT m.id, m.body, COALESCE(u.name, '') FROM ticket_messages m LEFT JOIN users u ON u.id = m.author_id
			WHERE m.ticket_id = $1 AND m.id > $2 AND NOT m.from_customer ORDER BY m.id LIMIT 1`, t.ID, *in.SeenMessageID).
			Scan(&first.ID, &first.Body, &first.AuthorName)
		if err == nil {
			return Message{}, &DoubleReplyError{First: first}
		}
		if err != sql.ErrNoRows {
			return Message{}, err
		}
	}
	now := db.Now(s.clock.Now())
	m := Message{TicketID: t.ID, AuthorID: &p.UserID, AuthorName: p.Name, Body: in.Body, Channel: t.Channel, TimeSpent: in.TimeSpent, CreatedAt: now}
	if err := q.QueryRowContext(ctx, `INSERT INTO ticket_messages (ticket_id, from_customer, author_id, body, channel, time_spent, created_at)
		VALUES ($1, FALSE, $2, $3, $4, $5, $6) RETURNING id`, t.ID, p.UserID, in.Body, t.Channel, in.TimeSpent, now).Scan(&m.ID); err != nil {
		return Message{}, err
	}
	first := t.FirstResponseAt == nil
	if _, err := q.ExecContext(ctx, `UPDATE tickets SET last_message_id = $1, time_spent = time_spent + $2,
		first_response_at = COALESCE(first_response_at, $3), version = version + 1, updated_at = $3 WHERE id = $4`,
		m.ID, in.TimeSpent, now, t.ID); err != nil {
		return Message{}, err
	}
	if err := s.reindex(ctx, t.ID); err != nil {
		return Message{}, err
	}
	if err := s.audit.Record(ctx, "ticket.reply", "ticket", fmt.Sprint(t.ID), map[string]audit.Change{
		"message_id": {After: m.ID}, "time_spent": {After: in.TimeSpent}}); err != nil {
		return Message{}, err
	}
	if err := s.emit(ctx, t, EventReplied, map[string]any{"message_id": m.ID, "first_response": first, "time_spent": in.TimeSpent}); err != nil {
		return Message{}, err
	}
	if t.State == StateNew || t.State == StateAcknowledged {
		t.Version++
		if err := s.move(ctx, t, StateInProgress, "", "", "first_response"); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

func (s *Store) addNote(ctx context.Context, p *identity.Principal, t Ticket, in Post) (Note, error) {
	q := s.db.Q(ctx)
	now := db.Now(s.clock.Now())
	n := Note{TicketID: t.ID, AuthorID: &p.UserID, AuthorName: p.Name, Body: in.Body, TimeSpent: in.TimeSpent, CreatedAt: now, Mentions: []int64{}}
	if err := q.QueryRowContext(ctx, `INSERT INTO ticket_notes (ticket_id, author_id, body, time_spent, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, t.ID, p.UserID, in.Body, in.TimeSpent, now).Scan(&n.ID); err != nil {
		return Note{}, err
	}
	for _, uid := range in.Mentions {
		if uid == p.UserID || contains(n.Mentions, uid) {
			continue
		}
		var active bool
		if err := q.QueryRowContext(ctx, `SELECT active FROM users WHERE id = $1`, uid).Scan(&active); err != nil || !active {
			return Note{}, domain.Invalid("mentions", "validation.unknown_user", nil)
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO ticket_mentions (ticket_id, user_id, note_id, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5)`, t.ID, uid, n.ID, p.UserID, now); err != nil {
			return Note{}, err
		}
		n.Mentions = append(n.Mentions, uid)
	}
	if _, err := q.ExecContext(ctx, `UPDATE tickets SET time_spent = time_spent + $1, updated_at = $2 WHERE id = $3`,
		in.TimeSpent, now, t.ID); err != nil {
		return Note{}, err
	}
	if err := s.reindex(ctx, t.ID); err != nil {
		return Note{}, err
	}
	if err := s.audit.Record(ctx, "ticket.note", "ticket", fmt.Sprint(t.ID), map[string]audit.Change{
		"note_id": {After: n.ID}, "time_spent": {After: in.TimeSpent}}); err != nil {
		return Note{}, err
	}
	if err := s.emit(ctx, t, EventNoteAdded, map[string]any{"note_id": n.ID, "time_spent": in.TimeSpent}); err != nil {
		return Note{}, err
	}
	for _, uid := range n.Mentions {
		if err := s.emit(ctx, t, EventMentioned, map[string]any{"user_id": uid, "note_id": n.ID}); err != nil {
			return Note{}, err
		}
	}
	return n, nil
}

// AddCustomerMessage records what the customer wrote (from the portal,
// email, a call logged by an agent). A message on a resolved or closed
// ticket reopens it: the customer says it is not fixed.
func (s *Store) AddCustomerMessage(ctx context.Context, p *identity.Principal, ticketID int64, body, channel string) (Message, error) {
	body = strings.TrimSpace(body)
	var v domain.ValidationError
	if body == "" {
		v.Add("body", "validation.required", nil)
	}
	checkLen(&v, "body", body, MaxMessageBody)
	if err := v.Err(); err != nil {
		return Message{}, err
	}
	var m Message
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, ticketID)
		if err != nil {
			return err
		}
		if channel == "" {
			channel = t.Channel
		}
		now := db.Now(s.clock.Now())
		m = Message{TicketID: t.ID, FromCustomer: true, Body: body, Channel: channel, CreatedAt: now, AuthorName: t.CustomerName}
		q := s.db.Q(ctx)
		if err := q.QueryRowContext(ctx, `INSERT INTO ticket_messages (ticket_id, from_customer, body, channel, created_at)
			VALUES ($1, TRUE, $2, $3, $4) RETURNING id`, t.ID, body, channel, now).Scan(&m.ID); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `UPDATE tickets SET last_message_id = $1, version = version + 1, updated_at = $2 WHERE id = $3`,
			m.ID, now, t.ID); err != nil {
			return err
		}
		if err := s.reindex(ctx, t.ID); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "ticket.customer_message", "ticket", fmt.Sprint(t.ID), map[string]audit.Change{
			"message_id": {After: m.ID}, "channel": {After: channel}}); err != nil {
			return err
		}
		if err := s.emit(ctx, t, EventCustomerMessage, map[string]any{"message_id": m.ID, "channel": channel}); err != nil {
			return err
		}
		switch t.State {
		case StateResolved, StateClosed, StateNoAction:
			t.Version++
			return s.move(ctx, t, StateInProgress, "", "", "customer_message")
		case StateWaitingCustomer:
			t.Version++
			return s.move(ctx, t, StateInProgress, "", "", "customer_message")
		}
		return nil
	})
	if err != nil {
		return Message{}, fmt.Errorf("customer message: %w", err)
	}
	return m, nil
}

// Messages returns what the customer sees of a ticket, oldest first: the
// one read a customer-facing path may use.
func (s *Store) Messages(ctx context.Context, p *identity.Principal, ticketID int64) ([]Message, error) {
	if err := s.Visible(ctx, p, ticketID); err != nil {
		return nil, err
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT m.id, m.ticket_id, m.from_customer, m.author_id, COALESCE(u.name, ''), m.body,
		m.channel, m.time_spent, m.created_at FROM ticket_messages m LEFT JOIN users u ON u.id = m.author_id
		WHERE m.ticket_id = $1 ORDER BY m.id`, ticketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var m Message
		var author sql.NullInt64
		if err := rows.Scan(&m.ID, &m.TicketID, &m.FromCustomer, &author, &m.AuthorName, &m.Body, &m.Channel, &m.TimeSpent, &m.CreatedAt); err != nil {
			return nil, err
		}
		m.AuthorID = ptr(author)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.messageFiles(ctx, out)
}

// Notes returns a ticket's internal notes, oldest first (staff only: a
// portal caller is told the ticket is not found).
func (s *Store) Notes(ctx context.Context, p *identity.Principal, ticketID int64) ([]Note, error) {
	if p.IsPortal() {
		return nil, fmt.Errorf("ticket %d notes: %w", ticketID, domain.ErrNotFound)
	}
	if err := s.Visible(ctx, p, ticketID); err != nil {
		return nil, err
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT n.id, n.ticket_id, n.author_id, COALESCE(u.name, ''), n.body, n.time_spent, n.created_at,
		COALESCE((SELECT `+s.groupIDs("m.user_id")+` FROM ticket_mentions m WHERE m.note_id = n.id), '')
		FROM ticket_notes n LEFT JOIN users u ON u.id = n.author_id WHERE n.ticket_id = $1 ORDER BY n.id`, ticketID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Note{}
	for rows.Next() {
		var n Note
		var author sql.NullInt64
		var mentions string
		if err := rows.Scan(&n.ID, &n.TicketID, &author, &n.AuthorName, &n.Body, &n.TimeSpent, &n.CreatedAt, &mentions); err != nil {
			return nil, err
		}
		n.AuthorID = ptr(author)
		n.Mentions = parseIDs(mentions)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, s.noteFiles(ctx, out)
}

// groupIDs aggregates ids into "1,2,3" on either database.
func (s *Store) groupIDs(col string) string {
	if s.db.Dialect == db.Postgres {
		return "string_agg(" + col + "::text, ',')"
	}
	return "group_concat(" + col + ", ',')"
}

func parseIDs(s string) []int64 {
	out := []int64{}
	for _, part := range strings.Split(s, ",") {
		var id int64
		if _, err := fmt.Sscan(part, &id); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// MentionNames finds @name mentions in a body and returns the ids of the
// active staff whose names they are.
func (s *Store) MentionNames(ctx context.Context, body string) ([]int64, error) {
	var out []int64
	for _, m := range mentionRE.FindAllString(body, 20) {
		name := strings.TrimRight(strings.TrimPrefix(m, "@"), "，。,.;；:：!！?？")
		var id int64
		err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT id FROM users WHERE active AND name = $1 ORDER BY id LIMIT 1`, name).Scan(&id)
		if err == nil && !contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}
