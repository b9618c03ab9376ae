package cloudstack

import (
	"testing"
	"time"
)

func TestThrottleBacksOff(t *testing.T) {
	th := newThrottle(ThrottleOptions{Free: 3, Base: time.Second, Max: 8 * time.Second})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		fails    int           // failures so far
		wantWait time.Duration // back-off after them
	}{
		{1, 0}, {2, 0}, {3, 0}, {4, time.Second}, {5, 2 * time.Second}, {6, 4 * time.Second}, {7, 8 * time.Second}, {8, 8 * time.Second},
	}
	for _, tc := range tests {
		th.failed("u", "a", now)
		wait, blocked := th.blocked("u", "other", now)
		if wait != tc.wantWait || blocked != (tc.wantWait > 0) {
			t.Fatalf("after %d failures: wait %v (blocked %v), want %v", tc.fails, wait, blocked, tc.wantWait)
		}
		now = now.Add(wait)
	}
	if _, blocked := th.blocked("u", "other", now); blocked {
		t.Fatal("still blocked once the back-off passed")
	}
	th.succeeded("u")
	th.failed("u", "b", now)
	if _, blocked := th.blocked("u", "b", now); blocked {
		t.Fatal("a success did not clear the user's count")
	}
	// The address "a" failed 8 times: under its own limit (4×3).
	if _, blocked := th.blocked("v", "a", now); blocked {
		t.Fatal("address blocked under its limit")
	}
	for range 5 {
		th.failed("w"+now.String(), "a", now)
		now = now.Add(time.Millisecond)
	}
	if _, blocked := th.blocked("new-user", "a", now); !blocked {
		t.Fatal("an address guessing many users is not slowed down")
	}
}
