package tickets

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/db"
)

// BreachingWindow is how far ahead the breaching queue looks: a ticket
// whose next due target falls within it is about to breach.
const BreachingWindow = 60 * time.Minute

// dueQueue tells whether a queue is one of the SLA views.
func dueQueue(queue string) bool { return queue == "breaching" || queue == "breached" }

// dueQueueConds are the conditions of the SLA views at the store's clock:
// breaching, due after now and within BreachingWindow; breached, due at or
// before now (sla.Timer.IsBreachedAt: a timer due now has breached). Both
// are ranges of the partial index tickets_sla_due (sla_due_at, id) WHERE
// is_open = TRUE AND sla_due_at IS NOT NULL, whose condition is repeated
// word for word so that SQLite's planner sees that the index applies.
func (s *Store) dueQueueConds(queue string, a *args) []string {
	now := db.Now(s.clock.Now())
	conds := []string{"t.is_open = TRUE", "t.sla_due_at IS NOT NULL"}
	if queue == "breaching" {
		return append(conds, "t.sla_due_at > "+a.add(now), "t.sla_due_at <= "+a.add(now.Add(BreachingWindow)))
	}
	return append(conds, "t.sla_due_at <= "+a.add(now))
}

// listDue is a list in the order of the next SLA due time: first the open
// tickets that have one, soonest first (the most overdue at the top, as
// Zendesk orders a view by its next breach), walking tickets_sla_due; then
// the rest (closed, or no timer running) newest activity first, walking the
// queue's own updated_at index. Two statements rather than one ORDER BY
// with NULLS LAST, so that each part keeps an index in its order.
//
// The cursor's key says which part it is in: a due time in unix
// microseconds (≥ 0), or minus the updated_at of a ticket of the rest.
func (s *Store) listDue(ctx context.Context, f Filter, conds []string, a *args, key, id int64) (Page, error) {
	page := Page{Items: []Ticket{}, Sort: "due"}
	inDue := f.Cursor == "" || key >= 0
	nDue := 0
	if inDue {
		da := args{slices.Clone(a.list)}
		dc := slices.Clone(conds)
		if !dueQueue(f.Queue) {
			dc = append(dc, "t.is_open = TRUE", "t.sla_due_at IS NOT NULL")
		}
		if f.Cursor != "" {
			dc = append(dc, "(t.sla_due_at, t.id) > ("+da.add(time.UnixMicro(key).UTC())+", "+da.add(id)+")")
		}
		from := ticketFrom
		if hint := s.dueIndex(f); hint != "" {
			from = strings.Replace(ticketFrom, "FROM tickets t ", "FROM tickets t INDEXED BY "+hint+" ", 1)
		}
		walk, err := s.walkDueIndex(ctx, f)
		if err != nil {
			return Page{}, err
		}
		var items []Ticket
		if walk {
			items, err = s.listDueQuery(ctx, from, dc, f.Limit+1, da.list)
		} else {
			items, err = s.listQuery(ctx, from, dc, "t.sla_due_at, t.id", f.Limit+1, da.list)
		}
		if err != nil {
			return Page{}, err
		}
		page.Items, nDue = items, len(items)
	}
	if nDue <= f.Limit && !dueQueue(f.Queue) {
		rc := append(slices.Clone(conds), "(t.is_open = FALSE OR t.sla_due_at IS NULL)")
		if !inDue {
			rc = append(rc, "(t.updated_at, t.id) < ("+a.add(time.UnixMicro(-key).UTC())+", "+a.add(id)+")")
		}
		from := ticketFrom
		rf := f
		rf.Sort = "-updated"
		if hint := s.queueIndex(rf); hint != "" {
			from = strings.Replace(ticketFrom, "FROM tickets t ", "FROM tickets t INDEXED BY "+hint+" ", 1)
		}
		items, err := s.listQuery(ctx, from, rc, "t.updated_at DESC, t.id DESC", f.Limit+1-nDue, a.list)
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, items...)
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[f.Limit-1]
		if f.Limit <= nDue {
			page.NextCursor = encodeCursor(last.SLADueAt.UnixMicro(), last.ID)
		} else {
			page.NextCursor = encodeCursor(-last.UpdatedAt.UnixMicro(), last.ID)
		}
	}
	return page, nil
}

