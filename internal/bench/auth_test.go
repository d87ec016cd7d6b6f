package bench

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/careloop/careloop/internal/loadgen"
)

// TestMeSignsInBothWays runs the me scenario briefly with a token and with a
// cookie: every request must be answered 200 (the figures are for the bench).
func TestMeSignsInBothWays(t *testing.T) {
	bin, err := Binary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"token", "cookie"} {
		var out bytes.Buffer
		res, err := runMe(context.Background(), Env{Binary: bin, Out: &out}, Options{Concurrency: 2, Duration: 200 * time.Millisecond, Auth: auth})
		if err != nil {
			t.Fatalf("%s: %v\n%s", auth, err, out.String())
		}
		r := res.(loadgen.Result)
		if r.Requests == 0 || r.Failures() != 0 || r.Scenario != "me-"+auth {
			t.Fatalf("%s: %+v", auth, r)
		}
	}
	if _, err := runMe(context.Background(), Env{Binary: bin, Out: &bytes.Buffer{}}, Options{Auth: "basic", Duration: time.Millisecond}); err == nil {
		t.Fatal("an unknown --auth was accepted")
	}
}
