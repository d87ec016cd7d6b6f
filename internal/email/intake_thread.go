package email

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/timeline"
)

var errNoRows = sql.ErrNoRows

// threaded is the ticket a mail answers, if any.
type threaded struct {
	ticketID, customerID int64
	// forged names a ticket the headers or subject pointed at that belongs
	// to another customer (for the record; the mail makes a new ticket).
	forged string
}

// ticketNumberRE finds a ticket number (tickets: T + YYYYMMDD + a serial
// of four digits or more) in a subject, e.g. "Re: [#T202612020001] 打印机".
var ticketNumberRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9])(T\d{12,16})(?:[^0-9]|$)`)

// thread finds the ticket a mail answers: the Message-IDs of In-Reply-To,
// then of References (newest first), in email_threads (ours and theirs),
// then a ticket number in the subject. A ticket counts only when its
// customer is one of the sender's (custs: the customers with the sender's
// address); one of another customer's is skipped, so a forged In-Reply-To
// or subject makes a new ticket and never shows the mail on someone
// else's. A merged ticket leads to the one it was merged into.
func (in *Intake) thread(ctx context.Context, m *Mail, custs []int64) (threaded, error) {
	var th threaded
	ids := make([]string, 0, len(m.InReplyTo)+len(m.References))
	ids = append(ids, m.InReplyTo...)
	for i := len(m.References) - 1; i >= 0; i-- {
		ids = append(ids, m.References[i])
	}
	seen := map[string]bool{}
	q := in.db.Q(ctx)
	tries := 0
	for _, id := range ids {
		if seen[id] || len(id) > 900 {
			continue
		}
		seen[id] = true
		if tries++; tries > 30 {
			break
		}
		var ticket int64
		err := q.QueryRowContext(ctx, `SELECT ticket_id FROM email_threads WHERE message_id = $1`, id).Scan(&ticket)
		if errors.Is(err, errNoRows) {
			continue
		} else if err != nil {
			return th, err
		}
		ok, tid, number, cust, err := in.ticketOf(ctx, `id = $1`, ticket, custs)
		if err != nil {
			return th, err
		}
		if ok {
			return threaded{ticketID: tid, customerID: cust}, nil
		}
		if th.forged == "" && number != "" {
			th.forged = "the headers name ticket " + number + " of another customer"
		}
	}
	for _, sm := range ticketNumberRE.FindAllStringSubmatch(m.Subject, 3) {
		ok, tid, number, cust, err := in.ticketOf(ctx, `number = $1`, sm[1], custs)
		if err != nil {
			return th, err
		}
		if ok {
			return threaded{ticketID: tid, customerID: cust, forged: th.forged}, nil
		}
		if th.forged == "" && number != "" {
			th.forged = "the subject names ticket " + number + " of another customer"
		}
	}
	return th, nil
}

// ticketOf reads the ticket where cond (with arg) holds, following merges,
// and tells whether its customer is one of custs. id and number are the
// ticket's (the one merged into); number is empty when there is none.
func (in *Intake) ticketOf(ctx context.Context, cond string, arg any, custs []int64) (ok bool, id int64, number string, customer int64, err error) {
	q := in.db.Q(ctx)
	for range 5 {
		var merged sql.NullInt64
		err = q.QueryRowContext(ctx, `SELECT id, number, customer_id, merged_into FROM tickets WHERE `+cond, arg).Scan(&id, &number, &customer, &merged)
		if errors.Is(err, errNoRows) {
			return false, 0, "", 0, nil
		} else if err != nil {
			return false, 0, "", 0, err
		}
		if !merged.Valid {
			return slices.Contains(custs, customer), id, number, customer, nil
		}
		cond, arg = `id = $1`, merged.Int64
	}
	return false, 0, "", 0, nil
}

var (
	headerMsgIDRE = regexp.MustCompile(`(?im)^Message-ID:\s*(<[^>\s]{1,900}>)`)
	diagnosticRE  = regexp.MustCompile(`(?im)^Diagnostic-Code:\s*(.{1,300})$`)
	statusRE      = regexp.MustCompile(`(?im)^Status:\s*(\d\.\d{1,3}\.\d{1,3})`)
)

// bounce handles a delivery failure report: the mail of ours it reports
// (its Message-ID in the report's copy of our header, or in In-Reply-To /
// References) is found in email_threads; its outbox row becomes dead with
// the report's diagnostic, so the outbox's dead letters show it and an
// administrator can retry once the address is corrected, and the customer's
// timeline says that the mail did not arrive. Nothing is sent and no
// ticket changes state. A bounce of nothing of ours is recorded only.
func (in *Intake) bounce(ctx context.Context, m *Mail, raw []byte, r *inbound) error {
	ids := append(slices.Clone(m.InReplyTo), m.References...)
	for _, a := range m.Attachments {
		if strings.HasPrefix(a.ContentType, "message/") || strings.HasPrefix(a.ContentType, "text/rfc822") {
			for _, sm := range headerMsgIDRE.FindAllSubmatch(a.Data, 2) {
				ids = append(ids, string(sm[1]))
			}
		}
	}
	if len(ids) == 0 {
		for _, sm := range headerMsgIDRE.FindAllSubmatch(raw, 3) {
			if id := string(sm[1]); id != m.MessageID {
				ids = append(ids, id)
			}
		}
	}
	diag := "no diagnostic"
	head := raw[:min(len(raw), 256<<10)]
	if sm := diagnosticRE.FindSubmatch(head); sm != nil {
		diag = strings.TrimSpace(string(sm[1]))
	} else if sm := statusRE.FindSubmatch(head); sm != nil {
		diag = "status " + string(sm[1])
	}
	q := in.db.Q(ctx)
	for _, id := range ids {
		var ticket, customer int64
		var outbox sql.NullInt64
		err := q.QueryRowContext(ctx, `SELECT ticket_id, customer_id, outbox_id FROM email_threads WHERE message_id = $1 AND direction = 'out'`, id).
			Scan(&ticket, &customer, &outbox)
		if errors.Is(err, errNoRows) {
			continue
		} else if err != nil {
			return err
		}
		r.ticketID, r.customerID = ticket, customer
		r.reason = "bounced: " + diag
		if !outbox.Valid {
			return nil
		}
		var recipient, subject string
		err = q.QueryRowContext(ctx, `UPDATE outbox SET state = $1, last_error = $2 WHERE id = $3 AND state = $4 RETURNING recipient, subject`,
			notify.StateDead, clip("bounced: "+diag, 1000), outbox.Int64, notify.StateSent).Scan(&recipient, &subject)
		if errors.Is(err, errNoRows) {
			return nil // not sent (yet), or already marked by an earlier report
		} else if err != nil {
			return err
		}
		return in.timeline.Append(ctx, timeline.Event{CustomerID: customer, Kind: "email.bounced", Key: "timeline.email_bounced",
			Params: map[string]any{"Recipient": recipient, "Subject": clip(subject, 120), "Reason": clip(diag, 200)},
			Entity: "outbox", EntityID: fmt.Sprint(outbox.Int64)})
	}
	return nil
}

// stage writes the mail's attachments to the attachment store (outside the
// transaction, as uploads are), under the administrator's limits: a file of
// a refused type or size, or one past the number allowed per message, is
// not kept and is listed with its reason, to be shown under the message.
func (in *Intake) stage(ctx context.Context, list []Attachment) ([]attachments.Staged, []RefusedFile, error) {
	st := in.tickets.Attachments()
	var refused []RefusedFile
	if st == nil {
		for _, a := range list {
			refused = append(refused, RefusedFile{Name: attachments.CleanName(a.Name), Key: "email.refused.unavailable"})
		}
		return nil, refused, nil
	}
	lim, err := st.Limits(ctx)
	if err != nil {
		return nil, nil, err
	}
	var files []attachments.Staged
	for _, a := range list {
		if len(files) >= lim.MaxFiles {
			refused = append(refused, RefusedFile{Name: attachments.CleanName(a.Name), Key: "email.refused.too_many", Params: map[string]any{"Max": lim.MaxFiles}})
			continue
		}
		f, err := st.Stage(ctx, a.Name, bytes.NewReader(a.Data))
		var v *domain.ValidationError
		if errors.As(err, &v) && len(v.Fields) > 0 {
			refused = append(refused, RefusedFile{Name: attachments.CleanName(a.Name), Key: v.Fields[0].Key, Params: v.Fields[0].Params})
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		files = append(files, f)
	}
	return files, refused, nil
}
