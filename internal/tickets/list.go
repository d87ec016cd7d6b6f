package tickets

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
)

// Queues of the agent workspace. breaching and breached are the SLA views
// (list_due.go): open tickets whose next due target falls within
// BreachingWindow, and those past it.
var Queues = []string{"mine", "team", "unassigned", "waiting", "mentions", "major", "breaching", "breached", "all"}

// Sorts a list can take; "-" is newest or highest first. "due" is the next
// SLA due time, soonest (most overdue) first, tickets without one last.
var Sorts = []string{"-updated", "updated", "-created", "created", "-severity", "due"}

// Filter selects tickets. Zero fields do not filter.
type Filter struct {
	Queue      string
	Q          string
	States     []string
	Type       string
	Severity   string
	Channel    string
	CategoryID int64
	OwnerID    int64 // -1: held by a team, nobody yet
	TeamID     int64
	CustomerID int64
	Tier       string
	Sort       string
	Cursor     string
	Limit      int

	mentionsOf int64 // the caller, for the mentions queue
}

// Page is a page of tickets with the cursor of the next.
type Page struct {
	Items      []Ticket `json:"items"`
	NextCursor string   `json:"next_cursor,omitempty"`
	Sort       string   `json:"sort"`
}

var numberRE = regexp.MustCompile(`^[Tt]\d{6,}$`)

// Check validates a filter's values.
func (f *Filter) Check() error {
	var v domain.ValidationError
	oneOf := func(field, val string, values []string) {
		if val != "" && !slices.Contains(values, val) {
			v.Add(field, "validation.one_of", map[string]any{"Values": strings.Join(values, ", ")})
		}
	}
	if f.Queue == "" {
		f.Queue = "all"
	}
	oneOf("queue", f.Queue, Queues)
	for _, s := range f.States {
		oneOf("state", s, States)
	}
	oneOf("type", f.Type, Types)
	oneOf("severity", f.Severity, Severities)
	oneOf("channel", f.Channel, Channels)
	oneOf("tier", f.Tier, CustomerTiers)
	if f.Sort == "" {
		f.Sort = "-updated"
	}
	if dueQueue(f.Queue) {
		f.Sort = "due" // the SLA views have one order, as mentions has
	}
	oneOf("sort", f.Sort, Sorts)
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 200 {
		v.Add("limit", "validation.range", map[string]any{"Min": 1, "Max": 200})
	}
	f.Q = strings.TrimSpace(f.Q)
	checkLen(&v, "q", f.Q, 100)
	if _, _, err := decodeCursor(f.Cursor); err != nil {
		v.Add("cursor", "validation.cursor", nil)
	}
	return v.Err()
}

// cursor positions: the sort value (unix microseconds, or rank*1e17+µs)
// and the id.
func encodeCursor(key, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(key, 36) + "." + strconv.FormatInt(id, 36)))
}

func decodeCursor(s string) (int64, int64, error) {
	if s == "" {
		return 0, 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, 0, err
	}
	k, i, ok := strings.Cut(string(raw), ".")
	if !ok {
		return 0, 0, fmt.Errorf("cursor")
	}
	key, err1 := strconv.ParseInt(k, 36, 64)
	id, err2 := strconv.ParseInt(i, 36, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return 0, 0, fmt.Errorf("cursor")
	}
	return key, id, nil
}

type args struct{ list []any }

func (a *args) add(v any) string {
	a.list = append(a.list, v)
	return "$" + strconv.Itoa(len(a.list))
}

