package email

import (
	"html"
	"regexp"
	"slices"
	"strings"
)

// Outcomes of a mail taken in (email_inbound.outcome).
const (
	OutcomeTicket    = "ticket"     // it opened a ticket
	OutcomeAppend    = "append"     // it joined a ticket's thread
	OutcomeAutoReply = "auto_reply" // an out-of-office or other automatic answer: recorded, never answered
	OutcomeBounce    = "bounce"     // a delivery failure report
	OutcomeLoop      = "loop"       // our own mail, or mail from ourselves
	OutcomeRejected  = "rejected"   // too large, unreadable
)

var autoSubjectRE = regexp.MustCompile(`(?i)^(自动回复|自動回覆|auto(matic)?[ -]?repl(y|ied)|out of (the )?office|休假|不在办公室)`)

// Classify tells whether m must not become a ticket or an append, and why:
// auto-replies, bounces and loops are recorded and never answered (an
// answer to an auto-responder starts a mail storm). ours are the company's
// mailbox addresses.
func Classify(m *Mail, ours []string) (outcome, reason string) {
	if m.Header("X-Careloop-Loop") != "" {
		return OutcomeLoop, "X-Careloop-Loop"
	}
	if slices.Contains(ours, m.From) {
		return OutcomeLoop, "from our own mailbox " + m.From
	}
	ct := strings.ToLower(m.Header("Content-Type"))
	local := m.From
	if i := strings.IndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	switch {
	case strings.Contains(ct, "multipart/report") && strings.Contains(ct, "delivery-status"):
		return OutcomeBounce, "multipart/report delivery-status"
	case local == "mailer-daemon" || local == "postmaster":
		return OutcomeBounce, "sender " + m.From
	case strings.TrimSpace(m.Header("Return-Path")) == "<>":
		return OutcomeBounce, "empty Return-Path"
	}
	if v := strings.ToLower(strings.TrimSpace(m.Header("Auto-Submitted"))); v != "" && v != "no" {
		return OutcomeAutoReply, "Auto-Submitted: " + v
	}
	switch strings.ToLower(strings.TrimSpace(m.Header("Precedence"))) {
	case "bulk", "junk", "list", "auto_reply":
		return OutcomeAutoReply, "Precedence: " + m.Header("Precedence")
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond"} {
		if m.Header(k) != "" {
			return OutcomeAutoReply, k
		}
	}
	if autoSubjectRE.MatchString(strings.TrimSpace(m.Subject)) {
		return OutcomeAutoReply, "subject"
	}
	return "", ""
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }
