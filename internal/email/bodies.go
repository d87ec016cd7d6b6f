package email

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/careloop/careloop/internal/domain"
)

// MailView is what the ticket page shows of a message that came by mail:
// whether it has an HTML body to show "in its original formatting", with
// remote images held back, and the attachments that were not kept.
type MailView struct {
	HTML         bool
	RemoteImages bool
	Refused      []RefusedFile
}

// MailOf returns the mail views of those of the ticket messages ids that
// came by mail. The caller has checked that the reader may see the ticket
// the messages belong to.
func (s *Mailboxes) MailOf(ctx context.Context, ids []int64) (map[int64]MailView, error) {
	out := map[int64]MailView{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	marks := make([]string, len(ids))
	for i, id := range ids {
		args[i] = id
		marks[i] = "$" + strconv.Itoa(i+1)
	}
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT ticket_message_id, html <> '', html LIKE '%class="remote-image"%', refused
		FROM email_bodies WHERE ticket_message_id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var v MailView
		var refused string
		if err := rows.Scan(&id, &v.HTML, &v.RemoteImages, &refused); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(refused), &v.Refused)
		out[id] = v
	}
	return out, rows.Err()
}

// MailHTML returns the sanitised HTML of message messageID of ticket
// ticketID (not found when the message is not the ticket's or has none).
// The caller has checked that the reader may see the ticket.
func (s *Mailboxes) MailHTML(ctx context.Context, ticketID, messageID int64) (string, error) {
	var html string
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT b.html FROM email_bodies b JOIN ticket_messages m ON m.id = b.ticket_message_id
		WHERE b.ticket_message_id = $1 AND m.ticket_id = $2 AND b.html <> ''`, messageID, ticketID).Scan(&html)
	if errors.Is(err, errNoRows) {
		return "", domain.ErrNotFound
	}
	return html, err
}

// ShowImages swaps the held-back addresses of remote images back in, for
// the agent who asked to see them.
func ShowImages(clean string) string {
	return heldImgRE.ReplaceAllString(clean, ` src="$1"`)
}

// heldImgRE finds an image SanitizeHTML held back (only web addresses are
// ever swapped in).
var heldImgRE = regexp.MustCompile(`\sclass="remote-image" data-src="(https?://[^"]*)"`)
