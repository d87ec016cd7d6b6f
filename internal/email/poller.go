package email

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/db"
)

// PollOptions tune the poller.
type PollOptions struct {
	// Lease is how long a claim of a mailbox holds (10 min), renewed after
	// every batch of mails; longer than any batch takes.
	Lease time.Duration
	// MaxTime is how long one poll of a mailbox goes on taking mail
	// (3 min); what is left waits for the next poll, which starts where
	// this one stopped.
	MaxTime time.Duration
	// Timeout is the network deadline of one poll's connection (5 min),
	// so a server that hangs holds up only its own mailbox.
	Timeout time.Duration
	// BatchMails and BatchBytes bound one FETCH of whole mails (50 mails,
	// 32 MB); the position is saved after each.
	BatchMails int
	BatchBytes int64
	// Name is this server in poll_lease_owner (host:pid:random).
	Name string
	// TLS is the TLS configuration (nil: the system's roots; tests trust
	// their own certificate).
	TLS *tls.Config
}

func (o *PollOptions) defaults() {
	if o.Lease <= 0 {
		o.Lease = 10 * time.Minute
	}
	if o.MaxTime <= 0 {
		o.MaxTime = 3 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.BatchMails <= 0 {
		o.BatchMails = 50
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 32 << 20
	}
	if o.Name == "" {
		h, _ := os.Hostname()
		var b [3]byte
		_, _ = rand.Read(b[:])
		o.Name = h + ":" + strconv.Itoa(os.Getpid()) + ":" + hex.EncodeToString(b[:])
	}
}

// Poller reads the company's mailboxes over IMAP and hands each new mail to
// the intake. One server polls a mailbox at a time: a poll first takes the
// mailbox's lease (poll_lease_owner / poll_lease_until, a conditional
// UPDATE like the outbox's claim) and records its progress only while it
// holds it. Mails are read with BODY.PEEK, so the folder is left as it was
// (nothing marked seen, moved or deleted): the position (UIDVALIDITY and
// the last UID taken) says where to go on, and the intake's once-per-mail
// record makes a mail read twice (a crash before the position was saved, a
// new UIDVALIDITY) change nothing.
type Poller struct {
	db        *db.DB
	clock     clock.Clock
	mailboxes *Mailboxes
	intake    *Intake
	log       *slog.Logger
	opts      PollOptions
}

// NewPoller builds the poller; RunOnce polls what is due, Jobs runs it
// periodically under `careloop serve`.
func NewPoller(d *db.DB, c clock.Clock, m *Mailboxes, in *Intake, log *slog.Logger, o PollOptions) *Poller {
	o.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{db: d, clock: c, mailboxes: m, intake: in, log: log, opts: o}
}

// PollReport is what one poll of one mailbox did.
type PollReport struct {
	MailboxID  int64
	Fetched    int // mails read from the server
	Taken      int // of them, recorded now (tickets, appends, auto-replies…)
	Duplicates int // of them, taken in before: nothing changed
	Refused    int // recorded as rejected (too large, unreadable)
	Err        error
}

// due lists the active mailboxes with an IMAP server whose interval has
// passed.
func (p *Poller) due(ctx context.Context) ([]int64, error) {
	now := p.clock.Now()
	rows, err := p.db.R.QueryContext(ctx, `SELECT id, poll_interval, last_polled_at, poll_lease_until FROM mailboxes
		WHERE active AND imap_host <> '' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("poll: due mailboxes: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		var every int
		var last, lease sql.NullTime
		if err := rows.Scan(&id, &every, &last, &lease); err != nil {
			return nil, err
		}
		if lease.Valid && lease.Time.After(now) {
			continue // another poll holds it
		}
		if !last.Valid || !last.Time.Add(time.Duration(every)*time.Second).After(now) {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// RunOnce polls every mailbox that is due and free, one after another, and
// reports each poll. A mailbox's failure (its server refuses the login,
// hangs…) is its report's Err and its last_error; the others go on.
func (p *Poller) RunOnce(ctx context.Context) ([]PollReport, error) {
	ids, err := p.due(ctx)
	if err != nil {
		return nil, err
	}
	var out []PollReport
	for _, id := range ids {
		rep, err := p.Poll(ctx, id)
		if errors.Is(err, errLeaseHeld) {
			continue
		}
		if err != nil && ctx.Err() != nil {
			return out, ctx.Err()
		}
		out = append(out, rep)
	}
	return out, nil
}

var errLeaseHeld = errors.New("another poll holds the mailbox")

// claim takes the mailbox's lease for this poller.
func (p *Poller) claim(ctx context.Context, id int64) (bool, error) {
	now := db.Now(p.clock.Now())
	res, err := p.db.Q(ctx).ExecContext(ctx, `UPDATE mailboxes SET poll_lease_until = $1, poll_lease_owner = $2
		WHERE id = $3 AND active AND imap_host <> '' AND (poll_lease_until IS NULL OR poll_lease_until <= $4)`,
		now.Add(p.opts.Lease), p.opts.Name, id, now)
	if err != nil {
		return false, fmt.Errorf("poll: claim mailbox %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// advance saves the folder's position and renews the lease, only while
// this poller holds it; false when the lease was lost (it ran out and
// another server took the mailbox).
func (p *Poller) advance(ctx context.Context, id int64, validity, last uint32) (bool, error) {
	now := db.Now(p.clock.Now())
	res, err := p.db.Q(ctx).ExecContext(ctx, `UPDATE mailboxes SET uid_validity = $1, last_uid = $2, poll_lease_until = $3
		WHERE id = $4 AND poll_lease_owner = $5 AND poll_lease_until > $6`,
		int64(validity), int64(last), now.Add(p.opts.Lease), id, p.opts.Name, now)
	if err != nil {
		return false, fmt.Errorf("poll: save position of mailbox %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// release gives the lease back with the poll's outcome.
func (p *Poller) release(ctx context.Context, id int64, pollErr error) error {
	msg := ""
	if pollErr != nil {
		msg = clip(pollErr.Error(), 1000)
	}
	_, err := p.db.Q(ctx).ExecContext(ctx, `UPDATE mailboxes SET poll_lease_until = NULL, poll_lease_owner = '', last_polled_at = $1, last_error = $2
		WHERE id = $3 AND poll_lease_owner = $4`, db.Now(p.clock.Now()), msg, id, p.opts.Name)
	return err
}

// Poll polls mailbox id now, whatever its interval, unless another poll
// holds it (then errLeaseHeld and nothing is done).
func (p *Poller) Poll(ctx context.Context, id int64) (PollReport, error) {
	rep := PollReport{MailboxID: id}
	ok, err := p.claim(ctx, id)
	if err != nil {
		return rep, err
	}
	if !ok {
		return rep, errLeaseHeld
	}
	rep.Err = p.poll(ctx, id, &rep)
	if rep.Err != nil {
		p.log.Warn("mailbox poll failed", "mailbox", id, "err", rep.Err)
	}
	if err := p.release(context.WithoutCancel(ctx), id, rep.Err); err != nil {
		return rep, err
	}
	return rep, rep.Err
}

// account reads what a poll needs of the mailbox: its settings with the
// IMAP password unsealed, and the folder's position.
func (p *Poller) account(ctx context.Context, id int64) (Mailbox, uint32, uint32, error) {
	m, err := p.mailboxes.Get(ctx, id)
	if err != nil {
		return m, 0, 0, err
	}
	var sealed string
	var validity, last int64
	if err := p.db.R.QueryRowContext(ctx, `SELECT imap_password, uid_validity, last_uid FROM mailboxes WHERE id = $1`, id).
		Scan(&sealed, &validity, &last); err != nil {
		return m, 0, 0, err
	}
	if m.IMAP.Password, err = p.mailboxes.sealer.Open(sealed); err != nil {
		return m, 0, 0, fmt.Errorf("the IMAP password: %w", err)
	}
	return m, uint32(validity), uint32(last), nil
}
