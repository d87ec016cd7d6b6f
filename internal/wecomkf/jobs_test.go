package wecomkf_test

import (
	"testing"
	"time"

	"github.com/careloop/careloop/internal/testkit"
)

// TestWeComKFCallbackEnqueuesThePull runs River as `careloop serve` does:
// the callback answers at once and the wecomkf_pull job takes the message
// in.
func TestWeComKFCallbackEnqueuesThePull(t *testing.T) {
	testkit.EachWith(t, testkit.Options{Jobs: true}, func(t *testing.T, k *testkit.Kit) {
		p := setUp(t, k)
		id := p.fake.Customer(kfID, userA, "通过后台任务拉取")
		p.notify(t, "ENCjob")
		deadline := time.Now().Add(20 * time.Second)
		for count(t, k, `SELECT COUNT(*) FROM wecomkf_inbound WHERE msg_id = $1 AND ticket_id IS NOT NULL`, id) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("no ticket 20 s after the callback; sync calls %d", len(p.fake.Syncs()))
			}
			time.Sleep(20 * time.Millisecond) // polling interval of an asynchronous job
		}
		if s := p.fake.Syncs(); len(s) == 0 || s[0].Token != "ENCjob" {
			t.Fatalf("syncs %+v", s)
		}
	})
}
