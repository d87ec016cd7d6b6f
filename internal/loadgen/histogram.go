package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear, like an HDR histogram with 7 significant bits:
// values below 256 ns have a bucket each, and every power-of-two range above
// that is split into 128 equal buckets. A bucket is at most 1/128 of its lower
// bound wide, so a quantile read at the middle of its bucket is within 0.4 % of
// the true value. Values of more than maxTrackable are put in the last
// bucket; the exact maximum is kept aside.
const (
	subBits      = 7
	subCount     = 1 << subBits       // buckets per power of two
	linearLimit  = 1 << (subBits + 1) // values below this have a bucket each
	maxShift     = 34                 // covers values up to 2^42 ns, over an hour
	bucketCount  = linearLimit + maxShift*subCount
	maxTrackable = int64(1)<<(subBits+1+maxShift) - 1
)

// Histogram records durations in fixed buckets with a relative error below
// 0.4 %. Recording never allocates. The zero value is not usable; call
// NewHistogram. A Histogram is not safe for concurrent use: give each
// goroutine its own and Merge them.
type Histogram struct {
	counts []uint64
	count  uint64
	sum    float64 // nanoseconds
	min    int64
	max    int64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, bucketCount), min: math.MaxInt64}
}

func bucketOf(v int64) int {
	if v < linearLimit {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	if v > maxTrackable {
		v = maxTrackable
	}
	shift := bits.Len64(uint64(v)) - (subBits + 1) // >= 1
	top := int(v >> uint(shift))                   // in [128, 256)
	return linearLimit + (shift-1)*subCount + (top - subCount)
}

// bucketRange returns the lowest value of bucket b and its width.
func bucketRange(b int) (lo, width int64) {
	if b < linearLimit {
		return int64(b), 1
	}
	b -= linearLimit
	shift := b/subCount + 1
	top := int64(b%subCount + subCount)
	return top << uint(shift), int64(1) << uint(shift)
}

// Record adds one duration. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)]++
	h.count++
	h.sum += float64(v)
	if v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
}

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.count == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.count += o.count
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count returns the number of recorded values.
func (h *Histogram) Count() uint64 { return h.count }

// Max returns the exact largest value, or 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min returns the exact smallest value, or 0 when empty.
func (h *Histogram) Min() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Mean returns the exact arithmetic mean, or 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.count))
}

// Quantile returns the value below or at which the fraction q of the values
// lie (q in [0, 1]; 0.99 is the 99th percentile), by the nearest-rank method.
// The answer is the middle of the bucket that holds that rank, clamped to the
// exact minimum and maximum, so it never exceeds Max.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.count)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for b, c := range h.counts {
		if c == 0 {
			continue
		}
		seen += c
		if seen >= rank {
			lo, w := bucketRange(b)
			v := lo + (w-1)/2
			return time.Duration(min(max(v, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Reset empties the histogram and keeps its memory.
func (h *Histogram) Reset() {
	clear(h.counts)
	h.count, h.sum, h.min, h.max = 0, 0, math.MaxInt64, 0
}
