package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/testkit/browser"
	"github.com/careloop/careloop/internal/tickets"
)

// TestSLACountdownBrowser: the agent's tickets due in 5 min, 45 min, 3 h and
// 20 min overdue. The workspace (sorted by due time by default) shows the
// countdowns in that order, most overdue first and red, the two within the
// hour amber; the breaching-soon view shows exactly the 5 and 45 min ones;
// the breached view, a supervisor's, the overdue one. The ticket page lists
// its targets with their due times. Both languages, 1366 and 375 px, every
// countdown on one line, the script's ticking text equal to the server's.
func TestSLACountdownBrowser(t *testing.T) {
	tk := startTicketPages(t, dbtest.Targets(t)[0])
	ctx := context.Background()
	owner := tk.agent.ID
	// Tickets the agent owns, none answered at intake (made by the system).
	create := func(typ, subject string) int64 {
		t.Helper()
		tt, err := tk.App.Tickets.Create(ctx, nil, tickets.Input{CustomerID: tk.customer.ID, Type: typ, Channel: "phone", Subject: subject})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tk.App.Tickets.Assign(ctx, nil, tt.ID, tickets.AssignInput{OwnerID: &owner, TeamID: &tk.service.ID, Reason: "分派"}); err != nil {
			t.Fatal(err)
		}
		return tt.ID
	}
	// The kit's two tickets of 09:00 are answered in time: their next
	// targets are days away.
	for _, c := range []struct {
		id   int64
		user int64
	}{{tk.serviceTicket.ID, tk.agent.ID}, {tk.techTicket.ID, tk.other.ID}} {
		p, err := tk.App.Identity.PrincipalFor(ctx, c.user)
		if err != nil {
			t.Fatal(err)
		}
		tk.Clock.Set(shanghaiAt(9, 5))
		if _, _, err := tk.App.Tickets.AddPost(ctx, p, c.id, tickets.Post{Body: "您好，已收到。"}); err != nil {
			t.Fatal(err)
		}
	}
	over20, in5, in45, in3h := dueTickets(t, tk.Kit, create)
	// A ticket waiting on the customer, the widest state in English,
	// beside the countdowns.
	waiting := create("repair", "上门维修预约（客户改期）")
	if _, err := tk.App.Tickets.Transition(ctx, nil, waiting, tickets.TransitionInput{To: tickets.StateWaitingCustomer}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"zh-CN": {"超时 20 分钟", "5 分钟", "45 分钟", "3 小时"},
		"en":    {"overdue 20 min", "in 5 min", "in 45 min", "in 3 h"},
	}
	red, amber := "rgb(180, 35, 24)", "rgb(253, 233, 210)"
	rows := func(b *browser.Browser) (ids []string, texts []string) {
		b.Eval(`Array.from(document.querySelectorAll("table.tickets tbody tr a.ticket-no")).map(a => a.getAttribute("href"))`, &ids)
		b.Eval(`Array.from(document.querySelectorAll("table.tickets tbody tr")).map(r => { const s = r.querySelector(".sla-text"); return s ? s.textContent : ""; })`, &texts)
		return
	}
	href := func(id int64) string { return fmt.Sprintf("/tickets/%d", id) }
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) {
			b := browser.Shared(t)
			signInAs(t, b, tk.URL, "agent@example.com", lang)
			b.Visit(tk.URL + "/tickets")
			if b.Exists("#queue-breached") {
				t.Errorf("an agent is offered the breached view")
			}
			if !b.Exists("#queue-breaching") {
				t.Fatalf("no breaching-soon view")
			}
			if got := b.Value("#ticket-sort"); got != "due" {
				t.Errorf("the agent's queue is sorted by %q, want due", got)
			}
			ids, texts := rows(b)
			// Then the later ones (the waiting repair, the kit's answered ticket).
			wantIDs := []string{href(over20), href(in5), href(in45), href(in3h)}
			if len(ids) < 4 || strings.Join(ids[:4], " ") != strings.Join(wantIDs, " ") {
				t.Errorf("workspace order %v, want %v first", ids, wantIDs)
			}
			if len(texts) < 4 || strings.Join(texts[:4], "|") != strings.Join(want[lang], "|") {
				t.Errorf("countdowns %q, want %q", texts, want[lang])
			}
			if got := background(b, "table.tickets tbody tr:nth-child(1) .sla-text"); got != red {
				t.Errorf("the overdue countdown is %s, want red %s", got, red)
			}
			for _, n := range []int{2, 3} {
				if got := background(b, fmt.Sprintf("table.tickets tbody tr:nth-child(%d) .sla-text", n)); got != amber {
					t.Errorf("row %d (within the hour) is %s, want amber %s", n, got, amber)
				}
			}
			if c := b.Text("#queue-breaching .count"); c != "2" {
				t.Errorf("breaching count %q, want 2", c)
			}
			atDesktopAndPhone(t, b, lang, "workspace-sla", func(where string) {
				oneLine(t, b, where, ".sla-text")
				var wide bool
				b.Eval(`(() => { const t = document.querySelector(".table-wrap"); return t.scrollWidth > t.clientWidth + 1; })()`, &wide)
				if wide {
					var cols []float64
					b.Eval(`Array.from(document.querySelectorAll("table.tickets thead th")).map(th => th.getBoundingClientRect().width)`, &cols)
					t.Logf("column widths %v", cols)
					t.Errorf("%s: the ticket list scrolls sideways", where)
				}
			})

			b.Click("#queue-breaching")
			ids, texts = rows(b)
			if strings.Join(ids, " ") != href(in5)+" "+href(in45) {
				t.Errorf("breaching soon lists %v, want the 5 and 45 min ones", ids)
			}
			if strings.Join(texts, "|") != strings.Join(want[lang][1:3], "|") {
				t.Errorf("breaching soon countdowns %q", texts)
			}
			atDesktopAndPhone(t, b, lang, "breaching", func(where string) { oneLine(t, b, where, ".sla-text") })

			b.Visit(tk.URL + href(in5))
			if !b.Exists("#sla-panel") {
				t.Fatalf("the ticket page has no SLA panel")
			}
			panel := b.Text("#sla-panel")
			for _, s := range map[string][]string{"zh-CN": {"首次响应", "计时中", "2026-03-02 14:05", "问题解决", "向客户通报进展"},
				"en": {"First response", "2026-03-02 14:05", "Running", "Resolution"}}[lang] {
				if !strings.Contains(panel, s) {
					t.Errorf("the SLA panel lacks %q: %q", s, panel)
				}
			}
			if got := b.Text("#ticket-sla-next .sla-text"); got != want[lang][1] {
				t.Errorf("the ticket's next due %q, want %q", got, want[lang][1])
			}
			atDesktopAndPhone(t, b, lang, "ticket-sla", func(where string) {
				oneLine(t, b, where, ".sla-text")
				oneLine(t, b, where, ".sla-name")
			})
			b.NoJSErrors()

			signInAs(t, b, tk.URL, "boss@example.com", lang)
			b.Visit(tk.URL + "/tickets")
			if !b.Exists("#queue-breached") {
				t.Fatalf("the supervisor has no breached view")
			}
			b.Click("#queue-breached")
			ids, texts = rows(b)
			if strings.Join(ids, " ") != href(over20) || strings.Join(texts, "|") != want[lang][0] {
				t.Errorf("breached lists %v %q, want the overdue one", ids, texts)
			}
			atDesktopAndPhone(t, b, lang, "breached", func(where string) { oneLine(t, b, where, ".sla-text") })
		})
	}
}
