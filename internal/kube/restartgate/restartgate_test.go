package restartgate

import (
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		v        string
		restarts int32
		wait     time.Duration
		held     bool
	}{
		{"empty holds", "", 0, 0, true},
		{"garbage holds", "x@y", 0, 0, true},
		{"negative holds", "-1@" + now.Format(time.RFC3339Nano), 0, 0, true},
		{"an earlier exit's gate holds", Value(2, now), 3, 0, true},
		{"due now", Value(3, now), 3, 0, false},
		{"later", Value(3, now.Add(1500*time.Millisecond)), 3, 1500 * time.Millisecond, true},
		{"past", Value(3, now.Add(-time.Second)), 3, 0, false},
		{"a later exit's gate lets this one go", Value(4, now), 3, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wait, held := Wait(tc.v, tc.restarts, now)
			if wait != tc.wait || held != tc.held {
				t.Fatalf("Wait(%q, %d) = %v, %v; want %v, %v", tc.v, tc.restarts, wait, held, tc.wait, tc.held)
			}
		})
	}
	n, at, ok := Parse(Value(7, now))
	if !ok || n != 7 || !at.Equal(now) {
		t.Fatalf("round trip: %d %v %v", n, at, ok)
	}
}
