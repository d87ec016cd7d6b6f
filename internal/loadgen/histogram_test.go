package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketRangeRoundTrip(t *testing.T) {
	for b := 0; b < bucketCount; b++ {
		lo, w := bucketRange(b)
		if got := bucketOf(lo); got != b {
			t.Fatalf("bucketOf(lo of %d = %d) = %d", b, lo, got)
		}
		if got := bucketOf(lo + w - 1); got != b {
			t.Fatalf("bucketOf(hi of %d = %d) = %d", b, lo+w-1, got)
		}
		if b >= linearLimit && float64(w)/float64(lo) > 1.0/subCount+1e-12 {
			t.Fatalf("bucket %d too wide: lo %d width %d", b, lo, w)
		}
	}
	if got := bucketOf(math.MaxInt64); got != bucketCount-1 {
		t.Fatalf("huge value in bucket %d, want last %d", got, bucketCount-1)
	}
}

func TestHistogramQuantilesMatchExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	h := NewHistogram()
	var vals []int64
	for i := 0; i < 200000; i++ {
		// Log-normal-ish latencies from ~20 µs to ~200 ms.
		v := int64(math.Exp(r.NormFloat64()*1.2+math.Log(300e3))) + 20e3
		vals = append(vals, v)
		h.Record(time.Duration(v))
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		rank := int(math.Ceil(q * float64(len(vals))))
		want := float64(vals[rank-1])
		got := float64(h.Quantile(q))
		if math.Abs(got-want)/want > 0.005 {
			t.Errorf("q%.3f = %v, exact %v", q, time.Duration(got), time.Duration(want))
		}
	}
	if h.Max() != time.Duration(vals[len(vals)-1]) || h.Min() != time.Duration(vals[0]) {
		t.Errorf("min/max %v/%v, want %v/%v", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
	}
	if h.Count() != uint64(len(vals)) {
		t.Errorf("count %d", h.Count())
	}
}

func TestHistogramMergeAndEmpty(t *testing.T) {
	a, b := NewHistogram(), NewHistogram()
	if a.Quantile(0.5) != 0 || a.Mean() != 0 || a.Min() != 0 {
		t.Fatal("empty histogram should answer 0")
	}
	for i := 1; i <= 100; i++ {
		a.Record(time.Duration(i) * time.Microsecond)
		b.Record(time.Duration(i) * time.Millisecond)
	}
	a.Merge(b)
	a.Merge(NewHistogram())
	if a.Count() != 200 || a.Max() != 100*time.Millisecond || a.Min() != time.Microsecond {
		t.Fatalf("merged: count %d min %v max %v", a.Count(), a.Min(), a.Max())
	}
	if p := a.Quantile(0.5); p < 99*time.Microsecond || p > 101*time.Microsecond {
		t.Fatalf("p50 of merged = %v, want ~100µs", p)
	}
	a.Reset()
	if a.Count() != 0 || a.Max() != 0 {
		t.Fatal("Reset left values")
	}
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	h := NewHistogram()
	if n := testing.AllocsPerRun(1000, func() { h.Record(1234567) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}