// List returns a page of the tickets p may see that match f. Every queue
// walks one index in its sort order and stops after the page (keyset, no
// count), so its cost does not grow with the table.
func (s *Store) List(ctx context.Context, p *identity.Principal, f Filter) (Page, error) {
	if err := f.Check(); err != nil {
		return Page{}, err
	}
	var a args
	conds := []string{"t.merged_into IS NULL"}
	var me int64
	if p != nil {
		me = p.UserID
	}
	// The mentions queue's own page joins the mentions (listMentions); a
	// search inside it keeps the queue as a condition.
	byMention := f.Queue == "mentions" && f.Q == ""
	if !byMention {
		qc, err := s.queueConds(ctx, f.Queue, &a, me, false)
		if err != nil {
			return Page{}, err
		}
		conds = append(conds, qc...)
	}
	f.mentionsOf = me
	if !queueImpliesScope(f.Queue) {
		scope, sargs := scopeSQL(p, len(a.list)+1)
		a.list = append(a.list, sargs...)
		if scope != "TRUE" {
			conds = append(conds, scope)
		}
	}
	if len(f.States) > 0 {
		var ph []string
		for _, st := range f.States {
			ph = append(ph, a.add(st))
		}
		conds = append(conds, "t.state IN ("+strings.Join(ph, ", ")+")")
	}
	eq := func(col string, v any, zero bool) {
		if !zero {
			conds = append(conds, col+" = "+a.add(v))
		}
	}
	eq("t.type", f.Type, f.Type == "")
	eq("t.severity", f.Severity, f.Severity == "")
	eq("t.channel", f.Channel, f.Channel == "")
	eq("t.team_id", f.TeamID, f.TeamID == 0)
	eq("t.customer_id", f.CustomerID, f.CustomerID == 0)
	eq("c.tier", f.Tier, f.Tier == "")
	if f.CategoryID != 0 {
		conds = append(conds, "(t.category_id = "+a.add(f.CategoryID)+" OR t.category_id IN (SELECT id FROM ticket_categories WHERE parent_id = "+a.add(f.CategoryID)+"))")
	}
	switch {
	case f.OwnerID == -1:
		conds = append(conds, "t.owner_id IS NULL")
	case f.OwnerID > 0:
		eq("t.owner_id", f.OwnerID, false)
	}
	if f.Q != "" {
		if !numberRE.MatchString(f.Q) {
			return s.search(ctx, p, f, conds, &a)
		}
		conds = append(conds, "t.number = "+a.add(strings.ToUpper(f.Q)))
	}
	key, id, _ := decodeCursor(f.Cursor)
	from := ticketFrom
	if byMention {
		return s.listMentions(ctx, f, conds, &a, id)
	}
	if f.Sort == "due" {
		return s.listDue(ctx, f, conds, &a, key, id)
	}
	if hint := s.queueIndex(f); hint != "" {
		from = strings.Replace(ticketFrom, "FROM tickets t ", "FROM tickets t INDEXED BY "+hint+" ", 1)
	}
	var order string
	switch f.Sort {
	case "-updated", "updated", "-created", "created":
		col := "t.updated_at"
		if strings.HasSuffix(f.Sort, "created") {
			col = "t.created_at"
		}
		dir, cmp := "DESC", "<"
		if !strings.HasPrefix(f.Sort, "-") {
			dir, cmp = "ASC", ">"
		}
		if f.Cursor != "" {
			conds = append(conds, "("+col+", t.id) "+cmp+" ("+a.add(time.UnixMicro(key).UTC())+", "+a.add(id)+")")
		}
		order = col + " " + dir + ", t.id " + dir
	case "-severity":
		if f.Cursor != "" {
			rank, at := key/1e17, key%1e17
			conds = append(conds, "(t.severity_rank, t.updated_at, t.id) < ("+a.add(rank)+", "+a.add(time.UnixMicro(at).UTC())+", "+a.add(id)+")")
		}
		order = "t.severity_rank DESC, t.updated_at DESC, t.id DESC"
	}
	query := `SELECT ` + ticketCols + from + ` WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY ` + order +
		` LIMIT ` + strconv.Itoa(f.Limit+1)
	rows, err := s.db.RQ(ctx).QueryContext(ctx, query, a.list...)
	if err != nil {
		return Page{}, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	page := Page{Items: []Ticket{}, Sort: f.Sort}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, t)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		last := page.Items[len(page.Items)-1]
		switch {
		case strings.HasSuffix(f.Sort, "updated"):
			page.NextCursor = encodeCursor(last.UpdatedAt.UnixMicro(), last.ID)
		case strings.HasSuffix(f.Sort, "created"):
			page.NextCursor = encodeCursor(last.CreatedAt.UnixMicro(), last.ID)
		default:
			page.NextCursor = encodeCursor(int64(SeverityRank(last.Severity))*1e17+last.UpdatedAt.UnixMicro(), last.ID)
		}
	}
	return page, nil
}

