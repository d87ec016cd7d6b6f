package wecomkf

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/careloop/careloop/internal/db"
)

// PageSize is the limit asked of kf/sync_msg (the platform's maximum).
const PageSize = 1000

// maxPages bounds one pull; the rest waits for the next callback or sweep.
const maxPages = 50

// Pulled is what a pull did.
type Pulled struct {
	Pages    int // pages whose messages were taken in
	Messages int // customer text messages that became tickets or replies
	Repeated int // customer messages already taken in (a page read again)
}

// Pull reads the 客服账号's new messages page by page (kf/sync_msg with
// the stored cursor and the latest callback's token) and takes them in.
// Each page's messages and the cursor's step are one transaction, and the
// step is a compare-and-set: when another server moved the cursor first,
// this page is dropped (the other took it) and the pull goes on from the
// new cursor. A msgid is claimed once, so a page read twice changes
// nothing.
func (s *Store) Pull(ctx context.Context, account, openKfID string) (Pulled, error) {
	var out Pulled
	a, err := s.open(ctx, account)
	if err != nil {
		return out, err
	}
	if !a.takes(openKfID) {
		return out, nil
	}
	q := s.db.Q(ctx)
	if _, err := q.ExecContext(ctx, `INSERT INTO wecomkf_cursors (account, open_kfid) VALUES ($1, $2) ON CONFLICT (account, open_kfid) DO NOTHING`,
		account, openKfID); err != nil {
		return out, fmt.Errorf("wecomkf: cursor: %w", err)
	}
	for range maxPages {
		var cursor, token string
		if err := q.QueryRowContext(ctx, `SELECT sync_cursor, token FROM wecomkf_cursors WHERE account = $1 AND open_kfid = $2`,
			account, openKfID).Scan(&cursor, &token); err != nil {
			return out, fmt.Errorf("wecomkf: cursor: %w", err)
		}
		ans, err := s.client.SyncMsg(ctx, a.credentials(), SyncRequest{Cursor: cursor, Token: token, Limit: PageSize, OpenKfID: openKfID})
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == CodeBadMsgToken && token != "" {
			// The callback's token lived 10 minutes; without one the
			// platform still answers, at a stricter rate.
			if _, err := q.ExecContext(ctx, `UPDATE wecomkf_cursors SET token = '' WHERE account = $1 AND open_kfid = $2 AND token = $3`,
				account, openKfID, token); err != nil {
				return out, err
			}
			continue
		}
		if err != nil {
			return out, fmt.Errorf("wecomkf: sync_msg %s/%s: %w", account, openKfID, err)
		}
		next := ans.NextCursor
		if next == "" {
			next = cursor // an empty page may carry no cursor: keep ours
		}
		moved := true
		err = s.db.WithTx(ctx, func(ctx context.Context) error {
			res, err := s.db.Q(ctx).ExecContext(ctx, `UPDATE wecomkf_cursors SET sync_cursor = $1, pulled_at = $2
				WHERE account = $3 AND open_kfid = $4 AND sync_cursor = $5`, next, db.Now(s.clock.Now()), account, openKfID, cursor)
			if err != nil {
				return fmt.Errorf("wecomkf: advance cursor: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				moved = false
				return nil
			}
			for _, m := range ans.MsgList {
				took, err := s.take(ctx, account, m)
				if err != nil {
					return err
				}
				switch took {
				case tookText:
					out.Messages++
				case tookNothing:
					out.Repeated++
				}
			}
			return nil
		})
		if err != nil {
			return out, err
		}
		if moved {
			out.Pages++
		}
		if moved && (ans.HasMore == 0 || next == cursor) {
			return out, nil
		}
	}
	return out, nil
}

// pending are the 客服账号 with a callback not older than their last pull
// (the same instant counts: one pull too many is harmless, one too few not):
// what the sweep pulls when a job was not enqueued or failed for good.
func (s *Store) pending(ctx context.Context) ([]PullArgs, error) {
	rows, err := s.db.RQ(ctx).QueryContext(ctx, `SELECT account, open_kfid FROM wecomkf_cursors
		WHERE token_at IS NOT NULL AND (pulled_at IS NULL OR pulled_at <= token_at) ORDER BY account, open_kfid`)
	if err != nil {
		return nil, fmt.Errorf("wecomkf: pending pulls: %w", err)
	}
	defer rows.Close()
	var out []PullArgs
	for rows.Next() {
		var p PullArgs
		if err := rows.Scan(&p.Account, &p.OpenKfID); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}