// dueIndex names tickets_sla_due for SQLite's planner on the SLA views when
// nothing narrower filters them (it otherwise walked the owner or team index
// of an open queue and sorted). PostgreSQL picks it itself.
func (s *Store) dueIndex(f Filter) string {
	if s.db.Dialect != db.SQLite || f.CustomerID != 0 || f.Q != "" || !dueQueue(f.Queue) {
		return ""
	}
	return "tickets_sla_due"
}

// bigBacklog is the open load from which a person's queue by due time
// walks tickets_sla_due on PostgreSQL: their tickets are then dense enough
// in it that a page is found after a few hundred entries, while reading and
// sorting all their due tickets grows with the backlog (84 ms p50 for 2,000
// at 8 clients). Below it the owner's index and a sort of a few rows is
// cheaper than a walk past everybody else's tickets.
var bigBacklog = 300

// walkDueIndex tells whether the due part of f must walk tickets_sla_due in
// its order on PostgreSQL (listDueQuery): the SLA views always, the mine
// queue (or an owner filter) of someone with a big backlog.
func (s *Store) walkDueIndex(ctx context.Context, f Filter) (bool, error) {
	if s.db.Dialect != db.Postgres || db.InTx(ctx) || f.Q != "" || f.CustomerID != 0 {
		return false, nil
	}
	if dueQueue(f.Queue) {
		return true, nil
	}
	owner := f.OwnerID
	if f.Queue == "mine" {
		owner = f.mentionsOf // the caller
	}
	if owner <= 0 || (f.Queue != "mine" && f.Queue != "all" && f.Queue != "team") {
		return false, nil
	}
	var load int
	err := s.db.HotRow(ctx, `SELECT COALESCE(SUM(open_tickets), 0) FROM staff_open_load WHERE user_id = $1`, owner).Scan(&load)
	return load >= bigBacklog, err
}

// listDueQuery reads a page of the SLA views. PostgreSQL estimates a window
// of due times as a handful of tickets, reads every one of them through a
// bitmap and sorts them (40 ms for a window of 2,000 breaching, the whole
// window read for a page of 30); walking tickets_sla_due in its order stops
// after the page (11 ms). Bitmap scans and sorts are therefore off for this
// one statement, in a read-only transaction of its own (with bitmaps alone
// off, a person's queue took their index and a sort, slower still); inside a
// caller's transaction the statement runs as it is (walkDueIndex).
func (s *Store) listDueQuery(ctx context.Context, from string, conds []string, limit int, args []any) ([]Ticket, error) {
	tx, err := s.db.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("list tickets by due time: %w", err)
	}
	defer tx.Rollback()
	for _, set := range []string{`SET LOCAL enable_bitmapscan = off`, `SET LOCAL enable_sort = off`} {
		if _, err := tx.ExecContext(ctx, set); err != nil {
			return nil, fmt.Errorf("list tickets by due time: %w", err)
		}
	}
	out, err := s.queryTickets(ctx, tx, from, conds, "t.sla_due_at, t.id", limit, args)
	if err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

// traceList, set by the tests (export_test.go), sees each statement of
// listQuery and of the queue counts, to read their plans.
var traceList func(query string, args []any)

// listQuery reads up to limit tickets of a list statement.
func (s *Store) listQuery(ctx context.Context, from string, conds []string, order string, limit int, args []any) ([]Ticket, error) {
	return s.queryTickets(ctx, s.db.RQ(ctx), from, conds, order, limit, args)
}

func (s *Store) queryTickets(ctx context.Context, q db.Querier, from string, conds []string, order string, limit int, args []any) ([]Ticket, error) {
	query := `SELECT ` + ticketCols + from + ` WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY ` + order +
		` LIMIT ` + strconv.Itoa(limit)
	if traceList != nil {
		traceList(query, args)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	out := []Ticket{}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
