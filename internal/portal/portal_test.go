package portal_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/customers"
	"github.com/careloop/careloop/internal/domain"
	"github.com/careloop/careloop/internal/identity"
	"github.com/careloop/careloop/internal/notify"
	"github.com/careloop/careloop/internal/portal"
	"github.com/careloop/careloop/internal/testkit"
)

var tokenRE = regexp.MustCompile(`/portal/auth\?token=([A-Za-z0-9_-]{43})`)

// customer registers a customer with an email address and a mobile phone.
func customer(t *testing.T, k *testkit.Kit, name, email, phone string) customers.Customer {
	t.Helper()
	in := customers.Input{Name: &name}
	if email != "" {
		in.Email = &email
	}
	if phone != "" {
		in.Phones = &[]string{phone}
	}
	c, err := k.App.Customers.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// outbox returns the outbox rows of a channel, newest first.
func outbox(t *testing.T, k *testkit.Kit, channel string) []notify.Message {
	t.Helper()
	list, err := k.App.Outbox.List(context.Background(), notify.ListFilter{Channel: channel, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// lastLink is the token of the newest sign-in mail to an address.
func lastLink(t *testing.T, k *testkit.Kit, to string) string {
	t.Helper()
	for _, m := range outbox(t, k, notify.ChannelEmail) {
		if m.Recipient == to {
			if g := tokenRE.FindStringSubmatch(m.Body); g != nil {
				return g[1]
			}
			t.Fatalf("the mail to %s has no link: %q", to, m.Body)
		}
	}
	t.Fatalf("no mail to %s", to)
	return ""
}

// TestMagicLinkSignsInOnce: a customer's address gets a link that signs in
// once, within 15 minutes; an unknown address gets the same answer and no
// mail; a refused link changes nothing.
func TestMagicLinkSignsInOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		st := k.App.Portal
		c := customer(t, k, "陈美玲", "meiling@example.com", "13912345678")
		// An unknown address gets the same answer and no mail.
		before := len(outbox(t, k, notify.ChannelEmail))
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: "nobody@example.com", IP: "192.0.2.1"}); err != nil {
			t.Fatalf("unknown address: %v", err)
		}
		if n := len(outbox(t, k, notify.ChannelEmail)); n != before {
			t.Fatalf("an unknown address got a mail (%d → %d)", before, n)
		}
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: "not an address", IP: "192.0.2.1"}); !isField(err, "email") {
			t.Fatalf("a malformed address: %v", err)
		}
		// A customer's address gets a transactional mail with a link.
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: " MeiLing@Example.com ", IP: "192.0.2.1", Next: "/portal/tickets/5"}); err != nil {
			t.Fatal(err)
		}
		mails := outbox(t, k, notify.ChannelEmail)
		if len(mails) != before+1 || mails[0].Recipient != "meiling@example.com" || !mails[0].Transactional || mails[0].CustomerID != c.ID ||
			mails[0].Kind != "portal.sign_in" || !strings.Contains(mails[0].Body, "15") {
			t.Fatalf("sign-in mail: %+v", mails[0])
		}
		token := lastLink(t, k, "meiling@example.com")
		// Looking at the link does not spend it.
		for range 2 {
			l, err := st.LinkStatus(ctx, token)
			if err != nil || l.Account.CustomerID != c.ID || l.Next != "/portal/tickets/5" {
				t.Fatalf("status: %+v %v", l, err)
			}
		}
		sid, l, err := st.Redeem(ctx, token, "192.0.2.1", "test")
		if err != nil || sid == "" || l.Account.Email != "meiling@example.com" {
			t.Fatalf("redeem: %q %+v %v", sid, l, err)
		}
		p, err := st.SessionPrincipal(ctx, sid)
		if err != nil || !p.IsPortal() || p.CustomerID != c.ID || p.UserID != 0 || p.Can(identity.TicketsView) || !p.Can(identity.Portal) {
			t.Fatalf("principal: %+v %v", p, err)
		}
		// Used twice: refused, and nothing changes.
		snap := k.Snapshot()
		if _, _, err := st.Redeem(ctx, token, "192.0.2.1", "test"); !errors.Is(err, portal.ErrLinkUsed) {
			t.Fatalf("second use: %v", err)
		}
		if _, _, err := st.Redeem(ctx, "nonsense-token", "192.0.2.1", "test"); !errors.Is(err, portal.ErrLinkUnknown) {
			t.Fatalf("unknown token: %v", err)
		}
		if k.Snapshot() != snap {
			t.Fatal("a used or unknown link changed the database")
		}
		// Expired: 15 minutes later.
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: "meiling@example.com", IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		late := lastLink(t, k, "meiling@example.com")
		k.Clock.Advance(15*time.Minute + time.Second)
		snap = k.Snapshot()
		if _, _, err := st.Redeem(ctx, late, "192.0.2.1", "test"); !errors.Is(err, portal.ErrLinkExpired) {
			t.Fatalf("expired link: %v", err)
		}
		if k.Snapshot() != snap {
			t.Fatal("a refused link changed the database")
		}
		// Staff never hold the portal pseudo-permission.
		admin, _ := k.User("admin@example.com", "admin")
		ap, _ := k.App.Identity.PrincipalFor(ctx, admin.ID)
		if ap.Can(identity.Portal) || ap.IsPortal() {
			t.Fatal("an administrator passes as a portal caller")
		}
	})
}

