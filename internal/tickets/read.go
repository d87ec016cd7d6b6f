package tickets

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// ticketCols reads a ticket row t with its customer c, owner u and team g.
const ticketCols = `t.id, t.number, t.customer_id, c.name, c.number, c.tier, t.owned_product_id, t.category_id, t.type, t.channel,
	t.severity, t.state, t.subject, t.description, t.expectation, t.complaint, t.major_complaint, t.tags, t.custom,
	t.owner_id, COALESCE(u.name, ''), t.team_id, COALESCE(g.name, ''), t.created_by, t.merged_into, t.reopen_count, t.time_spent,
	t.first_response_at, t.resolved_at, t.closed_at, t.confirmation, t.last_message_id, t.version, t.created_at, t.updated_at,
	t.sla_due_at, t.sla_due_target`

const ticketFrom = ` FROM tickets t JOIN customers c ON c.id = t.customer_id
	LEFT JOIN users u ON u.id = t.owner_id LEFT JOIN teams g ON g.id = t.team_id`

func scanTicket(sc interface{ Scan(...any) error }) (Ticket, error) {
	var t Ticket
	var product, category, owner, team, createdBy, merged sql.NullInt64
	var complaint sql.NullString
	var tags, custom string
	var first, resolved, closed, due sql.NullTime
	err := sc.Scan(&t.ID, &t.Number, &t.CustomerID, &t.CustomerName, &t.CustomerNumber, &t.CustomerTier, &product, &category,
		&t.Type, &t.Channel, &t.Severity, &t.State, &t.Subject, &t.Description, &t.Expectation, &complaint, &t.MajorComplaint,
		&tags, &custom, &owner, &t.OwnerName, &team, &t.TeamName, &createdBy, &merged, &t.ReopenCount, &t.TimeSpent,
		&first, &resolved, &closed, &t.Confirmation, &t.LastMessageID, &t.Version, &t.CreatedAt, &t.UpdatedAt,
		&due, &t.SLADueTarget)
	if err != nil {
		return t, err
	}
	t.OwnedProductID, t.CategoryID, t.OwnerID = ptr(product), ptr(category), ptr(owner)
	t.TeamID, t.CreatedBy, t.MergedInto = ptr(team), ptr(createdBy), ptr(merged)
	t.FirstResponseAt, t.ResolvedAt, t.ClosedAt = tptr(first), tptr(resolved), tptr(closed)
	t.SLADueAt = tptr(due)
	if complaint.Valid {
		t.Complaint = &Complaint{}
		_ = json.Unmarshal([]byte(complaint.String), t.Complaint)
	}
	t.Tags, t.Custom = []string{}, map[string]any{}
	_ = json.Unmarshal([]byte(tags), &t.Tags)
	_ = json.Unmarshal([]byte(custom), &t.Custom)
	return t, nil
}

func ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func tptr(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	v := n.Time
	return &v
}

// Get returns a ticket p may see.
func (s *Store) Get(ctx context.Context, p *identity.Principal, id int64) (Ticket, error) {
	cond, args := scopeSQL(p, 2)
	t, err := scanTicket(s.db.HotRow(ctx, `SELECT `+ticketCols+ticketFrom+` WHERE t.id = $1 AND `+cond,
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("ticket %d: %w", id, domain.ErrNotFound)
	}
	return t, err
}

// GetByNumber returns the ticket of a number p may see, following merges:
// the number of a ticket merged into another finds the other.
func (s *Store) GetByNumber(ctx context.Context, p *identity.Principal, number string) (Ticket, error) {
	var id int64
	var merged sql.NullInt64
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT id, merged_into FROM tickets WHERE number = $1`, number).Scan(&id, &merged)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("ticket %s: %w", number, domain.ErrNotFound)
	}
	if err != nil {
		return Ticket{}, err
	}
	if merged.Valid {
		id = merged.Int64
	}
	return s.Get(ctx, p, id)
}

// lockForUpdate reads the ticket inside the transaction of ctx, taking its
// row lock on PostgreSQL so that a check and the write after it see the
// same row (SQLite has one writer).
func (s *Store) lockForUpdate(ctx context.Context, p *identity.Principal, id int64) (Ticket, error) {
	if err := s.Visible(ctx, p, id); err != nil {
		return Ticket{}, err
	}
	return s.lockAndRead(ctx, id)
}

// lockAndRead reads ticket id inside the transaction of ctx, its row locked
// on PostgreSQL, whoever asks (the callers check who may).
func (s *Store) lockAndRead(ctx context.Context, id int64) (Ticket, error) {
	if s.db.Dialect == db.Postgres {
		// The lock first, the row after, in two statements: a statement
		// that waited for the lock re-reads the locked row but keeps the
		// joined rows it read before (the owner's name of an unowned
		// ticket stayed empty after a colleague took it).
		var one int
		err := s.db.Q(ctx).QueryRowContext(ctx, `SELECT 1 FROM tickets WHERE id = $1 FOR UPDATE`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return Ticket{}, fmt.Errorf("ticket %d: %w", id, domain.ErrNotFound)
		} else if err != nil {
			return Ticket{}, err
		}
	}
	t, err := scanTicket(s.db.Q(ctx).QueryRowContext(ctx, `SELECT `+ticketCols+ticketFrom+` WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("ticket %d: %w", id, domain.ErrNotFound)
	}
	return t, err
}
