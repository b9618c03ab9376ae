package dashboard

import (
	"sync"
	"time"
)

// seriesCap is how many samples a series keeps: ten minutes at one sample
// every five seconds.
const seriesCap = 120

// sample is one point of a series: two values taken at one time (for
// example all VMs and running VMs).
type sample struct {
	At time.Time
	V  [2]int64
}

// series is a fixed-size ring of samples, oldest overwritten first. Safe for
// concurrent use.
type series struct {
	mu   sync.Mutex
	buf  [seriesCap]sample
	n    int
	next int
}

// add appends a sample, dropping the oldest when full.
func (s *series) add(sm sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf[s.next] = sm
	s.next = (s.next + 1) % seriesCap
	if s.n < seriesCap {
		s.n++
	}
}

// points returns the samples oldest first.
func (s *series) points() []sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]sample, 0, s.n)
	start := (s.next - s.n + seriesCap) % seriesCap
	for i := range s.n {
		out = append(out, s.buf[(start+i)%seriesCap])
	}
	return out
}