func isField(err error, field string) bool {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return false
	}
	for _, f := range v.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestClicksAtOnceSignInOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		customer(t, k, "王强", "wang@example.com", "")
		if err := k.App.Portal.RequestLink(ctx, portal.LinkRequest{Email: "wang@example.com", IP: "192.0.2.9"}); err != nil {
			t.Fatal(err)
		}
		token := lastLink(t, k, "wang@example.com")
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for range 8 {
			wg.Go(func() {
				if _, _, err := k.App.Portal.Redeem(ctx, token, "192.0.2.9", "x"); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if !errors.Is(err, portal.ErrLinkUsed) {
					t.Errorf("redeem: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d sign-ins from one link", ok)
		}
	})
}

func TestSignInRequestsAreLimited(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		customer(t, k, "李雷", "lilei@example.com", "")
		st := k.App.Portal
		var th *identity.ThrottledError
		for i := range 6 {
			err := st.RequestLink(ctx, portal.LinkRequest{Email: "lilei@example.com", IP: "192.0.2.2"})
			if i < 5 && err != nil {
				t.Fatalf("request %d: %v", i+1, err)
			}
			if i == 5 && !errors.As(err, &th) {
				t.Fatalf("the sixth request in 15 minutes: %v", err)
			}
		}
		// Unknown addresses are counted the same (no enumeration by limits).
		for i := range 6 {
			err := st.RequestLink(ctx, portal.LinkRequest{Email: "ghost@example.com", IP: "192.0.2.3"})
			if (i < 5) != (err == nil) {
				t.Fatalf("unknown address, request %d: %v", i+1, err)
			}
		}
		// Per client address: thirty, whatever the addresses.
		for i := range 31 {
			err := st.RequestLink(ctx, portal.LinkRequest{Email: "x" + itoa(i) + "@example.com", IP: "192.0.2.4"})
			if i < 30 && err != nil {
				t.Fatalf("address %d from one client: %v", i+1, err)
			}
			if i == 30 && !errors.As(err, &th) {
				t.Fatalf("the 31st request from one client: %v", err)
			}
		}
		k.Clock.Advance(16 * time.Minute)
		if err := st.RequestLink(ctx, portal.LinkRequest{Email: "lilei@example.com", IP: "192.0.2.2"}); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

// smsGateway stands in for the SMS provider, which lies outside Careloop:
// the outbox's sms channel delivering to it records what would be sent.
type smsGateway struct {
	mu   sync.Mutex
	sent []notify.Message
}

func (g *smsGateway) Name() string { return notify.ChannelSMS }

func (g *smsGateway) Deliver(_ context.Context, m *notify.Message) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, *m)
	return "sms-" + itoa(len(g.sent)), nil
}

