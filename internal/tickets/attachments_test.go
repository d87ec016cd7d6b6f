package tickets_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/settings"
	"github.com/careloop/careloop/internal/tickets"
)

var testPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func testPNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withFiles gives the fixture's store an attachment store under a
// temporary data directory.
func withFiles(t *testing.T, f *fixture) *attachments.Store {
	t.Helper()
	st, err := attachments.New(f.d, f.clock, f.audit, settings.New(f.d, f.clock, f.audit), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f.store.UseAttachments(st)
	return st
}

func stage(t *testing.T, st *attachments.Store, name string, content []byte) attachments.Staged {
	t.Helper()
	s, err := st.Stage(context.Background(), name, bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func countRows(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.R.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostFilesRecordedWithTheMessageAndScoped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		st := withFiles(t, f)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "tech", Active: true, TeamID: f.tech.ID, Strategy: "least_load"}); err != nil {
			t.Fatal(err)
		}
		tk, err := f.store.Create(ctx, f.boss, f.input("fault"))
		if err != nil {
			t.Fatal(err)
		}
		other, _ := f.store.Create(ctx, f.boss, f.input("fault"))

		m, _, err := f.store.AddPostWithFiles(ctx, f.alice, tk.ID, tickets.Post{Body: "请看现场照片和报告"},
			[]attachments.Staged{stage(t, st, "现场照片.png", testPNG(t)), stage(t, st, "维修报告.pdf", testPDF)})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attachments) != 2 || m.Attachments[0].Entity != tickets.EntityMessage || m.Attachments[0].EntityID != m.ID ||
			m.Attachments[0].ContentType != "image/png" || m.Attachments[1].Filename != "维修报告.pdf" || len(m.Attachments[1].SHA256) != 64 {
			t.Fatalf("reply files: %+v", m.Attachments)
		}
		_, n, err := f.store.AddPostWithFiles(ctx, f.alice, tk.ID, tickets.Post{Body: "客户的购买凭证", Internal: true},
			[]attachments.Staged{stage(t, st, "发票.pdf", testPDF)})
		if err != nil {
			t.Fatal(err)
		}
		if len(n.Attachments) != 1 || n.Attachments[0].Entity != tickets.EntityNote {
			t.Fatalf("note files: %+v", n.Attachments)
		}
		noteFile := n.Attachments[0].ID

		// The thread's reads carry them; the customer-facing one never the note's.
		msgs, err := f.store.Messages(ctx, f.alice, tk.ID)
		if err != nil || len(msgs) != 1 || len(msgs[0].Attachments) != 2 {
			t.Fatalf("messages: %+v %v", msgs, err)
		}
		for _, m := range msgs {
			for _, a := range m.Attachments {
				if a.ID == noteFile {
					t.Fatal("a note's file among the customer-facing messages")
				}
			}
		}
		notes, err := f.store.Notes(ctx, f.alice, tk.ID)
		if err != nil || len(notes) != 1 || len(notes[0].Attachments) != 1 || notes[0].Attachments[0].ID != noteFile {
			t.Fatalf("notes: %+v %v", notes, err)
		}
		a, rc, err := f.store.OpenAttachment(ctx, f.alice, tk.ID, noteFile)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(data, testPDF) || a.Filename != "发票.pdf" {
			t.Fatalf("opened %+v", a)
		}
		if _, _, err := f.store.OpenReplyAttachment(ctx, f.alice, tk.ID, noteFile); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("a note's file on the customer-facing path: %v", err)
		}
		if _, rc, err := f.store.OpenReplyAttachment(ctx, f.alice, tk.ID, m.Attachments[0].ID); err != nil {
			t.Fatalf("a reply's file on the customer-facing path: %v", err)
		} else {
			rc.Close()
		}
		// Carol (another team) cannot reach them; nor through another ticket.
		if _, _, err := f.store.OpenAttachment(ctx, f.carol, tk.ID, m.Attachments[0].ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("another team: %v", err)
		}
		if _, err := f.store.Attachment(ctx, f.alice, other.ID, m.Attachments[0].ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("through another ticket: %v", err)
		}
		events, _ := f.store.Events(ctx, tk.ID)
		added := 0
		for _, e := range events {
			if e.Kind == tickets.EventAttachmentsAdded {
				added++
			}
		}
		if added != 2 {
			t.Fatalf("%d attachments_added events: %+v", added, events)
		}
	})
}

func TestRefusedPostLeavesNoAttachmentRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		st := withFiles(t, f)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "tech", Active: true, TeamID: f.tech.ID, Strategy: "least_load"}); err != nil {
			t.Fatal(err)
		}
		tk, _ := f.store.Create(ctx, f.boss, f.input("fault"))
		lim := attachments.DefaultLimits()
		lim.MaxFiles = 1
		if _, err := st.SetLimits(ctx, lim, 0); err != nil {
			t.Fatal(err)
		}
		// One file too many: Record refuses the second inside the message's
		// transaction, so neither the message nor the first file remains.
		_, _, err := f.store.AddPostWithFiles(ctx, f.alice, tk.ID, tickets.Post{Body: "两个附件"},
			[]attachments.Staged{stage(t, st, "a.pdf", testPDF), stage(t, st, "b.png", testPNG(t))})
		var v *domain.ValidationError
		if !errors.As(err, &v) || v.Fields[0].Field != attachments.Field || v.Fields[0].Key != attachments.KeyTooMany {
			t.Fatalf("two files over a limit of one: %v", err)
		}
		if n := countRows(t, d, `SELECT COUNT(*) FROM ticket_messages WHERE ticket_id = $1`, tk.ID); n != 0 {
			t.Fatalf("%d messages saved", n)
		}
		if n := countRows(t, d, `SELECT COUNT(*) FROM attachments`); n != 0 {
			t.Fatalf("%d attachment rows left", n)
		}
		// A refused message (empty body, a closed ticket) records no file.
		if _, _, err := f.store.AddPostWithFiles(ctx, f.alice, tk.ID, tickets.Post{Body: "  "},
			[]attachments.Staged{stage(t, st, "a.pdf", testPDF)}); !errors.As(err, &v) || v.Fields[0].Field != "body" {
			t.Fatalf("empty body: %v", err)
		}
		for _, to := range []string{"resolved", "closed"} {
			if _, err := f.store.Transition(ctx, f.alice, tk.ID, tickets.TransitionInput{To: to, Confirmation: "客户确认"}); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err = f.store.AddPostWithFiles(ctx, f.alice, tk.ID, tickets.Post{Body: "补充"}, []attachments.Staged{stage(t, st, "a.pdf", testPDF)})
		if conflictKey(err) != "tickets.error.reply_closed" {
			t.Fatalf("closed: %v", err)
		}
		if n := countRows(t, d, `SELECT COUNT(*) FROM attachments`); n != 0 {
			t.Fatalf("%d attachment rows left", n)
		}
	})
}

func TestDeleteAttachmentAuditedAndMergeMovesFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		st := withFiles(t, f)
		ctx := context.Background()
		if _, err := f.store.CreateRule(ctx, tickets.Rule{Name: "tech", Active: true, TeamID: f.tech.ID, Strategy: "least_load"}); err != nil {
			t.Fatal(err)
		}
		tk, _ := f.store.Create(ctx, f.boss, f.input("fault"))
		dup, _ := f.store.Create(ctx, f.boss, f.input("fault"))
		m, _, err := f.store.AddPostWithFiles(ctx, f.alice, tk.ID, tickets.Post{Body: "附件"},
			[]attachments.Staged{stage(t, st, "a.pdf", testPDF), stage(t, st, "b.png", testPNG(t))})
		if err != nil {
			t.Fatal(err)
		}
		aid := m.Attachments[0].ID
		// Tom (technician: no tickets.edit) sees the ticket but may not delete;
		// Carol does not see it.
		if err := f.store.DeleteAttachment(ctx, f.tom, tk.ID, aid); !errors.Is(err, domain.ErrForbidden) {
			t.Fatalf("technician: %v", err)
		}
		if err := f.store.DeleteAttachment(ctx, f.carol, tk.ID, aid); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("another team: %v", err)
		}
		if err := f.store.DeleteAttachment(ctx, f.alice, dup.ID, aid); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("through another ticket: %v", err)
		}
		actx := audit.WithActor(ctx, audit.Actor{UserID: f.alice.UserID, Label: "alice@example.com"})
		if err := f.store.DeleteAttachment(actx, f.alice, tk.ID, aid); err != nil {
			t.Fatal(err)
		}
		if err := f.store.DeleteAttachment(actx, f.alice, tk.ID, aid); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("twice: %v", err)
		}
		msgs, _ := f.store.Messages(ctx, f.alice, tk.ID)
		if len(msgs[0].Attachments) != 1 || msgs[0].Attachments[0].ID == aid {
			t.Fatalf("after delete: %+v", msgs[0].Attachments)
		}
		for _, action := range []string{"attachment.delete", "ticket.attachment_delete"} {
			page, err := f.audit.List(ctx, audit.Filter{Action: action})
			if err != nil || len(page.Entries) != 1 || page.Entries[0].ActorID != f.alice.UserID {
				t.Fatalf("audit %s: %+v %v", action, page, err)
			}
		}
		events, _ := f.store.Events(ctx, tk.ID)
		if last := events[len(events)-1]; last.Kind != tickets.EventAttachmentDeleted || last.Data["attachment_id"] != float64(aid) {
			t.Fatalf("last event: %+v", last)
		}
		tl, err := f.timeline.List(ctx, f.customer.ID, nil, 5, "")
		if err != nil || len(tl.Items) == 0 || tl.Items[0].Kind != tickets.EventAttachmentDeleted || strings.Contains(tl.Items[0].Key, "a.pdf") {
			t.Fatalf("timeline: %+v %v", tl.Items, err)
		}

		// Merged, the messages move and their files with them.
		n, _, err := f.store.AddPostWithFiles(ctx, f.alice, dup.ID, tickets.Post{Body: "重复工单的附件"},
			[]attachments.Staged{stage(t, st, "dup.pdf", testPDF)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.Merge(ctx, f.boss, dup.ID, tk.ID); err != nil {
			t.Fatal(err)
		}
		if _, rc, err := f.store.OpenAttachment(ctx, f.alice, tk.ID, n.Attachments[0].ID); err != nil {
			t.Fatalf("moved file: %v", err)
		} else {
			rc.Close()
		}
		if _, err := f.store.Attachment(ctx, f.alice, dup.ID, n.Attachments[0].ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("through the merged ticket: %v", err)
		}
		msgs, _ = f.store.Messages(ctx, f.alice, tk.ID)
		files := 0
		for _, m := range msgs {
			files += len(m.Attachments)
		}
		if files != 2 {
			t.Fatalf("files after merge: %d", files)
		}
	})
}
