package cloud

import "time"

// Clock is the time source of the simulator, injected so tests move time
// instead of sleeping. k8s.io/utils/clock's clocks satisfy it (the wall
// clock by default; tests step a FakeClock, or count the waiters of a fake
// of their own).
type Clock interface {
	Now() time.Time
	// After delivers the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// after delivers the time once d has passed on the simulator's clock, at
// once when d is not positive (a fake clock would wait for its next step).
func (s *Sim) after(d time.Duration) <-chan time.Time {
	if d <= 0 {
		ch := make(chan time.Time, 1)
		ch <- s.clock.Now()
		return ch
	}
	return s.clock.After(d)
}
