package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
)

// Notification is one in-app notice of a staff member: what the bell counts
// and /notifications lists.
type Notification struct {
	ID     int64  `json:"id"`
	UserID int64  `json:"-"`
	Kind   string `json:"kind"` // staff.assigned, staff.mentioned…
	// Title is the notice in the reader's language (from TitleKey and
	// Params when the catalog has the key, else as written at delivery).
	Title     string         `json:"title"`
	TitleKey  string         `json:"title_key,omitempty"`
	Params    map[string]any `json:"params,omitempty"`
	Link      string         `json:"link,omitempty"`
	Entity    string         `json:"entity,omitempty"`
	EntityID  string         `json:"entity_id,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	ReadAt    *time.Time     `json:"read_at"`
}

// InAppData is an in-app outbox row's Data: the catalog key and parameters
// of the title, and where a click leads (a path on this server).
type InAppData struct {
	Key    string         `json:"key"`
	Params map[string]any `json:"params,omitempty"`
	Link   string         `json:"link,omitempty"`
}

// Inbox keeps the staff's in-app notifications and their preferences.
// Every method is scoped to one user id: the caller's.
type Inbox struct {
	db    *db.DB
	clock clock.Clock
	audit *audit.Log
}

// NewInbox builds the inbox store.
func NewInbox(d *db.DB, c clock.Clock, a *audit.Log) *Inbox { return &Inbox{db: d, clock: c, audit: a} }

// Channel is the outbox's inapp channel: delivering a row writes its
// notification.
func (i *Inbox) Channel() Channel { return inApp{i} }

type inApp struct{ i *Inbox }

func (inApp) Name() string { return ChannelInApp }

// Local implements Local: a notification is a row in this database.
func (inApp) Local() {}

// Deliver writes the notification of m, once per outbox row: a row
// delivered again (its lease ran out) finds its notification there.
func (c inApp) Deliver(ctx context.Context, m *Message) (string, error) {
	if m.UserID == 0 {
		return "", Permanent(errors.New("an in-app message needs a user"))
	}
	var d InAppData
	if len(m.Data) > 0 {
		if err := json.Unmarshal(m.Data, &d); err != nil {
			return "", Permanent(fmt.Errorf("in-app data: %w", err))
		}
	}
	if !strings.HasPrefix(d.Link, "/") || strings.HasPrefix(d.Link, "//") {
		d.Link = "" // only a path on this server
	}
	params, err := json.Marshal(d.Params)
	if err != nil || d.Params == nil {
		params = []byte("{}")
	}
	q := c.i.db.Q(ctx)
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO notifications (user_id, kind, title_key, params, title, link, entity, entity_id, outbox_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (outbox_id) DO NOTHING RETURNING id`,
		m.UserID, m.Kind, d.Key, string(params), m.Subject, d.Link, m.Entity, m.EntityID, m.ID, db.Now(c.i.clock.Now())).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRowContext(ctx, `SELECT id FROM notifications WHERE outbox_id = $1`, m.ID).Scan(&id)
	}
	if err != nil {
		return "", fmt.Errorf("in-app notification: %w", err)
	}
	return fmt.Sprintf("notification:%d", id), nil
}

// ListOptions select a page of notifications.
type ListOptions struct {
	Unread bool  // only unread ones
	Before int64 // keyset: ids below this one (0: from the newest)
	Limit  int   // at most (default 30, at most 100)
}

const notificationCols = `id, user_id, kind, title_key, params, title, link, entity, entity_id, created_at, read_at`

// List returns userID's notifications, newest first.
func (i *Inbox) List(ctx context.Context, userID int64, o ListOptions) ([]Notification, error) {
	if o.Limit <= 0 || o.Limit > 100 {
		o.Limit = 30
	}
	where := `user_id = $1`
	args := []any{userID}
	if o.Unread {
		where += ` AND read_at IS NULL`
	}
	if o.Before > 0 {
		args = append(args, o.Before)
		where += fmt.Sprintf(` AND id < $%d`, len(args))
	}
	args = append(args, o.Limit)
	rows, err := i.db.RQ(ctx).QueryContext(ctx, `SELECT `+notificationCols+` FROM notifications WHERE `+where+
		fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var params string
		var read sql.NullTime
		if err := rows.Scan(&n.ID, &n.UserID, &n.Kind, &n.TitleKey, &params, &n.Title, &n.Link, &n.Entity, &n.EntityID, &n.CreatedAt, &read); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(params), &n.Params)
		n.CreatedAt = n.CreatedAt.UTC()
		if read.Valid {
			t := read.Time.UTC()
			n.ReadAt = &t
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Get returns one of userID's notifications.
func (i *Inbox) Get(ctx context.Context, userID, id int64) (Notification, error) {
	list, err := i.List(ctx, userID, ListOptions{Before: id + 1, Limit: 1})
	if err != nil {
		return Notification{}, err
	}
	if len(list) == 0 || list[0].ID != id {
		return Notification{}, fmt.Errorf("notification %d: %w", id, domain.ErrNotFound)
	}
	return list[0], nil
}

// MaxUnreadCount caps UnreadCount: the bell shows "99+" long before, and
// a page load never counts a neglected inbox's every row.
const MaxUnreadCount = 1000

// UnreadCount is the bell's number, at most MaxUnreadCount: one index
// range (notifications_unread).
func (i *Inbox) UnreadCount(ctx context.Context, userID int64) (int, error) {
	var n int
	err := i.db.RQ(ctx).QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM notifications WHERE user_id = $1 AND read_at IS NULL LIMIT $2) u`,
		userID, MaxUnreadCount).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("unread notifications: %w", err)
	}
	return n, nil
}

// MaxMarkIDs is how many ids one MarkRead takes.
const MaxMarkIDs = 500

// MarkRead marks userID's notifications read: the given ids (others' ids
// are ignored) or, with all, every unread one. It returns how many changed.
func (i *Inbox) MarkRead(ctx context.Context, userID int64, ids []int64, all bool) (int64, error) {
	if !all && len(ids) == 0 {
		return 0, domain.Invalid("ids", "validation.required", nil)
	}
	if len(ids) > MaxMarkIDs {
		return 0, domain.Invalid("ids", "validation.notify_too_many", map[string]any{"Max": MaxMarkIDs})
	}
	now := db.Now(i.clock.Now())
	q := i.db.Q(ctx)
	var res sql.Result
	var err error
	if all {
		res, err = q.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL`, now, userID)
	} else {
		args := []any{now, userID}
		marks := make([]string, len(ids))
		for k, id := range ids {
			args = append(args, id)
			marks[k] = fmt.Sprintf("$%d", k+3)
		}
		res, err = q.ExecContext(ctx, `UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL AND id IN (`+
			strings.Join(marks, ", ")+`)`, args...)
	}
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
