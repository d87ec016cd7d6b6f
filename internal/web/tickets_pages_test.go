package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/customfields"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/testkit"
	"github.com/careloop/careloop/internal/tickets"
)

// ticketKit is a Careloop with two teams (售后组, the first, takes what no
// rule routes; 技术支持组), agents in each, a technician, a supervisor, a
// customer with an air conditioner in warranty, and a ticket in each team.
type ticketKit struct {
	*testkit.Kit
	service, tech                             identity.Team
	agent, colleague, other, technician, boss identity.User
	customer                                  customers.Customer
	owned                                     customers.Owned
	serviceTicket, techTicket                 tickets.Ticket
}

func startTicketPages(t *testing.T, tg dbtest.Target) *ticketKit {
	t.Helper()
	k := testkit.Start(t, tg)
	ctx := context.Background()
	tk := &ticketKit{Kit: k}
	var err error
	if tk.service, err = k.App.Identity.CreateTeam(ctx, "售后组"); err != nil {
		t.Fatal(err)
	}
	if tk.tech, err = k.App.Identity.CreateTeam(ctx, "技术支持组"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		dst               *identity.User
		email, name, role string
		team              int64
	}{{&tk.agent, "agent@example.com", "李晓红", "agent", tk.service.ID}, {&tk.colleague, "colleague@example.com", "张伟", "agent", tk.service.ID},
		{&tk.other, "other@example.com", "王芳", "tech_support", tk.tech.ID}, {&tk.technician, "tech@example.com", "赵师傅", "technician", 0},
		{&tk.boss, "boss@example.com", "刘主管", "supervisor", 0}} {
		nu := identity.NewUser{Email: u.email, Name: u.name, Password: testkit.Password, Roles: []string{u.role}}
		if u.team != 0 {
			nu.TeamIDs = []int64{u.team}
		}
		if *u.dst, err = k.App.Identity.CreateUser(ctx, nu); err != nil {
			t.Fatal(err)
		}
	}
	name, phone := "陈美玲", "13912345678"
	if tk.customer, err = k.App.Customers.Create(ctx, customers.Input{Name: &name, Phones: &[]string{phone}}); err != nil {
		t.Fatal(err)
	}
	pname, model, months := "变频空调", "KFR-35GW", 36
	product, err := k.App.Products.Create(ctx, customers.ProductInput{Name: &pname, Model: &model, WarrantyMonths: &months})
	if err != nil {
		t.Fatal(err)
	}
	if tk.owned, err = k.App.Customers.AddOwned(ctx, tk.customer.ID, customers.OwnedInput{ProductID: product.ID, Serial: "AC2025-0042", PurchaseDate: "2025-06-01"}); err != nil {
		t.Fatal(err)
	}
	agent, _ := k.App.Identity.PrincipalFor(ctx, tk.agent.ID)
	other, _ := k.App.Identity.PrincipalFor(ctx, tk.other.ID)
	if tk.serviceTicket, err = k.App.Tickets.Create(ctx, agent, tickets.Input{CustomerID: tk.customer.ID, Type: "fault", Channel: "phone",
		Subject: "空调外机噪音大", Description: "晚上噪音明显"}); err != nil {
		t.Fatal(err)
	}
	tt, err := k.App.Tickets.Create(ctx, other, tickets.Input{CustomerID: tk.customer.ID, Type: "consultation", Channel: "email",
		Subject: "遥控器配对方法", Description: "技术组内部的工单"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.techTicket, err = k.App.Tickets.Assign(ctx, nil, tt.ID, tickets.AssignInput{TeamID: &tk.tech.ID, Reason: "技术问题"}); err != nil {
		t.Fatal(err)
	}
	return tk
}

func getPage(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func postPage(t *testing.T, c *http.Client, u string, form url.Values) (int, string, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestTicketPagesScope: a ticket page answers 404 to whoever may not see
// the ticket (a technician outside its team, an agent of another team),
// and the workspace lists only what each may see.
func TestTicketPagesScope(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			tk := startTicketPages(t, tg)
			serviceURL := fmt.Sprintf("%s/tickets/%d", tk.URL, tk.serviceTicket.ID)
			techURL := fmt.Sprintf("%s/tickets/%d", tk.URL, tk.techTicket.ID)
			for _, c := range []struct {
				email             string
				service, techSees int
			}{{"tech@example.com", 404, 404}, {"agent@example.com", 200, 404}, {"other@example.com", 404, 200}, {"boss@example.com", 200, 200}} {
				client := tk.Login(c.email, testkit.Password)
				if got, body := getPage(t, client, serviceURL); got != c.service {
					t.Errorf("%s: service ticket page %d, want %d", c.email, got, c.service)
				} else if got == 404 && strings.Contains(body, tk.serviceTicket.Subject) {
					t.Errorf("%s: the 404 page names the ticket", c.email)
				}
				if got, _ := getPage(t, client, techURL); got != c.techSees {
					t.Errorf("%s: tech ticket page %d, want %d", c.email, got, c.techSees)
				}
				if got, _ := getPage(t, client, tk.URL+"/tickets/by-number/"+tk.techTicket.Number); (got == http.StatusFound) != (c.techSees == 200) {
					t.Errorf("%s: by number %d", c.email, got)
				}
				status, list := getPage(t, client, tk.URL+"/tickets?queue=all")
				if status != 200 {
					t.Fatalf("%s: workspace %d", c.email, status)
				}
				if strings.Contains(list, tk.serviceTicket.Number) != (c.service == 200) || strings.Contains(list, tk.techTicket.Number) != (c.techSees == 200) {
					t.Errorf("%s: the workspace lists the wrong tickets", c.email)
				}
				// A technician may read but not write.
				if c.email == "tech@example.com" {
					if got, _, _ := postPage(t, client, techURL+"/posts", url.Values{"body": {"x"}}); got != http.StatusForbidden {
						t.Errorf("technician posting: %d", got)
					}
				}
			}
		})
	}
}

var noteBlockRE = regexp.MustCompile(`(?s)<article class="post note"[^>]*>.*?</article>`)

// TestTicketPagesInternalNoteStaysInItsBlock: an internal note's text
// appears only inside the note block of the ticket page, nowhere else on
// the pages that show the ticket or its customer; refused actions come back
// as messages in the user's language.
func TestTicketPagesInternalNoteStaysInItsBlock(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			tk := startTicketPages(t, tg)
			client := tk.Login("agent@example.com", testkit.Password)
			ticketURL := fmt.Sprintf("%s/tickets/%d", tk.URL, tk.serviceTicket.ID)
			secret := "客户脾气急，先别提收费-内部"
			status, loc, _ := postPage(t, client, ticketURL+"/posts", url.Values{"kind": {"note"}, "body": {secret}, "seen_message_id": {"0"}})
			if status != http.StatusSeeOther || !strings.Contains(loc, "done=ticket_noted") {
				t.Fatalf("note: %d %s", status, loc)
			}
			_, page := getPage(t, client, ticketURL)
			outside := noteBlockRE.ReplaceAllString(page, "")
			if !strings.Contains(page, secret) || strings.Contains(outside, secret) {
				t.Fatalf("the note is not (only) inside its block")
			}
			if !strings.Contains(page, "内部备注") {
				t.Error("the note is not labelled 内部备注")
			}
			for _, u := range []string{fmt.Sprintf("/customers/%d", tk.customer.ID), "/tickets?queue=all", "/", fmt.Sprintf("/api/v1/customers/%d/timeline", tk.customer.ID)} {
				if _, body := getPage(t, client, tk.URL+u); strings.Contains(body, secret) {
					t.Errorf("%s shows the internal note", u)
				}
			}
			// Closing without the customer's confirmation is refused on the page.
			status, _, body := postPage(t, client, ticketURL+"/state", url.Values{"to": {"resolved"}})
			if status != http.StatusSeeOther {
				t.Fatalf("resolve: %d %s", status, body)
			}
			status, _, body = postPage(t, client, ticketURL+"/state", url.Values{"to": {"closed"}})
			if status != http.StatusBadRequest || !strings.Contains(body, "关闭前请记录客户对处理效果的确认") {
				t.Errorf("close without confirmation: %d", status)
			}
			// A reply on a closed ticket: a conflict in words, typed text kept.
			if status, _, body = postPage(t, client, ticketURL+"/state", url.Values{"to": {"closed"}, "confirmation": {"客户确认正常"}}); status != http.StatusSeeOther {
				t.Fatalf("close: %d %s", status, body)
			}
			status, _, body = postPage(t, client, ticketURL+"/posts", url.Values{"kind": {"reply"}, "body": {"您好，已为您处理"}})
			if status != http.StatusConflict || !strings.Contains(body, "已关闭，不能回复") || !strings.Contains(body, "您好，已为您处理</textarea>") {
				t.Errorf("reply on closed: %d", status)
			}
			// A move the state does not allow names the states in words.
			status, _, body = postPage(t, client, ticketURL+"/state", url.Values{"to": {"waiting_customer"}})
			if status != http.StatusConflict || !strings.Contains(body, "当前为“已关闭”") {
				t.Errorf("bad move: %d", status)
			}
		})
	}
}

