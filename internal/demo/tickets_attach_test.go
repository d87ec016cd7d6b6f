package demo_test

import (
	"context"
	"testing"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/db/dbtest"
	"github.com/careloop/careloop/internal/demo"
	"github.com/careloop/careloop/internal/settings"
)

// TestDemoTicketsCarryFiles: with an attachment store, a few demo replies
// carry a photo (previewable) or a PDF, recorded on their messages. On one
// database: seeding the month is slow, and the files' store is tested on
// both.
func TestDemoTicketsCarryFiles(t *testing.T) {
	d := dbtest.Targets(t)[0].Open(t)
	ctx := context.Background()
	now, clk, a, ids := seedForTickets(t, d)
	files, err := attachments.New(d, clk, a, settings.New(d, clk, a), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedTickets(ctx, d, ids, now, nil, files); err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"image/png", "application/pdf"} {
		var n int
		if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments a JOIN ticket_messages m ON m.id = a.entity_id
			WHERE a.entity = 'ticket_message' AND a.content_type = $1 AND NOT m.from_customer`, ct).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n < 3 {
			t.Errorf("%d demo replies with %s", n, ct)
		}
	}
}
