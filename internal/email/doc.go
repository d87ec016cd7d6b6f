// Package email is the email channel: mailboxes (IMAP in, SMTP out, their
// passwords sealed with the server's secret key), mail taken in as tickets
// or as replies on the right ticket, and agents' replies sent through the
// outbox (internal/notify) with threading headers.
//
// Invariants:
//   - A mail is taken in once per mailbox and Message-ID (email_inbound's
//     unique key), also when two servers poll the same mailbox.
//   - A mail appends to a ticket only when its sender is that ticket's
//     customer: a forged In-Reply-To naming another customer's ticket makes
//     a new ticket.
//   - Auto-replies, bounces and loops are recorded and never answered; a
//     mail that opens a ticket gets one automatic acknowledgement (once per
//     ticket), an append none.
//   - Every Message-ID of a ticket's thread, ours and theirs, is in
//     email_threads, so replies find their ticket by header first, then by
//     the ticket number in the subject.
package email

import "time"

// Server is where a mailbox connects for one protocol.
type Server struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Security string `json:"security"` // "tls" (implicit), "starttls" or "none" (loopback and tests)
	Username string `json:"username"`
	Password string `json:"-"` // never in JSON; sealed at rest
}

// Mailbox is one address the company receives and sends mail at.
type Mailbox struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Address string `json:"address"`
	IMAP    Server `json:"imap"`
	Folder  string `json:"folder"` // IMAP folder to take mail from (INBOX)
	SMTP    Server `json:"smtp"`
	TeamID  *int64 `json:"team_id,omitempty"` // tickets from this mailbox go to this team
	// CategoryID is the category new tickets from this mailbox get.
	CategoryID *int64 `json:"category_id,omitempty"`
	IsDefault  bool   `json:"is_default"` // sends staff notifications and replies of tickets from elsewhere
	Active     bool   `json:"active"`
	// PollInterval is how often the IMAP folder is read, in seconds (60).
	PollInterval int        `json:"poll_interval_seconds"`
	LastPolledAt *time.Time `json:"last_polled_at,omitempty"`
	LastError    string     `json:"last_error,omitempty"` // of the last poll; empty when it went well
	// Poll is the intake's state, in the answer for one mailbox
	// (GET /api/v1/mailboxes/{id}) only.
	Poll *PollStatus `json:"poll,omitempty"`
}
