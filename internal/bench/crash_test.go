package bench

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestCrashLosesNoAcknowledgedWrite kills a real server process with SIGKILL
// while clients write, restarts it and finds every acknowledged write.
func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	bin, err := Binary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	res, err := runCrash(context.Background(), Env{Binary: bin, Out: &out}, Options{Concurrency: 8, Duration: 1500 * time.Millisecond})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	r := res.(CrashResult)
	if r.Acknowledged < 50 || r.Lost != 0 || r.Found != r.Acknowledged {
		t.Fatalf("crash result %+v", r)
	}
	t.Log(out.String())
}
