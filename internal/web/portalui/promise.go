package portalui

import (
	"errors"
	"net/http"

	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/web/httpx"
)

// promise is what a customer reads while no agent has answered their
// request yet: "we will answer by …", the first answer the ticket's SLA
// policy promises, counted on its calendar from when the request arrived
// (the same sla.PolicyStore.Promise as the acknowledgement mail). "" once
// an agent has replied, when the ticket is no longer open, or when no
// policy promises anything. The caller has checked that the ticket is the
// customer's; the system reads its facts (severity, team, category are
// staff-only and never shown).
func (u *UI) promise(r *http.Request, ticketID int64) (string, error) {
	if u.SLAPolicies == nil {
		return "", nil
	}
	ctx := r.Context()
	t, err := u.Tickets.Get(ctx, nil, ticketID)
	if err != nil {
		return "", err
	}
	if t.FirstResponseAt != nil || !t.Open() {
		return "", nil
	}
	f := sla.TicketFacts{Type: t.Type, Severity: t.Severity, Channel: t.Channel, Tier: t.CustomerTier}
	if t.CategoryID != nil {
		f.CategoryID = *t.CategoryID
	}
	if t.TeamID != nil {
		f.TeamID = *t.TeamID
	}
	p, ok, err := u.SLAPolicies.Promise(ctx, f, t.CreatedAt)
	if errors.Is(err, domain.ErrNotFound) {
		// The policy's calendar was deleted since: promise nothing rather
		// than fail the customer's page.
		return "", nil
	}
	if err != nil || !ok {
		return "", err
	}
	lang := httpx.Lang(r)
	return u.Cat.T(lang, "portal.promise", map[string]any{"Promise": p.Text(u.Cat, lang)}), nil
}
