package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// ReadRSS reads the resident set size (VmRSS) and its high-water mark (VmHWM)
// of a process from /proc/PID/status, in bytes. It works on Linux only; on
// other systems it returns an error.
func ReadRSS(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, fmt.Errorf("loadgen: reading the memory of pid %d: %w", pid, err)
	}
	return parseStatus(data)
}

func parseStatus(data []byte) (rss, hwm int64, err error) {
	var gotRSS, gotHWM bool
	for line := range bytes.Lines(data) {
		var dst *int64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst, gotRSS = &rss, true
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst, gotHWM = &hwm, true
		default:
			continue
		}
		// "VmRSS:	   12345 kB"
		f := bytes.Fields(line[6:])
		if len(f) == 0 {
			return 0, 0, fmt.Errorf("loadgen: bad status line %q", bytes.TrimSpace(line))
		}
		n, perr := strconv.ParseInt(string(f[0]), 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("loadgen: bad status line %q: %w", bytes.TrimSpace(line), perr)
		}
		if len(f) > 1 && bytes.EqualFold(f[1], []byte("kB")) {
			n *= 1024
		}
		*dst = n
	}
	if !gotRSS || !gotHWM {
		// Kernel threads and zombies have no Vm lines.
		return rss, hwm, errors.New("loadgen: no VmRSS/VmHWM in /proc status (zombie or kernel thread?)")
	}
	return rss, hwm, nil
}

// rssStats summarizes the memory of a process over a run.
type rssStats struct {
	Start      int64 // VmRSS at the first sample
	End        int64 // VmRSS at the last sample
	MaxSampled int64 // largest VmRSS seen by the samples during the run
	HWM        int64 // VmHWM at the last sample: the peak since the process started
	Peak       int64 // max(MaxSampled, HWM)
	Samples    int
	Err        error // the first read error, if any sample failed
}

// rssSampler reads the memory of a process every interval until stopped.
type rssSampler struct {
	pid      int
	interval time.Duration
	mu       sync.Mutex
	stats    rssStats
	stop     context.CancelFunc
	done     chan struct{}
}

func startRSSSampler(pid int, interval time.Duration) *rssSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &rssSampler{pid: pid, interval: interval, stop: cancel, done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	rss, hwm, err := ReadRSS(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.stats.Err == nil {
			s.stats.Err = err
		}
		return
	}
	if s.stats.Samples == 0 {
		s.stats.Start = rss
	}
	s.stats.Samples++
	s.stats.End = rss
	s.stats.MaxSampled = max(s.stats.MaxSampled, rss)
	s.stats.HWM = max(s.stats.HWM, hwm)
	s.stats.Peak = max(s.stats.MaxSampled, s.stats.HWM)
}

// finish takes a last sample, stops the sampler and returns the summary.
func (s *rssSampler) finish() rssStats {
	s.stop()
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}
