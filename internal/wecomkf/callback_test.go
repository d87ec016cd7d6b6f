package wecomkf_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/testkit"
)

// body is the answer's status and text (-1 and the error when none came).
func body(resp *http.Response, err error) (int, string) {
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWeComKFURLVerification(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		if status, got := body(p.cb.VerifyURL("1616140317555161061")); status != http.StatusOK || got != "1616140317555161061" {
			t.Fatalf("verify: %d %q", status, got)
		}
		// A wrong token signs differently: refused, nothing echoed.
		wrong := *p.cb
		wrong.Token = "notTheToken"
		if status, got := body(wrong.VerifyURL("echo")); status != http.StatusForbidden || got == "echo" {
			t.Fatalf("wrong signature: %d %q", status, got)
		}
		// Another corp's encryption (receiveid) does not open.
		other := *p.cb
		other.CorpID = "wwSomeoneElse"
		if status, _ := body(other.VerifyURL("echo")); status != http.StatusBadRequest {
			t.Fatalf("another corp id: %d", status)
		}
		// Six minutes old: stale.
		enc := p.cb.Encrypt("echo")
		q := p.cb.Query(k.Clock.Now().Add(-6*time.Minute).Unix(), p.cb.Nonce(), enc)
		q.Set("echostr", enc)
		if status, _ := body(http.Get(p.cb.URL + "?" + q.Encode())); status != http.StatusForbidden {
			t.Fatalf("stale: %d", status)
		}
		unknown := *p.cb
		unknown.URL = k.URL + "/wecom/kf/callback/nobody"
		if status, _ := body(unknown.VerifyURL("echo")); status != http.StatusNotFound {
			t.Fatalf("unknown account: %d", status)
		}
	})
}

func TestWeComKFCallbackRefusalsStoreNothing(t *testing.T) {
	testkit.Each(t, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		stored := func() int {
			return count(t, k, `SELECT COUNT(*) FROM wecomkf_nonces`) + count(t, k, `SELECT COUNT(*) FROM wecomkf_cursors`)
		}
		enc := p.cb.Encrypt(p.cb.EventXML(kfID, "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR"))
		now := k.Clock.Now().Unix()
		// A wrong signature.
		q := p.cb.Query(now, p.cb.Nonce(), enc)
		q.Set("msg_signature", "0123456789abcdef0123456789abcdef01234567")
		if status, _ := body(p.cb.Post(q, p.cb.Envelope(enc))); status != http.StatusForbidden || stored() != 0 {
			t.Fatalf("wrong signature: %d, %d rows", status, stored())
		}
		// The signature of another body.
		q = p.cb.Query(now, p.cb.Nonce(), enc)
		other := p.cb.Encrypt(p.cb.EventXML(kfID, "another"))
		if status, _ := body(p.cb.Post(q, p.cb.Envelope(other))); status != http.StatusForbidden || stored() != 0 {
			t.Fatalf("swapped body: %d, %d rows", status, stored())
		}
		// Out of the window, either way.
		for _, d := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
			q = p.cb.Query(k.Clock.Now().Add(d).Unix(), p.cb.Nonce(), enc)
			if status, _ := body(p.cb.Post(q, p.cb.Envelope(enc))); status != http.StatusForbidden || stored() != 0 {
				t.Fatalf("timestamp %s away: %d, %d rows", d, status, stored())
			}
		}
		// Signed but not ours to open: 400.
		junk := "bm90IGEgY2lwaGVydGV4dCBhdCBhbGwsIGp1c3QgdGV4dCE="
		q = p.cb.Query(now, p.cb.Nonce(), junk)
		if status, _ := body(p.cb.Post(q, p.cb.Envelope(junk))); status != http.StatusBadRequest || stored() != 0 {
			t.Fatalf("undecryptable: %d, %d rows", status, stored())
		}
		// Accepted once; the same request again is a replay.
		q = p.cb.Query(now, p.cb.Nonce(), enc)
		if status, got := body(p.cb.Post(q, p.cb.Envelope(enc))); status != http.StatusOK || got != "success" {
			t.Fatalf("first: %d %q", status, got)
		}
		if n := count(t, k, `SELECT COUNT(*) FROM wecomkf_cursors WHERE token = $1`, "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR"); n != 1 {
			t.Fatalf("token not recorded: %d", n)
		}
		before := stored()
		if status, _ := body(p.cb.Post(q, p.cb.Envelope(enc))); status != http.StatusForbidden || stored() != before {
			t.Fatalf("replay: %d", status)
		}
		// A 客服账号 not on the account's list: answered, not pulled.
		enc = p.cb.Encrypt(p.cb.EventXML("wkSomeOtherKfAccount", "tok"))
		q = p.cb.Query(now, p.cb.Nonce(), enc)
		if status, _ := body(p.cb.Post(q, p.cb.Envelope(enc))); status != http.StatusOK ||
			count(t, k, `SELECT COUNT(*) FROM wecomkf_cursors WHERE open_kfid = 'wkSomeOtherKfAccount'`) != 0 {
			t.Fatalf("unlisted open_kfid: %d", status)
		}
		if got := len(p.fake.Syncs()); got != 0 {
			t.Fatalf("the callback called sync_msg itself: %d", got)
		}
	})
}