// TestTicketPagesDoubleReply: a reply written while a colleague answered
// is refused; the page shows the colleague's reply and keeps the text.
func TestTicketPagesDoubleReply(t *testing.T) {
	tk := startTicketPages(t, dbtest.Targets(t)[0])
	ctx := context.Background()
	ticketURL := fmt.Sprintf("%s/tickets/%d", tk.URL, tk.serviceTicket.ID)
	seen := fmt.Sprint(tk.serviceTicket.LastMessageID)
	colleague, _ := tk.App.Identity.PrincipalFor(ctx, tk.colleague.ID)
	if _, _, err := tk.App.Tickets.AddPost(ctx, colleague, tk.serviceTicket.ID, tickets.Post{Body: "张伟：我来处理，稍后回电"}); err != nil {
		t.Fatal(err)
	}
	client := tk.Login("agent@example.com", testkit.Password)
	status, _, body := postPage(t, client, ticketURL+"/posts", url.Values{"kind": {"reply"}, "body": {"我的回复草稿"}, "seen_message_id": {seen}})
	if status != http.StatusConflict || !strings.Contains(body, "张伟 刚刚已回复客户") || !strings.Contains(body, "我的回复草稿</textarea>") ||
		!strings.Contains(body, "colleague") {
		t.Fatalf("double reply: %d", status)
	}
}

