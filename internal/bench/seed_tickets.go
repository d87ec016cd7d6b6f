package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/textindex"
	"github.com/careloop/careloop/internal/tickets"
)

// ticketSeedTables are the tables SeedTickets fills, besides the text
// index (ticket_text), whose GIN index the PostgreSQL load also drops and
// builds again at the end.
var ticketSeedTables = []string{"tickets", "ticket_messages", "ticket_notes", "ticket_mentions"}

func ticketLoadTables() []string { return append(slices.Clone(ticketSeedTables), "ticket_text") }

// TicketSeedStats says what SeedTickets wrote.
type TicketSeedStats struct {
	Tickets  int     `json:"tickets"`
	Messages int     `json:"messages"`
	Seconds  float64 `json:"seconds"`
}

// seedWords are two-character words agents search for; ticket texts are
// made of them, so that a 2- and a 4-character search (黑屏, 开机黑屏)
// each find a realistic share of the tickets.
var seedWords = []string{"换货", "保修", "黑屏", "异响", "漏水", "退款", "上门", "配件", "发票", "滤芯", "开机", "死机",
	"噪音", "维修", "安装", "物流", "破损", "延误", "客服", "态度", "收费", "质保", "电源", "屏幕", "遥控", "制冷",
	"加热", "漏电", "按键", "卡纸", "断网", "花屏", "返修", "投诉", "催单", "退货", "包装", "说明", "积分", "地址"}

var seedSubjects = []string{"开机黑屏", "外机异响", "净水器漏水", "申请换货", "保修期查询", "上门维修预约", "配件收费投诉",
	"发票开具", "更换滤芯", "遥控失灵", "屏幕花屏", "物流延误", "包装破损", "制冷效果差", "频繁死机", "按键失灵", "断网重连", "退款进度", "催单", "安装预约"}

// SeedStaff are the users that own the seeded tickets: two teams of three.
// The bench signs in as the first (BenchAgentEmail), who owns a sixth of
// the tickets and is in the first team.
const BenchAgentEmail = "agent0@bench.careloop.cn"

// SeedTickets fills a database that holds customers (ids 1…customers)
// with n tickets, five messages each, a note on every tenth and mentions
// of the bench agent, in bulk.
func SeedTickets(ctx context.Context, d *db.DB, ids *identity.Store, n, customers int, log io.Writer) (TicketSeedStats, error) {
	start := time.Now()
	st := TicketSeedStats{Tickets: n}
	var staff []int64
	var teams []int64
	for t := range 2 {
		team, err := ids.CreateTeam(ctx, fmt.Sprintf("bench team %d", t))
		if err != nil {
			return st, err
		}
		teams = append(teams, team.ID)
		for u := range 3 {
			user, err := ids.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("agent%d@bench.careloop.cn", t*3+u), Name: fmt.Sprintf("坐席%d", t*3+u),
				Password: identity.GeneratePassword(), Roles: []string{"tech_support"}, TeamIDs: []int64{team.ID}})
			if err != nil {
				return st, err
			}
			staff = append(staff, user.ID)
		}
	}
	conn, err := d.W.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	var l loader
	if d.Dialect == db.Postgres {
		l = &pgLoader{conn: conn, tables: ticketLoadTables()}
	} else {
		l = &sqliteLoader{conn: conn, tables: ticketLoadTables()}
	}
	ddl, err := l.begin(ctx)
	if err != nil {
		return st, fmt.Errorf("seed tickets: prepare: %w", err)
	}
	// A year of tickets, evenly spread, ending an hour before now.
	end := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	step := 365 * 24 * time.Hour / time.Duration(n)
	first := end.Add(-step * time.Duration(n))
	const chunk = 20000
	ticketCols := []string{"id", "number", "customer_id", "type", "channel", "severity", "severity_rank", "state", "is_open", "subject",
		"description", "expectation", "major_complaint", "tags", "custom", "owner_id", "team_id", "reopen_count", "time_spent",
		"last_message_id", "version", "created_at", "updated_at"}
	msgCols := []string{"id", "ticket_id", "from_customer", "author_id", "body", "channel", "time_spent", "created_at"}
	var rows, msgs, notes, mentions [][]any
	var textIDs []int64
	var textDocs []string
	var texts []string
	var msgID, noteID int64
	for lo := 1; lo <= n; lo += chunk {
		hi := min(n, lo+chunk-1)
		rows, msgs, notes, mentions = rows[:0], msgs[:0], notes[:0], mentions[:0]
		textIDs, textDocs = textIDs[:0], textDocs[:0]
		for i := lo; i <= hi; i++ {
			created := first.Add(step * time.Duration(i))
			typ := tickets.Types[(i*31)%len(tickets.Types)]
			sev := tickets.Severities[[]int{0, 0, 0, 1, 1, 2}[(i*13)%6]]
			state := seedState(i)
			var owner any = staff[i%len(staff)]
			team := teams[(i%len(staff))/3]
			if i%20 == 7 && tickets.IsOpen(state) {
				owner = nil // in the team's queue
			}
			w := func(k int) string { return seedWords[(i*k+k*k)%len(seedWords)] }
			subject := seedSubjects[(i*7)%len(seedSubjects)] + "：" + w(3) + w(5)
			desc := "客户反映" + w(11) + w(13) + "，" + w(17) + "后" + w(19) + "。"
			updated := created.Add(time.Duration(i%97) * time.Minute)
			number := fmt.Sprintf("T%s%06d", created.In(tickets.BusinessZone).Format("20060102"), i)
			texts = append(texts[:0], number, subject, desc)
			for k := 1; k <= 5; k++ {
				msgID++
				var author any = staff[(i+k)%len(staff)]
				if k%2 == 1 {
					author = nil
				}
				body := "您好，" + w(23+k) + w(29+k) + "的问题" + w(31+k) + "，请尽快" + w(37+k) + "。"
				texts = append(texts, body)
				msgs = append(msgs, []any{msgID, int64(i), k%2 == 1, author, body,
					"phone", int64(0), created.Add(time.Duration(k) * time.Minute)})
			}
			rows = append(rows, []any{int64(i), number, int64(1 + (i*7919)%customers),
				typ, tickets.Channels[(i*17)%len(tickets.Channels)], sev, int64(tickets.SeverityRank(sev)), state, tickets.IsOpen(state),
				subject, desc, "尽快处理", typ == "complaint" && sev == "urgent", "[]", "{}", owner, team, int64(0), int64(i % 30),
				msgID, int64(1), created, updated})
			if i%10 == 0 {
				noteID++
				note := "内部备注：" + w(41) + w(43)
				texts = append(texts, note)
				notes = append(notes, []any{noteID, int64(i), staff[i%len(staff)], note, int64(3), updated})
				if i%30 == 0 {
					mentions = append(mentions, []any{int64(i), staff[0], noteID, staff[1], updated})
				}
			}
			// The ticket's document, as the store writes it (search_index.go).
			textIDs = append(textIDs, int64(i))
			textDocs = append(textDocs, textindex.Document(d.Dialect, texts...))
		}
		st.Messages += len(msgs)
		if err := loadTicketText(ctx, l, textIDs, textDocs); err != nil {
			return st, fmt.Errorf("seed tickets: load ticket_text: %w", err)
		}
		for _, t := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{{"tickets", ticketCols, rows}, {"ticket_messages", msgCols, msgs},
			{"ticket_notes", []string{"id", "ticket_id", "author_id", "body", "time_spent", "created_at"}, notes},
			{"ticket_mentions", []string{"ticket_id", "user_id", "note_id", "created_by", "created_at"}, mentions}} {
			if err := l.load(ctx, t.table, t.cols, t.rows); err != nil {
				return st, fmt.Errorf("seed tickets: load %s: %w", t.table, err)
			}
		}
		if log != nil && (hi%200000 < chunk || hi == n) {
			fmt.Fprintf(log, "seed: %d/%d tickets (%.0f s)\n", hi, n, time.Since(start).Seconds())
		}
	}
	if err := finishTickets(ctx, d.Dialect, conn, l, ddl); err != nil {
		return st, fmt.Errorf("seed tickets: indexes: %w", err)
	}
	st.Seconds = time.Since(start).Seconds()
	if log != nil {
		fmt.Fprintf(log, "seed: %d tickets, %d messages in %.1f s\n", n, st.Messages, st.Seconds)
	}
	return st, nil
}

