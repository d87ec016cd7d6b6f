// Package api holds the JSON handlers of /api/v1, one file per resource.
// Handlers are thin: decode, call the domain, encode. Each resource's routes
// sit in its own Routes function; Routes puts them together.
package api

import (
	"net/http"

	"github.com/careloop/careloop/internal/audit"
	"github.com/careloop/careloop/internal/care"
	"github.com/careloop/careloop/internal/clock"
	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/email"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/robots"
	"github.com/careloop/careloop/internal/sla"
	"github.com/careloop/careloop/internal/sms"
	"github.com/careloop/careloop/internal/surveys"
	"github.com/careloop/careloop/internal/tickets"
	"github.com/careloop/careloop/internal/timeline"
	"github.com/careloop/careloop/internal/web/httpx"
	"github.com/careloop/careloop/internal/webhooks"
	"github.com/careloop/careloop/internal/wechat"
	"github.com/careloop/careloop/internal/wecomkf"
)

// Deps are what the API handlers use.
type Deps struct {
	httpx.Kit
	DB       *db.DB
	Identity *identity.Store
	Audit    *audit.Log
	Clock    clock.Clock

	Calendars   *sla.Store
	SLAPolicies *sla.PolicyStore
	SLATimers   *sla.TimerStore
	Customers   *customers.Store
	Products    *customers.Catalog
	Timeline    *timeline.Log
	Tickets     *tickets.Store
	Outbox      *notify.Outbox
	Mailboxes   *email.Mailboxes
	Webhooks    *webhooks.Store
	SMS         *sms.Store
	// Portal answers the ticket routes flagged Portal for portal tokens.
	Portal *portal.Store
	// Robots are the group robots of DingTalk and WeCom.
	Robots *robots.Store
	// WeChat is the Official Account channel.
	WeChat *wechat.Store
	// WeComKF is the WeCom 微信客服 channel (the kf part of channels/wecom, its callback).
	WeComKF *wecomkf.Store
	// Surveys are the survey after every case and its follow-ups.
	Surveys *surveys.Store
	// Care is proactive care: plans, the scheduler, tasks.
	Care *care.Store
}

// API is the set of JSON handlers.
type API struct {
	Deps
}

// New returns the API handlers.
func New(d Deps) *API { return &API{Deps: d} }

// Routes lists every API route with the permission it needs.
func (a *API) Routes() []httpx.Route {
	var rs []httpx.Route
	rs = append(rs, a.meRoutes()...)
	rs = append(rs, a.userRoutes()...)
	rs = append(rs, a.roleRoutes()...)
	rs = append(rs, a.teamRoutes()...)
	rs = append(rs, a.tokenRoutes()...)
	rs = append(rs, a.auditRoutes()...)
	rs = append(rs, a.calendarRoutes()...)
	rs = append(rs, a.slaPolicyRoutes()...)
	rs = append(rs, a.customerImportRoutes()...)
	rs = append(rs, a.customerRoutes()...)
	rs = append(rs, a.customerMoreRoutes()...)
	rs = append(rs, a.customerRulesRoutes()...)
	rs = append(rs, a.productRoutes()...)
	rs = append(rs, a.ticketRoutes()...)
	rs = append(rs, a.ticketThreadRoutes()...)
	rs = append(rs, a.ticketAttachmentRoutes()...)
	rs = append(rs, a.ticketMoreRoutes()...)
	rs = append(rs, a.ticketSLARoutes()...)
	rs = append(rs, a.ticketSettingsRoutes()...)
	rs = append(rs, a.ticketProfileRoutes()...)
	rs = append(rs, a.notificationRoutes()...)
	rs = append(rs, a.outboxRoutes()...)
	rs = append(rs, a.webhookRoutes()...)
	rs = append(rs, a.mailboxRoutes()...)
	rs = append(rs, a.smsRoutes()...)
	rs = append(rs, a.signatureRoutes()...)
	rs = append(rs, a.robotRoutes()...)
	rs = append(rs, a.wechatRoutes()...)
	rs = append(rs, a.wecomKFRoutes()...)
	rs = append(rs, a.wechatBindRoutes()...)
	rs = append(rs, a.surveyRoutes()...)
	rs = append(rs, a.surveySettingsRoutes()...)
	rs = append(rs, a.careRoutes()...)
	for i := range rs {
		rs[i].Kind = httpx.API
		if rs[i].Idempotent {
			rs[i].Handler = a.idempotent(rs[i].Handler)
		}
	}
	return rs
}

func (a *API) created(w http.ResponseWriter, location string, v any) {
	w.Header().Set("Location", location)
	a.JSON(w, http.StatusCreated, v)
}

// versioned writes a resource with its ETag.
func (a *API) versioned(w http.ResponseWriter, status, version int, v any) {
	w.Header().Set("ETag", httpx.ETag(version))
	a.JSON(w, status, v)
}

// expectedVersion is the If-Match version, else the body's version field.
func expectedVersion(r *http.Request, body *int) int {
	if v := httpx.IfMatch(r); v != 0 {
		return v
	}
	if body != nil {
		return *body
	}
	return 0
}
