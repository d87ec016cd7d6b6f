package wechat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/careloop/careloop/internal/attachments"
	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// The states of a wechat_media row.
const (
	MediaPending  = "pending"  // the download is to come (or being retried)
	MediaAttached = "attached" // the file is on the message
	MediaExpired  = "expired"  // the platform no longer has it (40007): nothing to retry
	MediaFailed   = "failed"   // it cannot be attached (too large, a type not allowed, retries spent)
)

// CodeInvalidMedia is the platform's answer for a media id it does not
// have (临时素材 live 3 days; an expired one is "invalid media_id").
const CodeInvalidMedia = 40007

// isMedia tells whether the message is an image or voice with its file.
func isMedia(m Message) bool {
	return (m.MsgType == "image" || m.MsgType == "voice") && m.MediaID != ""
}

// takes tells whether the message becomes a customer message: text, an
// image or a voice message, each with its MsgId (events have none).
func takes(m Message) bool {
	return m.MsgID != "" && (m.MsgType == "text" || isMedia(m))
}

// mediaBody is the message's text on the ticket: the platform's
// transcript of a voice message when it sent one, else 「[图片]」 or
// 「[语音]」 (the default language: it is the customer's message, stored
// once for every reader).
func (s *Store) mediaBody(m Message) string {
	if m.MsgType == "voice" && strings.TrimSpace(m.Recognition) != "" {
		return s.tr("wechat.voice") + " " + strings.TrimSpace(m.Recognition)
	}
	return s.tr("wechat." + m.MsgType)
}

// tr is a catalog message in the default language (the key itself without
// a catalog, as in tests of the store alone).
func (s *Store) tr(key string) string {
	if s.opts.Catalog == nil {
		return key
	}
	return s.opts.Catalog.T("zh-CN", key, nil)
}

// recordMedia remembers, in the callback's transaction, the file to fetch
// for the message just recorded; unique per account and MsgId, so a retry
// of the callback never asks for it twice.
func (s *Store) recordMedia(ctx context.Context, account string, m Message, res *Result) error {
	if len(m.MediaID) > 128 || len(m.Format) > 16 {
		return fmt.Errorf("%w: media id", ErrBadMessage)
	}
	err := s.db.Q(ctx).QueryRowContext(ctx, `INSERT INTO wechat_media (account, msg_id, ticket_id, message_id, kind, media_id, format, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (account, msg_id) DO NOTHING RETURNING id`,
		account, m.MsgID, res.TicketID, res.MessageID, m.MsgType, m.MediaID, strings.ToLower(m.Format), db.Now(s.clock.Now())).Scan(&res.MediaID)
	if err != nil {
		return fmt.Errorf("wechat: media row: %w", err)
	}
	return nil
}

// queueMedia enqueues the download job of row id. Without a queue (a
// server without jobs, the tests of the store) the row waits for
// FetchMedia; a failed insert is logged and the sweep enqueues it later.
func (s *Store) queueMedia(ctx context.Context, id int64) {
	if s.queue == nil {
		return
	}
	if err := s.queue(context.WithoutCancel(ctx), id); err != nil {
		slog.Default().WarnContext(ctx, "wechat: media job not queued (the sweep will)", "media", id, "error", err)
	}
}

// mediaRow is a wechat_media row.
type mediaRow struct {
	ID, TicketID, MessageID int64
	Account, Kind, MediaID  string
	Format, State           string
}

// errMediaNote is a failure that retrying cannot change: the row takes the
// state and its note (a catalog key) and the job ends.
type errMediaNote struct {
	state, note string
	err         error
}

func (e *errMediaNote) Error() string { return e.err.Error() }
func (e *errMediaNote) Unwrap() error { return e.err }

