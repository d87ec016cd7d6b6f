package reach

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/careloop/careloop/internal/db"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/i18n"
)

// Purpose is why the customer is being reached. Replies and notices answer
// something the customer asked for (transactional); care and surveys are
// outreach, which an opt-out forbids.
type Purpose string

// The purposes the house knows.
const (
	Reply  Purpose = "reply"
	Notice Purpose = "notice"
	Care   Purpose = "care"
	Survey Purpose = "survey"
)

// Transactional says whether the purpose answers the customer's own
// request, so that an opt-out of outreach does not silence it.
func (p Purpose) Transactional() bool { return p == Reply || p == Notice }

func (p Purpose) valid() bool { return slices.Contains([]Purpose{Reply, Notice, Care, Survey}, p) }

// The channels reach may choose (the outbox's channel names).
const (
	WeChat = "wechat"
	SMS    = "sms"
	Email  = "email"
)

// Rule is the house order when no stated preference applies.
var Rule = []string{WeChat, SMS, Email}

// Choice is where to send. Reason is a catalog key explaining it ("客户偏好
// 微信"); Skipped lists, in order, why each channel tried before it was
// passed over (catalog keys too), so that the reason can be shown whole.
type Choice struct {
	Channel string
	Address string // the openid, the mobile number, the email address
	Reason  string
	Params  map[string]any // for the outbox row: the WeChat account
	Skipped []string
}

// Explain renders the choice in lang: the skips, then the reason.
func (c Choice) Explain(cat *i18n.Catalog, lang string) string {
	return explain(cat, lang, c.Skipped, c.Reason)
}

// ErrUnreachable is returned (inside an *UnreachableError) when no channel
// is allowed.
var ErrUnreachable = errors.New("reach: the customer cannot be reached")

// UnreachableError says why each channel was passed over.
type UnreachableError struct {
	CustomerID int64
	Skipped    []string // catalog keys, in the order tried
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("reach: customer %d cannot be reached (%v)", e.CustomerID, e.Skipped)
}

// Unwrap makes errors.Is(err, ErrUnreachable) hold.
func (e *UnreachableError) Unwrap() error { return ErrUnreachable }

// Explain renders why nothing was chosen, in lang.
func (e *UnreachableError) Explain(cat *i18n.Catalog, lang string) string {
	return explain(cat, lang, e.Skipped, "reach.unreachable")
}

func explain(cat *i18n.Catalog, lang string, skipped []string, last string) string {
	out := ""
	for _, k := range append(slices.Clone(skipped), last) {
		s := cat.T(lang, k, nil)
		if out == "" {
			out = s
			continue
		}
		out = cat.T(lang, "reach.join", map[string]any{"A": out, "B": s})
	}
	return out
}

// Channels tells whether a channel is set up; *notify.Outbox is one
// (HasChannel asks an Availability channel such as SMS whether an
// administrator enabled it).
type Channels interface{ HasChannel(name string) bool }

// Consent is the outbox's send-time question, customers.Store.MayReceive:
// transactional messages skip outreach opt-outs.
type Consent func(ctx context.Context, customerID int64, channel string, transactional bool) (bool, error)

// Chooser picks channels. All fields are required.
type Chooser struct {
	DB       *db.DB
	Channels Channels
	Consent  Consent
}

// Choose picks the channel for purpose p: the customer's preference, else
// the Rule, skipping the channels in exclude (one that just failed, such as
// WeChat outside its 48-hour window).
func (c *Chooser) Choose(ctx context.Context, customerID int64, p Purpose, exclude ...string) (Choice, error) {
	return c.ChooseFirst(ctx, customerID, p, nil, exclude...)
}

