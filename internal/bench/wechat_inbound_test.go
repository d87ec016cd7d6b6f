package bench

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"
)

// TestWeChatInboundVerifies runs the scenario briefly against a real
// server on each database and checks what its verification read: every
// acknowledged MsgId once, retries included in what was sent but in
// nothing stored twice. The latency floor is the bench's to judge (this
// machine is shared), not this test's.
func TestWeChatInboundVerifies(t *testing.T) {
	bin, err := Binary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dsns := map[string]string{"sqlite": ""}
	if pg := os.Getenv("CARELOOP_TEST_POSTGRES"); pg != "" {
		dsns["postgres"] = pg
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := runWeChatInbound(context.Background(), Env{Binary: bin, DSN: dsn, Out: &out}, Options{Duration: 1500 * time.Millisecond})
			r, ok := res.(WeChatInboundResult)
			if !ok {
				t.Fatalf("no result (%v):\n%s", err, out.String())
			}
			v := r.Verify
			retries := 0
			for _, s := range r.Steps {
				retries += s.Retries
			}
			if !v.OK || v.Followers < wechatBenchFollowers || v.Appended <= 0 || v.MsgIDs != v.Inbound || retries == 0 {
				t.Fatalf("verify %+v, %d retries sent\n%s", v, retries, out.String())
			}
			t.Log(out.String())
		})
	}
}