// queueIndex names, on SQLite, the partial index a queue's first pages
// must walk: its planner never picks a partial index over a full one here
// (the unassigned queue took the owner index and sorted every unassigned
// ticket, the waiting queue the state index and sorted both states). Only
// when nothing narrower (a customer, a search) filters the queue too.
// PostgreSQL picks them itself.
func (s *Store) queueIndex(f Filter) string {
	if s.db.Dialect != db.SQLite || f.CustomerID != 0 || f.Q != "" || !strings.HasSuffix(f.Sort, "updated") {
		return ""
	}
	switch f.Queue {
	case "unassigned":
		return "tickets_unassigned_all"
	case "waiting":
		return "tickets_waiting"
	}
	return ""
}

// listMentions is the mentions queue: the tickets p was mentioned on, the
// newest mention first (what a mentions inbox shows), walking the
// mentions index so that a page costs the same with ten mentions or ten
// thousand. A ticket appears once, by its latest mention of p; the cursor
// is that mention's id. The other filters apply as in List.
func (s *Store) listMentions(ctx context.Context, f Filter, conds []string, a *args, after int64) (Page, error) {
	me := a.add(f.mentionsOf)
	conds = append(conds, "mm.user_id = "+me,
		"mm.id = (SELECT MAX(m2.id) FROM ticket_mentions m2 WHERE m2.ticket_id = mm.ticket_id AND m2.user_id = "+me+")")
	if after > 0 {
		conds = append(conds, "mm.id < "+a.add(after))
	}
	from := strings.Replace(ticketFrom, "FROM tickets t ", "FROM ticket_mentions mm JOIN tickets t ON t.id = mm.ticket_id ", 1)
	query := `SELECT ` + ticketCols + `, mm.id` + from + ` WHERE ` + strings.Join(conds, " AND ") + ` ORDER BY mm.id DESC LIMIT ` + strconv.Itoa(f.Limit+1)
	rows, err := s.db.RQ(ctx).QueryContext(ctx, query, a.list...)
	if err != nil {
		return Page{}, fmt.Errorf("list mentions: %w", err)
	}
	defer rows.Close()
	page := Page{Items: []Ticket{}, Sort: "-mentioned"}
	var ids []int64
	for rows.Next() {
		var mid int64
		t, err := scanTicket(extraScan{rows, []any{&mid}})
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, t)
		ids = append(ids, mid)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(page.Items) > f.Limit {
		page.Items = page.Items[:f.Limit]
		page.NextCursor = encodeCursor(0, ids[f.Limit-1])
	}
	return page, nil
}

// extraScan scans a ticket row followed by more columns.
type extraScan struct {
	rows  interface{ Scan(...any) error }
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.rows.Scan(append(dest, e.extra...)...) }

// QueueCounts counts the open tickets of each of p's queues, each up to
// cap (a count at cap means "cap or more").
func (s *Store) QueueCounts(ctx context.Context, p *identity.Principal, cap int) (map[string]int, error) {
	return s.QueueCountsOf(ctx, p, cap, []string{"mine", "team", "unassigned", "waiting", "mentions", "major"})
}

// QueueCountsOf counts the tickets of the named queues as QueueCounts does
// (the workspace counts only the queues its rail shows: breached for
// supervisors alone). "all" is never counted.
func (s *Store) QueueCountsOf(ctx context.Context, p *identity.Principal, cap int, queues []string) (map[string]int, error) {
	out := map[string]int{}
	for _, q := range queues {
		if q == "all" {
			continue
		}
		f := Filter{Queue: q, Limit: 1}
		if err := f.Check(); err != nil {
			return nil, err
		}
		n, err := s.count(ctx, p, f, cap)
		if err != nil {
			return nil, err
		}
		out[q] = n
	}
	return out, nil
}

