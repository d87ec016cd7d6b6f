package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/timeline"
)

// Files of replies and notes. The bytes and their checks are
// internal/attachments'; a ticket's files are rows of its attachments table
// with the entity EntityMessage (a row of ticket_messages: a reply or a
// customer's message) or EntityNote (a row of ticket_notes: staff only).
// They hang on the message, not on the ticket, so a merge, which moves the
// messages, moves their files too, and a note's files are reached only
// through the note: Messages, the customer-facing read, never lists them,
// and OpenReplyAttachment never opens them.

// Entities of a ticket's attachments.
const (
	EntityMessage = "ticket_message"
	EntityNote    = "ticket_note"
)

// Events of attachments (no timeline line for adding: the reply's or
// note's own line says it).
const (
	EventAttachmentsAdded  = "ticket.attachments_added"
	EventAttachmentDeleted = "ticket.attachment_deleted"
)

// KeyAttachmentsOff is the refusal of files when the server keeps none (no
// data directory).
const KeyAttachmentsOff = "tkt.attach.unavailable"

// UseAttachments gives the store the files of messages; without it a post
// with files is refused.
func (s *Store) UseAttachments(a *attachments.Store) { s.files = a }

// Attachments is the attachment store (nil when there is none), for the
// handlers that stage uploads before AddPostWithFiles.
func (s *Store) Attachments() *attachments.Store { return s.files }

// AddPostWithFiles is AddPost with files staged by the handler (outside any
// transaction, while they arrived): the message and its attachments are
// written in one transaction, so a refused file (one too many) leaves no
// message, and a refused message no attachment row. Their event
// EventAttachmentsAdded names the message and the attachments' ids.
func (s *Store) AddPostWithFiles(ctx context.Context, p *identity.Principal, ticketID int64, in Post, files []attachments.Staged) (Message, Note, error) {
	if len(files) == 0 {
		return s.AddPost(ctx, p, ticketID, in)
	}
	if s.files == nil {
		return Message{}, Note{}, domain.Invalid(attachments.Field, KeyAttachmentsOff, nil)
	}
	var msg Message
	var note Note
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		var err error
		if msg, note, err = s.AddPost(ctx, p, ticketID, in); err != nil {
			return err
		}
		entity, id, key := EntityMessage, msg.ID, "message_id"
		if in.Internal {
			entity, id, key = EntityNote, note.ID, "note_id"
		}
		list := make([]attachments.Attachment, 0, len(files))
		ids := make([]int64, 0, len(files))
		for _, f := range files {
			a, err := s.files.Record(ctx, entity, id, f)
			if err != nil {
				return err
			}
			list = append(list, a)
			ids = append(ids, a.ID)
		}
		t, err := s.lockForUpdate(ctx, p, ticketID)
		if err != nil {
			return err
		}
		if err := s.emit(ctx, t, EventAttachmentsAdded, map[string]any{key: id, "attachment_ids": ids}); err != nil {
			return err
		}
		msg.Attachments, note.Attachments = list, list
		return nil
	})
	if err != nil {
		return Message{}, Note{}, fmt.Errorf("ticket post with files: %w", err)
	}
	if in.Internal {
		msg.Attachments = nil
	} else {
		note.Attachments = nil
	}
	return msg, note, nil
}

// messageFiles fills in the attachments of replies and customer messages.
func (s *Store) messageFiles(ctx context.Context, msgs []Message) error {
	if s.files == nil || len(msgs) == 0 {
		return nil
	}
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	byID, err := s.files.ListMany(ctx, EntityMessage, ids)
	if err != nil {
		return err
	}
	for i := range msgs {
		msgs[i].Attachments = byID[msgs[i].ID]
	}
	return nil
}

// noteFiles fills in the attachments of internal notes.
func (s *Store) noteFiles(ctx context.Context, notes []Note) error {
	if s.files == nil || len(notes) == 0 {
		return nil
	}
	ids := make([]int64, len(notes))
	for i, n := range notes {
		ids[i] = n.ID
	}
	byID, err := s.files.ListMany(ctx, EntityNote, ids)
	if err != nil {
		return err
	}
	for i := range notes {
		notes[i].Attachments = byID[notes[i].ID]
	}
	return nil
}

// attachment returns attachment id if it is a file of ticket ticketID: of
// one of its messages, or with notes of one of its notes. Anything else,
// another ticket's file included, is not found.
func (s *Store) attachment(ctx context.Context, ticketID, id int64, notes bool) (attachments.Attachment, error) {
	notFound := fmt.Errorf("ticket %d attachment %d: %w", ticketID, id, domain.ErrNotFound)
	if s.files == nil {
		return attachments.Attachment{}, notFound
	}
	a, err := s.files.Get(ctx, id)
	if err != nil {
		return attachments.Attachment{}, err
	}
	var q string
	switch {
	case a.Entity == EntityMessage:
		q = `SELECT ticket_id FROM ticket_messages WHERE id = $1`
	case a.Entity == EntityNote && notes:
		q = `SELECT ticket_id FROM ticket_notes WHERE id = $1`
	default:
		return attachments.Attachment{}, notFound
	}
	var owner int64
	err = s.db.RQ(ctx).QueryRowContext(ctx, q, a.EntityID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != ticketID) {
		return attachments.Attachment{}, notFound
	}
	if err != nil {
		return attachments.Attachment{}, err
	}
	return a, nil
}

// Attachment returns the metadata of a file of a ticket p may see (of a
// message or an internal note: a staff read).
func (s *Store) Attachment(ctx context.Context, p *identity.Principal, ticketID, id int64) (attachments.Attachment, error) {
	if err := s.Visible(ctx, p, ticketID); err != nil {
		return attachments.Attachment{}, err
	}
	return s.attachment(ctx, ticketID, id, !p.IsPortal())
}

// OpenAttachment returns a file of a ticket p may see and its bytes, which
// the caller closes: a staff read, notes' files included.
func (s *Store) OpenAttachment(ctx context.Context, p *identity.Principal, ticketID, id int64) (attachments.Attachment, io.ReadSeekCloser, error) {
	return s.open(ctx, p, ticketID, id, true)
}

// OpenReplyAttachment is OpenAttachment for a path that can reach the
// customer: files of replies and customer messages only, a note's file is
// not found.
func (s *Store) OpenReplyAttachment(ctx context.Context, p *identity.Principal, ticketID, id int64) (attachments.Attachment, io.ReadSeekCloser, error) {
	return s.open(ctx, p, ticketID, id, false)
}

func (s *Store) open(ctx context.Context, p *identity.Principal, ticketID, id int64, notes bool) (attachments.Attachment, io.ReadSeekCloser, error) {
	notes = notes && !p.IsPortal() // a customer never opens a note's file
	if err := s.Visible(ctx, p, ticketID); err != nil {
		return attachments.Attachment{}, nil, err
	}
	if _, err := s.attachment(ctx, ticketID, id, notes); err != nil {
		return attachments.Attachment{}, nil, err
	}
	return s.files.Open(ctx, id)
}

// DeleteAttachment removes a file of a ticket (marked deleted by the
// attachment store, which audits attachment.delete), for staff who may
// edit the ticket: audited on the ticket as ticket.attachment_delete, with
// an EventAttachmentDeleted and a line on the customer's timeline (which
// names no file: a note's file name is staff-only).
func (s *Store) DeleteAttachment(ctx context.Context, p *identity.Principal, ticketID, id int64) error {
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		t, err := s.lockForUpdate(ctx, p, ticketID)
		if err != nil {
			return err
		}
		if p != nil && !p.Can(identity.TicketsEdit) {
			return fmt.Errorf("delete attachment: %w", domain.ErrForbidden)
		}
		a, err := s.attachment(ctx, ticketID, id, true)
		if err != nil {
			return err
		}
		if err := s.files.Delete(ctx, id); err != nil {
			return err
		}
		key := "message_id"
		if a.Entity == EntityNote {
			key = "note_id"
		}
		if _, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE tickets SET updated_at = $1 WHERE id = $2`, db.Now(s.clock.Now()), t.ID); err != nil {
			return err
		}
		if err := s.audit.Record(ctx, "ticket.attachment_delete", "ticket", strconv.FormatInt(t.ID, 10), map[string]audit.Change{
			"attachment_id": {Before: a.ID}, key: {Before: a.EntityID}, "filename": {Before: a.Filename}}); err != nil {
			return err
		}
		if err := s.emit(ctx, t, EventAttachmentDeleted, map[string]any{"attachment_id": a.ID, key: a.EntityID}); err != nil {
			return err
		}
		return s.timeline.Append(ctx, timeline.Event{CustomerID: t.CustomerID, Kind: EventAttachmentDeleted,
			Key: "timeline.ticket_attachment_deleted", Params: map[string]any{"Number": t.Number, "Subject": t.Subject},
			Entity: "ticket", EntityID: strconv.FormatInt(t.ID, 10)})
	})
	if err != nil {
		return fmt.Errorf("delete ticket attachment: %w", err)
	}
	return nil
}