// FetchMedia downloads the file of wechat_media row id from the platform
// (the account's access token; at most the attachments' size limit) and
// attaches it to the customer's message. final says this is the last
// attempt the job gets: a failure then is recorded on the message instead
// of being retried. An expired media id (40007), a file too large or of a
// type not allowed are recorded at once. Any other error is returned for
// the job to retry with its backoff. A row already done is left alone, so
// two servers running the job attach the file once.
func (s *Store) FetchMedia(ctx context.Context, id int64, final bool) error {
	var r mediaRow
	err := s.db.RQ(ctx).QueryRowContext(ctx, `SELECT id, ticket_id, message_id, account, kind, media_id, format, state
		FROM wechat_media WHERE id = $1`, id).Scan(&r.ID, &r.TicketID, &r.MessageID, &r.Account, &r.Kind, &r.MediaID, &r.Format, &r.State)
	if err != nil {
		return fmt.Errorf("wechat media %d: %w", id, err)
	}
	if r.State != MediaPending {
		return nil
	}
	err = s.attachMedia(ctx, r)
	if err == nil {
		return nil
	}
	var note *errMediaNote
	switch {
	case errors.As(err, &note):
	case final:
		note = &errMediaNote{state: MediaFailed, note: "wechat.media.gave_up", err: err}
	default:
		if _, uerr := s.db.W.ExecContext(ctx, `UPDATE wechat_media SET attempts = attempts + 1, last_error = $1 WHERE id = $2`,
			clip(err.Error(), 500), id); uerr != nil {
			return errors.Join(err, uerr)
		}
		return err
	}
	_, uerr := s.db.W.ExecContext(ctx, `UPDATE wechat_media SET state = $1, note = $2, last_error = $3, attempts = attempts + 1, done_at = $4
		WHERE id = $5 AND state = $6`, note.state, note.note, clip(note.err.Error(), 500), db.Now(s.clock.Now()), id, MediaPending)
	return uerr
}

// attachMedia is one download and, in one transaction, the claim of the
// row and the attachment.
func (s *Store) attachMedia(ctx context.Context, r mediaRow) error {
	if s.opts.Files == nil { // rows are made only with Files (callback.go)
		return &errMediaNote{state: MediaFailed, note: "wechat.media.refused", err: errors.New("wechat media: attachments are not set up (no data directory)")}
	}
	_, cr, err := s.credentials(ctx, r.Account)
	if err != nil {
		return err
	}
	lim, err := s.opts.Files.Limits(ctx)
	if err != nil {
		return err
	}
	m, err := s.client.GetMedia(ctx, cr, r.MediaID, lim.MaxFileBytes)
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Code == CodeInvalidMedia:
		return &errMediaNote{state: MediaExpired, note: "wechat.media.expired_" + r.Kind, err: err}
	case errors.Is(err, ErrMediaTooLarge):
		return &errMediaNote{state: MediaFailed, note: "wechat.media.too_large", err: err}
	case err != nil:
		return err
	}
	a := audit.ActorFrom(ctx)
	a.Label = "wechat:" + r.Account
	ctx = audit.WithActor(ctx, a)
	st, err := s.opts.Files.Stage(ctx, mediaName(r, m), bytes.NewReader(m.Data))
	if err != nil {
		if _, ok := errors.AsType[*domain.ValidationError](err); ok {
			return &errMediaNote{state: MediaFailed, note: "wechat.media.refused", err: err}
		}
		return err
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE wechat_media SET state = $1, attempts = attempts + 1, last_error = '', done_at = $2
			WHERE id = $3 AND state = $4`, MediaAttached, db.Now(s.clock.Now()), r.ID, MediaPending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another server attached it meanwhile
		}
		err = s.tickets.AddMessageFiles(ctx, r.TicketID, r.MessageID, []attachments.Staged{st})
		if errors.Is(err, domain.ErrNotFound) {
			// The message is gone (the ticket deleted): nothing to attach to.
			_, err = s.db.Q(ctx).ExecContext(ctx, `UPDATE wechat_media SET state = $1, note = 'wechat.media.refused' WHERE id = $2`, MediaFailed, r.ID)
			return err
		}
		if _, ok := errors.AsType[*domain.ValidationError](err); ok {
			// Too many files on the message, attachments switched off.
			_, err = s.db.Q(ctx).ExecContext(ctx, `UPDATE wechat_media SET state = $1, note = 'wechat.media.refused' WHERE id = $2`, MediaFailed, r.ID)
			return err
		}
		return err
	})
}

// mediaName is the file's name: the platform's (MEDIA_ID.jpg), else one
// made from the kind and format, so that the attachments recognise it.
func mediaName(r mediaRow, m Media) string {
	if m.Filename != "" {
		return m.Filename
	}
	ext := map[string]string{"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "audio/amr": "amr", "audio/mpeg": "mp3"}[m.ContentType]
	if ext == "" && r.Kind == "voice" && r.Format != "" {
		ext = r.Format
	}
	if ext == "" {
		ext = "jpg"
	}
	return r.Kind + "-" + r.MediaID + "." + ext
}