// ChooseFirst is Choose with the caller's own ordered preferences tried
// before the customer's (care's rule for the elderly: phone-like SMS
// first; an organisation's contract naming email). Each is still subject to
// configuration, address and consent; the customer's preference and the
// Rule follow.
func (c *Chooser) ChooseFirst(ctx context.Context, customerID int64, p Purpose, first []string, exclude ...string) (Choice, error) {
	if !p.valid() {
		return Choice{}, domain.Invalid("purpose", "validation.one_of", map[string]any{"Values": "reply, notice, care, survey"})
	}
	f, err := c.facts(ctx, customerID)
	if err != nil {
		return Choice{}, err
	}
	type candidate struct{ channel, reason string }
	var order []candidate
	for _, ch := range first {
		order = append(order, candidate{ch, "reach.caller." + ch})
	}
	if ch, ok := preferred[f.preferred]; ok {
		order = append(order, candidate{ch, "reach.preferred." + f.preferred})
	}
	for _, ch := range Rule {
		order = append(order, candidate{ch, "reach.rule." + ch})
	}
	var skipped []string
	tried := map[string]bool{}
	for _, cand := range order {
		if tried[cand.channel] {
			continue
		}
		tried[cand.channel] = true
		addr, params, why, err := c.usable(ctx, f, cand.channel, p, exclude)
		if err != nil {
			return Choice{}, err
		}
		if why != "" {
			skipped = append(skipped, why)
			continue
		}
		return Choice{Channel: cand.channel, Address: addr, Reason: cand.reason, Params: params, Skipped: skipped}, nil
	}
	return Choice{}, &UnreachableError{CustomerID: customerID, Skipped: skipped}
}

// preferred maps the customer form's preferred_channel (customers.Channels)
// to a channel a message can go by: a customer who prefers the telephone
// gets text messages on their mobile; a visit is not a message, so the
// Rule decides.
var preferred = map[string]string{"wechat": WeChat, "sms": SMS, "phone": SMS, "email": Email}

// usable returns the address on ch, or why ch cannot be used (a catalog
// key).
func (c *Chooser) usable(ctx context.Context, f facts, ch string, p Purpose, exclude []string) (addr string, params map[string]any, why string, err error) {
	if !slices.Contains(Rule, ch) {
		return "", nil, "reach.skip.unknown", nil
	}
	if slices.Contains(exclude, ch) {
		return "", nil, "reach.skip.excluded." + ch, nil
	}
	if !c.Channels.HasChannel(ch) {
		return "", nil, "reach.skip.not_configured." + ch, nil
	}
	switch ch {
	case WeChat:
		if f.openid == "" {
			return "", nil, "reach.skip.not_bound", nil
		}
		addr, params = f.openid, map[string]any{"account": f.account}
	case SMS:
		if f.mobile == "" {
			why = "reach.skip.no_phone"
			if f.landline {
				why = "reach.skip.landline"
			}
			return "", nil, why, nil
		}
		addr = f.mobile
	case Email:
		if f.email == "" {
			return "", nil, "reach.skip.no_email", nil
		}
		addr = f.email
	}
	ok, err := c.Consent(ctx, f.id, ch, p.Transactional())
	if err != nil {
		return "", nil, "", err
	}
	if !ok {
		return "", nil, "reach.skip.opted_out." + ch, nil
	}
	return addr, params, "", nil
}

// facts is what the choice depends on, read in one go.
type facts struct {
	id               int64
	preferred, email string
	mobile           string
	landline         bool
	account, openid  string
}

func (c *Chooser) facts(ctx context.Context, id int64) (facts, error) {
	f := facts{id: id}
	q := c.DB.RQ(ctx)
	err := q.QueryRowContext(ctx, `SELECT preferred_channel, email FROM customers WHERE id = $1`, id).Scan(&f.preferred, &f.email)
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("customer %d: %w", id, domain.ErrNotFound)
	}
	if err != nil {
		return f, fmt.Errorf("reach: customer: %w", err)
	}
	// The first mobile in the customer's order; a landline only explains
	// why SMS was passed over.
	rows, err := q.QueryContext(ctx, `SELECT phone, kind FROM customer_phones WHERE customer_id = $1 ORDER BY position, id`, id)
	if err != nil {
		return f, fmt.Errorf("reach: phones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var phone, kind string
		if err := rows.Scan(&phone, &kind); err != nil {
			return f, err
		}
		if kind == "mobile" && f.mobile == "" && isMobile(phone) {
			f.mobile = phone
		} else if kind != "mobile" {
			f.landline = true
		}
	}
	if err := rows.Err(); err != nil {
		return f, err
	}
	// Any binding counts, a 微信用户 placeholder's too: the follower wrote
	// from that openid. A real binding (placeholder false) first, then the
	// newest.
	err = q.QueryRowContext(ctx, `SELECT account, openid FROM wechat_bindings WHERE customer_id = $1
		ORDER BY placeholder, created_at DESC LIMIT 1`, id).Scan(&f.account, &f.openid)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("reach: wechat binding: %w", err)
	}
	return f, nil
}

// isMobile: a Chinese mainland mobile number, 1[3-9] and nine digits.
func isMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
