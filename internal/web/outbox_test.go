package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/testkit"
)

// failing is a channel whose provider refuses every message for good.
type failing struct{}

func (failing) Name() string { return "email" }
func (failing) Deliver(context.Context, *notify.Message) (string, error) {
	return "", notify.Permanent(errors.New("550 5.1.1 no such user"))
}

func TestOutboxAPIListsDeadLettersAndRetries(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		_, admin := k.User("admin@example.com", "admin")
		_, agent := k.User("agent@example.com", "agent")
		k.App.Outbox.Register(failing{})
		id, err := k.App.Outbox.Enqueue(ctx, notify.Message{Channel: "email", Kind: "ticket.reply", Recipient: "wang@example.cn", Subject: "关于您的换货申请"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items  []notify.Message `json:"items"`
			Counts map[string]int   `json:"counts"`
		}
		r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/outbox?state=dead", Token: admin})
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != id || page.Items[0].LastError == "" || page.Counts["dead"] != 1 {
			t.Fatalf("dead letters: %+v", page)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/outbox?state=lost", Token: admin}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "state") {
			t.Fatalf("a bad state: %d %s", r.Status, r.Body)
		}
		if r := k.Do(testkit.Request{Method: "GET", Path: "/api/v1/outbox?before=x", Token: admin}); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "before") {
			t.Fatalf("a bad cursor: %d %s", r.Status, r.Body)
		}
		for _, req := range []testkit.Request{
			{Method: "GET", Path: "/api/v1/outbox", Token: agent},
			{Method: "POST", Path: fmt.Sprintf("/api/v1/outbox/%d/retry", id), Token: agent},
		} {
			if r := k.Do(req); r.Status != http.StatusForbidden {
				t.Fatalf("an agent on %s %s: %d", req.Method, req.Path, r.Status)
			}
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: "/api/v1/outbox/999999/retry", Token: admin}); r.Status != http.StatusNotFound {
			t.Fatalf("retry of a missing row: %d", r.Status)
		}
		r = k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/outbox/%d/retry", id), Token: admin})
		if r.Status != http.StatusOK {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		var m notify.Message
		r.JSON(t, &m)
		if m.State != notify.StateQueued || m.Attempts != 0 {
			t.Fatalf("after retry: %+v", m)
		}
		if r := k.Do(testkit.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/outbox/%d/retry", id), Token: admin}); r.Status != http.StatusConflict {
			t.Fatalf("retry of a queued row: %d %s", r.Status, r.Body)
		}
		var audit struct {
			Items []struct {
				Action string `json:"action"`
			} `json:"items"`
		}
		k.Do(testkit.Request{Method: "GET", Path: "/api/v1/audit?action=outbox.retry", Token: admin}).JSON(t, &audit)
		if len(audit.Items) != 1 {
			t.Fatalf("the retry is not audited: %+v", audit)
		}
	})
}

func TestOutboxPageShowsFailuresAndRetries(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		k.User("admin@example.com", "admin")
		k.App.Outbox.Register(failing{})
		id, _ := k.App.Outbox.Enqueue(ctx, notify.Message{Channel: "email", Kind: "ticket.reply", Recipient: "wang@example.cn", Subject: "<b>关于您的换货申请</b>"})
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		c := k.Login("admin@example.com", testkit.Password)
		res, err := c.Get(k.URL + "/admin/outbox?state=dead")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		page := string(body)
		if res.StatusCode != http.StatusOK || !strings.Contains(page, "&lt;b&gt;关于您的换货申请&lt;/b&gt;") || !strings.Contains(page, "550 5.1.1") ||
			!strings.Contains(page, fmt.Sprintf(`action="/admin/outbox/%d/retry"`, id)) {
			t.Fatalf("the outbox page: %d\n%s", res.StatusCode, page)
		}
		res, err = c.Post(k.URL+fmt.Sprintf("/admin/outbox/%d/retry", id), "application/x-www-form-urlencoded", strings.NewReader(""))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, fmt.Sprintf("retried=%d", id)) {
			t.Fatalf("after retry: %d %s", res.StatusCode, loc)
		}
		if m, _ := k.App.Outbox.Get(ctx, id); m.State != notify.StateQueued {
			t.Fatalf("the row was not queued again: %+v", m)
		}
	})
}