var codeRE = regexp.MustCompile(`\d{6}`)

func TestSMSCodeSignsInOnce(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		ctx := context.Background()
		st := k.App.Portal
		c := customer(t, k, "赵敏", "", "139 1234 5678")
		if st.SMSAvailable() {
			t.Fatal("phone sign-in is on without an SMS channel")
		}
		if _, err := st.RequestCode(ctx, portal.CodeRequest{Phone: "13912345678", IP: "192.0.2.5"}); !errors.Is(err, portal.ErrNoSMS) {
			t.Fatalf("a code without an SMS channel: %v", err)
		}
		gw := &smsGateway{}
		k.App.Outbox.Register(gw)
		if !st.SMSAvailable() {
			t.Fatal("phone sign-in is off with an SMS channel")
		}
		// An unknown number: same answer, no message.
		if _, err := st.RequestCode(ctx, portal.CodeRequest{Phone: "13800000000", IP: "192.0.2.5"}); err != nil {
			t.Fatal(err)
		}
		phone, err := st.RequestCode(ctx, portal.CodeRequest{Phone: "+86 139-1234-5678", IP: "192.0.2.5"})
		if err != nil || phone != "13912345678" {
			t.Fatalf("request: %q %v", phone, err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		if len(gw.sent) != 1 || gw.sent[0].Recipient != "13912345678" || gw.sent[0].CustomerID != c.ID {
			t.Fatalf("sent: %+v", gw.sent)
		}
		code := codeRE.FindString(gw.sent[0].Body)
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if _, err := st.VerifyCode(ctx, phone, wrong, "192.0.2.5", "x"); !errors.Is(err, portal.ErrBadCode) {
			t.Fatalf("a wrong code: %v", err)
		}
		sid, err := st.VerifyCode(ctx, "139 1234 5678", code, "192.0.2.5", "x")
		if err != nil {
			t.Fatalf("the right code: %v", err)
		}
		p, err := st.SessionPrincipal(ctx, sid)
		if err != nil || p.CustomerID != c.ID {
			t.Fatalf("principal %+v %v", p, err)
		}
		if _, err := st.VerifyCode(ctx, phone, code, "192.0.2.5", "x"); !errors.Is(err, portal.ErrBadCode) {
			t.Fatalf("the code a second time: %v", err)
		}
		// Five wrong tries spend a code, the right one included.
		if _, err := st.RequestCode(ctx, portal.CodeRequest{Phone: phone, IP: "192.0.2.6"}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		code = codeRE.FindString(gw.sent[len(gw.sent)-1].Body)
		for range portal.MaxCodeAttempts {
			w := "999999"
			if code == w {
				w = "888888"
			}
			if _, err := st.VerifyCode(ctx, phone, w, "192.0.2.6", "x"); !errors.Is(err, portal.ErrBadCode) {
				t.Fatalf("wrong try: %v", err)
			}
		}
		if _, err := st.VerifyCode(ctx, phone, code, "192.0.2.6", "x"); !errors.Is(err, portal.ErrBadCode) {
			t.Fatalf("the right code after five wrong ones: %v", err)
		}
		// Expired after ten minutes.
		if _, err := st.RequestCode(ctx, portal.CodeRequest{Phone: phone, IP: "192.0.2.7"}); err != nil {
			t.Fatal(err)
		}
		if _, err := k.App.Outbox.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		code = codeRE.FindString(gw.sent[len(gw.sent)-1].Body)
		k.Clock.Advance(10*time.Minute + time.Second)
		if _, err := st.VerifyCode(ctx, phone, code, "192.0.2.7", "x"); !errors.Is(err, portal.ErrBadCode) {
			t.Fatalf("an expired code: %v", err)
		}
	})
}
