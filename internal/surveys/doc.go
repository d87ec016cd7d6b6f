// Package surveys is the survey after every case (满意度回访, issue 15):
// a resolved ticket plans a survey in its transaction (Listen), a periodic
// job sends the due ones through the outbox on the channel internal/reach
// chooses (SendDue), the customer answers on a public page by a
// single-use link (ByToken, AnswerByToken) or an agent records a phone
// answer (AnswerByPhone), and an unhappy answer opens a follow-up for the
// supervisor of the ticket's team in the answer's transaction.
//
// A survey's source is source_kind + source_id (a ticket now, a service
// order later) and its cycle (the ticket's reopen count when it was
// resolved): one survey per source and cycle, by a unique key. The link's
// token is 256 random bits; only its SHA-256 is stored. docs/surveys.md.
package surveys