// TestTicketPagesIntakeKeepsNoOrphanCustomer: a refused intake with a new
// customer leaves no customer behind, and keeps what was typed.
func TestTicketPagesIntakeKeepsNoOrphanCustomer(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			tk := startTicketPages(t, tg)
			client := tk.Login("agent@example.com", testkit.Password)
			form := url.Values{"new_name": {"周新客"}, "new_phone": {"13700001111"}, "type": {"fault"}, "severity": {"general"}, "channel": {"phone"},
				"subject": {""}, "description": {"冰箱不制冷，已经两天"}}
			status, _, body := postPage(t, client, tk.URL+"/tickets/new", form)
			if status != http.StatusBadRequest || !strings.Contains(body, "冰箱不制冷，已经两天</textarea>") || !strings.Contains(body, `value="周新客"`) {
				t.Fatalf("refused intake: %d", status)
			}
			var n int
			if err := tk.App.DB.R.QueryRow(`SELECT COUNT(*) FROM customers WHERE name = '周新客'`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("orphan customers: %d %v", n, err)
			}
			form.Set("subject", "冰箱不制冷")
			status, loc, body := postPage(t, client, tk.URL+"/tickets/new", form)
			if status != http.StatusSeeOther || !strings.Contains(loc, "done=ticket_created") {
				t.Fatalf("intake: %d %s %s", status, loc, body)
			}
			_, page := getPage(t, client, tk.URL+loc)
			if !regexp.MustCompile(`已创建工单 T\d{12}`).MatchString(page) || !strings.Contains(page, "周新客") {
				t.Errorf("the ticket page does not say what was created")
			}
			// Without JavaScript, the search step finds the customer by phone.
			status, _, body = postPage(t, client, tk.URL+"/tickets/new", url.Values{"customer_q": {"13912345678"}, "subject": {"草稿主题"}, "find": {"1"}})
			if status != 200 || !strings.Contains(body, "陈美玲") || !strings.Contains(body, "变频空调") || !strings.Contains(body, `value="草稿主题"`) {
				t.Errorf("search step: %d", status)
			}
		})
	}
}

// TestTicketPagesIntakeCustomFields: the admin's ticket fields are on the
// intake form, a bad value is refused next to its field with everything
// kept, and only the fields of the chosen type are stored.
func TestTicketPagesIntakeCustomFields(t *testing.T) {
	for _, tg := range dbtest.Targets(t) {
		t.Run(string(tg.Dialect), func(t *testing.T) {
			tk := startTicketPages(t, tg)
			ctx := context.Background()
			for _, f := range []customfields.Field{
				{Key: "fault_code", LabelZH: "故障代码", LabelEN: "Fault code", Type: "text", AppliesTo: []string{"fault"}},
				{Key: "visits", LabelZH: "上门次数", LabelEN: "Visits", Type: "number"},
			} {
				if _, err := tk.App.Tickets.CreateCustomField(ctx, f); err != nil {
					t.Fatal(err)
				}
			}
			client := tk.Login("agent@example.com", testkit.Password)
			_, page := getPage(t, client, tk.URL+"/tickets/new")
			if !strings.Contains(page, `data-ticket-types="fault"`) || !strings.Contains(page, "故障代码") || !strings.Contains(page, `name="custom_visits"`) {
				t.Fatal("the intake form does not offer the ticket fields")
			}
			form := url.Values{"customer_id": {fmt.Sprint(tk.customer.ID)}, "type": {"fault"}, "severity": {"general"}, "channel": {"phone"},
				"subject": {"空调不制冷"}, "custom_fault_code": {"E3"}, "custom_visits": {"两次"}}
			status, _, body := postPage(t, client, tk.URL+"/tickets/new", form)
			if status != http.StatusBadRequest || !strings.Contains(body, `value="E3"`) || !strings.Contains(body, `value="两次"`) || !strings.Contains(body, `class="field-err"`) {
				t.Fatalf("a bad number: %d", status)
			}
			form.Set("custom_visits", "2")
			status, loc, _ := postPage(t, client, tk.URL+"/tickets/new", form)
			if status != http.StatusSeeOther {
				t.Fatalf("intake: %d", status)
			}
			var id int64
			fmt.Sscanf(loc, "/tickets/%d", &id)
			agent, _ := tk.App.Identity.PrincipalFor(ctx, tk.agent.ID)
			got, err := tk.App.Tickets.Get(ctx, agent, id)
			if err != nil || got.Custom["fault_code"] != "E3" || got.Custom["visits"] != float64(2) {
				t.Fatalf("stored fields: %+v %v", got.Custom, err)
			}
			// An inquiry keeps only its own fields, whatever the hidden ones hold.
			form.Set("type", "consultation")
			status, loc, _ = postPage(t, client, tk.URL+"/tickets/new", form)
			fmt.Sscanf(loc, "/tickets/%d", &id)
			if got, err = tk.App.Tickets.Get(ctx, agent, id); status != http.StatusSeeOther || err != nil || got.Custom["fault_code"] != nil || got.Custom["visits"] != float64(2) {
				t.Fatalf("inquiry fields: %d %+v %v", status, got.Custom, err)
			}
		})
	}
}
