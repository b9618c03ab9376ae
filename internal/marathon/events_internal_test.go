package marathon

import (
	"bytes"
	"testing"
)

// TestBusPending: a stream takes what was published for it, in order, at
// once; filtered types stay out; a stream maxPending events behind is
// ended and dropped.
func TestBusPending(t *testing.T) {
	b := newBus()
	all := b.subscribe(nil)
	some := b.subscribe([]string{"deployment_info"})
	for range 3 {
		b.publish("status_update_event", map[string]any{"n": 1})
	}
	b.publish("deployment_info", map[string]any{"n": 2})
	select {
	case <-all.wake:
	default:
		t.Fatal("a publish did not wake the stream")
	}
	got := all.take(nil)
	if n := bytes.Count(got, []byte("\n\n")); n != 4 || !bytes.HasPrefix(got, []byte("event: status_update_event\ndata: ")) ||
		!bytes.Contains(got, []byte("event: deployment_info\n")) {
		t.Fatalf("all: %d frames: %s", n, got)
	}
	if again := all.take(got); len(again) != 0 {
		t.Fatalf("taken twice: %s", again)
	}
	if got := some.take(nil); bytes.Count(got, []byte("\n\n")) != 1 || !bytes.HasPrefix(got, []byte("event: deployment_info\n")) {
		t.Fatalf("filtered: %s", got)
	}
	for range maxPending + 1 {
		b.publish("status_update_event", map[string]any{})
	}
	select {
	case <-all.done:
	default:
		t.Fatal("a stream maxPending behind was not ended")
	}
	if b.wants("status_update_event") {
		t.Fatal("an ended stream still counts")
	}
}
