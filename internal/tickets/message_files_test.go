package tickets_test

import (
	"context"
	"errors"
	"testing"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/tickets"
)

// Files that arrive after their message (WeChat's images): attached to the
// customer's message of that ticket only, with the attachments_added event.
func TestAddMessageFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		st := withFiles(t, f)
		ctx := context.Background()
		tk, err := f.store.Create(ctx, f.boss, f.input("fault"))
		if err != nil {
			t.Fatal(err)
		}
		other, err := f.store.Create(ctx, f.boss, f.input("fault"))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := f.store.AddCustomerMail(ctx, tk.ID, "wechat", tickets.Mail{Body: "[图片]"})
		if err != nil {
			t.Fatal(err)
		}
		reply, _, err := f.store.AddPost(ctx, f.boss, tk.ID, tickets.Post{Body: "收到"})
		if err != nil {
			t.Fatal(err)
		}
		photo := func() []attachments.Staged { return []attachments.Staged{stage(t, st, "MEDIA_1.png", testPNG(t))} }
		for name, c := range map[string]struct{ ticket, message int64 }{
			"another ticket's message": {other.ID, msg},
			"an agent's reply":         {tk.ID, reply.ID},
			"no such message":          {tk.ID, msg + 1000},
		} {
			if err := f.store.AddMessageFiles(ctx, c.ticket, c.message, photo()); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if n := countRows(t, d, `SELECT COUNT(*) FROM attachments`); n != 0 {
			t.Fatalf("%d attachments recorded by refused calls", n)
		}
		if err := f.store.AddMessageFiles(ctx, tk.ID, msg, photo()); err != nil {
			t.Fatal(err)
		}
		msgs, err := f.store.Messages(ctx, f.boss, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || msgs[0].ID != msg || len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].Filename != "MEDIA_1.png" {
			t.Fatalf("messages %+v", msgs)
		}
		if n := countRows(t, d, `SELECT COUNT(*) FROM ticket_events WHERE ticket_id = $1 AND kind = $2`, tk.ID, tickets.EventAttachmentsAdded); n != 1 {
			t.Fatalf("%d attachments_added events", n)
		}
	})
}