// count counts a queue's tickets up to cap, reading at most cap rows. The
// mentions queue counts the caller's unread mentions (the badge of the
// home page), read from the unread ones only.
func (s *Store) count(ctx context.Context, p *identity.Principal, f Filter, cap int) (int, error) {
	var a args
	var me int64
	if p != nil {
		me = p.UserID
	}
	from := " FROM tickets t"
	var conds []string
	if f.Queue == "mentions" {
		from = " FROM ticket_mentions m JOIN tickets t ON t.id = m.ticket_id"
		conds = []string{"m.user_id = " + a.add(me), "m.read_at IS NULL", "t.merged_into IS NULL"}
	} else {
		qc, err := s.queueConds(ctx, f.Queue, &a, me, true)
		if err != nil {
			return 0, err
		}
		conds = append([]string{"t.merged_into IS NULL"}, qc...)
		if hint := s.queueIndex(f) + s.dueIndex(f); hint != "" {
			from += " INDEXED BY " + hint
		}
	}
	if !queueImpliesScope(f.Queue) {
		scope, sargs := scopeSQL(p, len(a.list)+1)
		a.list = append(a.list, sargs...)
		conds = append(conds, scope)
	}
	var n int
	if traceList != nil {
		traceList(`SELECT COUNT(*) FROM (SELECT 1`+from+` WHERE `+strings.Join(conds, " AND ")+` LIMIT `+strconv.Itoa(cap)+`) x`, a.list)
	}
	// A handful of texts (queue × whether the caller sees everything),
	// each prepared once per read connection on SQLite.
	err := s.db.HotRow(ctx, `SELECT COUNT(*) FROM (SELECT 1`+from+` WHERE `+strings.Join(conds, " AND ")+
		` LIMIT `+strconv.Itoa(cap)+`) x`, a.list...).Scan(&n)
	return n, err
}

// queueImpliesScope tells whether a queue's own condition already keeps to
// tickets the caller may see (scopeSQL): their own, their teams', those
// they are mentioned on. The scope's test per row is then left out.
func queueImpliesScope(queue string) bool {
	return queue == "mine" || queue == "team" || queue == "mentions"
}

// queueConds are the conditions of a queue for user me; unread limits the
// mentions queue to those not read yet (its count on the home page).
func (s *Store) queueConds(ctx context.Context, queue string, a *args, me int64, unread bool) ([]string, error) {
	if queue == "team" {
		// The caller's teams as values, not a sub-query: with one team
		// the team index gives the page in order; PostgreSQL, given a
		// sub-query, read every open ticket and sorted them.
		teams, err := s.teamsOf(ctx, me)
		if err != nil || len(teams) == 0 {
			return []string{"FALSE"}, err
		}
		var ph []string
		for _, t := range teams {
			ph = append(ph, a.add(t))
		}
		return []string{"t.team_id IN (" + strings.Join(ph, ", ") + ")", "t.is_open = TRUE"}, nil
	}
	if dueQueue(queue) {
		return s.dueQueueConds(queue, a), nil
	}
	return queueCondsOf(queue, a, me, unread), nil
}

func (s *Store) teamsOf(ctx context.Context, user int64) ([]int64, error) {
	return scanIDs(s.db.HotQuery(ctx, `SELECT team_id FROM team_members WHERE user_id = $1 ORDER BY team_id`, user))
}

func queueCondsOf(queue string, a *args, me int64, unread bool) []string {
	switch queue {
	case "mine":
		// "= TRUE": SQLite uses a bare boolean column of an index only as
		// a filter, and then sorted every ticket the owner ever had.
		return []string{"t.owner_id = " + a.add(me), "t.is_open = TRUE"}
	case "unassigned":
		return []string{"t.owner_id IS NULL", "t.is_open"}
	case "waiting":
		return []string{"t.state IN ('waiting_customer', 'waiting_third_party')"}
	case "mentions":
		read := ""
		if unread {
			read = " AND m.read_at IS NULL"
		}
		// Driven from the mentions (few) rather than walking every ticket.
		return []string{`t.id IN (SELECT m.ticket_id FROM ticket_mentions m WHERE m.user_id = ` + a.add(me) + read + `)`}
	case "major":
		return []string{"t.major_complaint", "t.is_open"}
	}
	return nil
}
