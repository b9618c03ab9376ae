package cloudstack

import (
	"testing"
	"time"
)

// TestSessionsBounded: logins that never log out cannot grow the table
// past maxSessions; the newest sessions stay valid.
func TestSessionsBounded(t *testing.T) {
	s := newSessions(time.Hour)
	now := time.Now()
	var last *session
	for i := range maxSessions + 50 {
		last = s.create("u", now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := s.count(); n > maxSessions {
		t.Fatalf("%d sessions, want at most %d", n, maxSessions)
	}
	if _, ok := s.check(last.key, last.id, ""); !ok {
		t.Fatal("the newest session was dropped")
	}
}
