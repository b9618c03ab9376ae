package dashboard

import (
	"fmt"
	"testing"
	"time"
)

// TestSessionsBounded: browsers that log in and never come back cannot
// grow the table past maxSessions; each login past it drops the session
// idle longest, and the newest stay. Idle ones are swept as well.
func TestSessionsBounded(t *testing.T) {
	ss := newSessions()
	now := time.Now()
	for i := range maxSessions + 50 {
		ss.add(&session{id: fmt.Sprint(i), idle: time.Hour, lastSeen: now.Add(time.Duration(i) * time.Second)})
	}
	if n := len(ss.all()); n != maxSessions {
		t.Fatalf("%d sessions, want %d", n, maxSessions)
	}
	for _, tc := range []struct {
		id   string
		kept bool
	}{{"0", false}, {"49", false}, {"50", true}, {fmt.Sprint(maxSessions + 49), true}} {
		if got := ss.get(tc.id) != nil; got != tc.kept {
			t.Errorf("session %s kept = %v, want %v", tc.id, got, tc.kept)
		}
	}
	// An hour after the 100th-newest was last seen, it and all older are
	// swept; the 99 newer stay.
	gone := ss.sweep(now.Add(time.Duration(maxSessions+49-99)*time.Second + time.Hour + time.Millisecond))
	if len(gone) != maxSessions-99 || len(ss.all()) != 99 {
		t.Errorf("sweep removed %d and kept %d, want %d and 99", len(gone), len(ss.all()), maxSessions-99)
	}
}