// seedState spreads states as a year of work leaves them: most closed,
// a tenth still open.
func seedState(i int) string {
	switch p := (i * 37) % 100; {
	case p < 70:
		return tickets.StateClosed
	case p < 78:
		return tickets.StateResolved
	case p < 80:
		return tickets.StateNoAction
	case p < 88:
		return tickets.StateInProgress
	case p < 92:
		return tickets.StateNew
	case p < 94:
		return tickets.StateAcknowledged
	case p < 97:
		return tickets.StateWaitingCustomer
	}
	return tickets.StateWaitingThirdParty
}

func finishTickets(ctx context.Context, d db.Dialect, conn *sql.Conn, l loader, ddl []string) error {
	var steps []string
	if d == db.Postgres {
		steps = append(steps, ddl...)
		for _, t := range ticketSeedTables {
			steps = append(steps, "SELECT setval(pg_get_serial_sequence('"+t+"', 'id'), (SELECT COALESCE(max(id), 1) FROM "+t+"))")
		}
		steps = append(steps, "RESET session_replication_role", "RESET maintenance_work_mem")
		for _, t := range ticketLoadTables() {
			steps = append(steps, "VACUUM ANALYZE "+t)
		}
	} else {
		if err := l.(*sqliteLoader).tx.Commit(); err != nil {
			return err
		}
		steps = append(steps, ddl...)
		steps = append(steps, "ANALYZE", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	for _, s := range steps {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.60s: %w", s, err)
		}
	}
	return nil
}

// loadTicketText writes the tickets' documents into ticket_text: on
// PostgreSQL by COPY in its text format (pgx's binary COPY knows no
// tsvector), on SQLite in the loader's batched INSERTs.
func loadTicketText(ctx context.Context, l loader, ids []int64, docs []string) error {
	switch l := l.(type) {
	case *pgLoader:
		var b strings.Builder
		esc := strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)
		for i := range ids {
			b.WriteString(strconv.FormatInt(ids[i], 10) + "\t" + esc.Replace(docs[i]) + "\n")
		}
		return l.conn.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().PgConn().CopyFrom(ctx, strings.NewReader(b.String()), "COPY ticket_text (id, terms) FROM STDIN")
			return err
		})
	case *sqliteLoader:
		rows := make([][]any, len(ids))
		for i := range ids {
			rows[i] = []any{ids[i], docs[i]}
		}
		return l.load(ctx, "ticket_text", []string{"rowid", "terms"}, rows)
	}
	return fmt.Errorf("seed tickets: no loader for the text index")
}
