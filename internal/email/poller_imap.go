package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message"

	"github.com/careloop/careloop/internal/attachments"
)

// dial connects to the mailbox's IMAP server as its security says: TLS at
// once, STARTTLS, or plain, which sends a password to a loopback server
// only (a relay on the same machine, tests).
func (p *Poller) dial(ctx context.Context, s Server) (*imapclient.Client, func(), error) {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	if s.Security == "none" && s.Username != "" && !loopback(s.Host) {
		return nil, nil, fmt.Errorf("imap %s: refusing to send the password unencrypted to a server that is not on this machine (use tls or starttls)", addr)
	}
	d := net.Dialer{Timeout: 15 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("imap %s: %w", addr, err)
	}
	_ = raw.SetDeadline(time.Now().Add(p.opts.Timeout))
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	done := func() { stop(); _ = raw.Close() }
	tcfg := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	if p.opts.TLS != nil {
		tcfg = p.opts.TLS.Clone()
		if tcfg.ServerName == "" {
			tcfg.ServerName = s.Host
		}
	}
	opts := &imapclient.Options{WordDecoder: &mime.WordDecoder{CharsetReader: message.CharsetReader}, TLSConfig: tcfg}
	var c *imapclient.Client
	switch s.Security {
	case "tls":
		c = imapclient.New(tls.Client(raw, tcfg), opts)
	case "starttls":
		if c, err = imapclient.NewStartTLS(raw, opts); err != nil {
			done()
			return nil, nil, fmt.Errorf("imap %s: STARTTLS: %w", addr, err)
		}
	default:
		c = imapclient.New(raw, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		done()
		return nil, nil, fmt.Errorf("imap %s: greeting: %w", addr, err)
	}
	return c, func() { _ = c.Close(); done() }, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fetched is a mail of the folder: its UID and size, and its bytes once
// read.
type fetched struct {
	uid  imap.UID
	size int64
}

// poll reads the mailbox's folder from its position on and takes in each
// new mail, saving the position after each batch.
func (p *Poller) poll(ctx context.Context, id int64, rep *PollReport) error {
	mb, validity, last, err := p.account(ctx, id)
	if err != nil {
		return err
	}
	c, closeConn, err := p.dial(ctx, mb.IMAP)
	if err != nil {
		return err
	}
	defer closeConn()
	if mb.IMAP.Username != "" {
		if err := c.Login(mb.IMAP.Username, mb.IMAP.Password).Wait(); err != nil {
			return fmt.Errorf("imap %s: login as %s: %w", mb.IMAP.Host, mb.IMAP.Username, err)
		}
	}
	sel, err := c.Select(mb.Folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("imap %s: open folder %q: %w", mb.IMAP.Host, mb.Folder, err)
	}
	if sel.UIDValidity != validity {
		if validity != 0 {
			// The server renumbered the folder: read it all again; mails
			// taken in before are known by their Message-ID.
			p.log.Info("mailbox folder renumbered (UIDVALIDITY changed); reading it again", "mailbox", id, "was", validity, "now", sel.UIDValidity)
		}
		validity, last = sel.UIDValidity, 0
		if ok, err := p.advance(ctx, id, validity, last); err != nil || !ok {
			return leaseLost(err)
		}
	}
	if sel.NumMessages == 0 || (sel.UIDNext != 0 && uint32(sel.UIDNext) <= last+1) {
		return nil
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	list, err := c.Fetch(set, &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("imap %s: list new mail: %w", mb.IMAP.Host, err)
	}
	var mails []fetched
	for _, m := range list {
		if uint32(m.UID) > last { // "n:*" names the last mail even when it is older than n
			mails = append(mails, fetched{uid: m.UID, size: m.RFC822Size})
		}
	}
	slices.SortFunc(mails, func(a, b fetched) int { return int(a.uid) - int(b.uid) })
	start := time.Now()
	for len(mails) > 0 {
		if time.Since(start) > p.opts.MaxTime {
			break // the rest next time
		}
		n, bytes := 0, int64(0)
		for n < len(mails) && n < p.opts.BatchMails && (n == 0 || bytes+mails[n].size <= p.opts.BatchBytes) {
			bytes += mails[n].size
			n++
		}
		batch := mails[:n]
		mails = mails[n:]
		upTo, err := p.batch(ctx, c, mb, batch, rep)
		if upTo > imap.UID(last) {
			last = uint32(upTo)
			if ok, aerr := p.advance(ctx, id, validity, last); aerr != nil || !ok {
				return errors.Join(err, leaseLost(aerr))
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func leaseLost(err error) error {
	if err != nil {
		return err
	}
	return errors.New("the mailbox's lease ran out and another server took it")
}

// batch fetches and takes in one batch of mails, in UID order, and returns
// the UID up to which every mail of it is done (taken in, or gone from the
// folder).
func (p *Poller) batch(ctx context.Context, c *imapclient.Client, mb Mailbox, batch []fetched, rep *PollReport) (imap.UID, error) {
	limit := p.intake.maxMail()
	var small, big imap.UIDSet
	for _, m := range batch {
		if m.size > limit {
			big.AddNum(m.uid)
		} else {
			small.AddNum(m.uid)
		}
	}
	bodies := map[imap.UID][]byte{}
	headers := map[imap.UID][]byte{}
	if len(small) > 0 {
		if err := fetchSections(c, small, &imap.FetchItemBodySection{Peek: true}, limit, bodies); err != nil {
			return 0, fmt.Errorf("imap %s: fetch mail: %w", mb.IMAP.Host, err)
		}
	}
	if len(big) > 0 {
		if err := fetchSections(c, big, &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}, 256<<10, headers); err != nil {
			return 0, fmt.Errorf("imap %s: fetch header: %w", mb.IMAP.Host, err)
		}
	}
	var done imap.UID
	for _, m := range batch {
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		var res Result
		var err error
		switch raw, ok := bodies[m.uid]; {
		case m.size > limit:
			h, found := headers[m.uid]
			if !found {
				done = m.uid // gone from the folder meanwhile
				continue
			}
			res, err = p.intake.Refuse(ctx, mb, uint32(m.uid), h, m.size,
				fmt.Sprintf("larger than %s (%s)", attachments.FormatSize(limit), attachments.FormatSize(m.size)))
		case !ok:
			done = m.uid // gone from the folder meanwhile
			continue
		default:
			res, err = p.take(ctx, mb, uint32(m.uid), raw)
		}
		if err != nil {
			return done, err
		}
		rep.Fetched++
		switch {
		case res.Duplicate:
			rep.Duplicates++
		case res.Outcome == OutcomeRejected:
			rep.Refused++
			rep.Taken++
		default:
			rep.Taken++
		}
		done = m.uid
	}
	return done, nil
}

// take hands a mail to the intake; a mail that fails twice for a reason
// of its own (not the context's) is recorded as rejected with the error,
// so one bad mail does not hold up the mailbox for ever. If even that
// record fails (the database is away), the poll stops there and the next
// one takes the mail again.
func (p *Poller) take(ctx context.Context, mb Mailbox, uid uint32, raw []byte) (Result, error) {
	var res Result
	var err error
	for range 2 {
		if res, err = p.safeTake(ctx, mb, uid, raw); err == nil || ctx.Err() != nil {
			return res, err
		}
	}
	p.log.Error("mail could not be taken in; recorded as rejected", "mailbox", mb.ID, "uid", uid, "err", err)
	return p.intake.Refuse(ctx, mb, uid, raw[:headerEnd(raw, 64<<10)], int64(len(raw)), "could not be taken in: "+err.Error())
}

func (p *Poller) safeTake(ctx context.Context, mb Mailbox, uid uint32, raw []byte) (res Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("intake panicked: %v", v)
		}
	}()
	return p.intake.Take(ctx, mb, uid, raw)
}

// fetchSections fetches one body section of each mail of set into out,
// reading at most max bytes of one (a larger literal is left out).
func fetchSections(c *imapclient.Client, set imap.UIDSet, section *imap.FetchItemBodySection, max int64, out map[imap.UID][]byte) error {
	cmd := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		var uid imap.UID
		var body []byte
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = it.UID
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil || it.Literal.Size() > max {
					continue
				}
				b, err := io.ReadAll(io.LimitReader(it.Literal, max+1))
				if err != nil {
					_ = cmd.Close()
					return err
				}
				body = b
			}
		}
		if uid != 0 && body != nil {
			out[uid] = body
		}
	}
	return cmd.Close()
}
