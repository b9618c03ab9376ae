package marathon

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// TestDelays: Marathon's rate limiter: backoffSeconds, then ×
// backoffFactor up to maxLaunchDelaySeconds; a new config version
// starts again; a delay older than its maximum goes at the next cleanup;
// a failure counts once.
func TestDelays(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := newApp()
	a.ID, a.Version = "/x", "v1"
	a.BackoffSeconds, a.BackoffFactor, a.MaxLaunchDelaySeconds = 2, 1.5, 5
	d := delays{m: map[string]*launchDelay{}, counted: map[types.UID]int32{}}
	for i, tc := range []struct {
		at   time.Duration // when the failure is
		want time.Duration // the delay it sets
	}{{0, 2 * time.Second}, {2 * time.Second, 3 * time.Second}, {5 * time.Second, 4500 * time.Millisecond}, {10 * time.Second, 5 * time.Second}, {15 * time.Second, 5 * time.Second}} {
		now := t0.Add(tc.at)
		if got := d.add(&a, now); !got.Equal(now.Add(tc.want)) {
			t.Fatalf("failure %d: next launch %v after it, want %v", i, got.Sub(now), tc.want)
		}
	}
	last := t0.Add(15 * time.Second)
	if ld, ok := d.delayOf(&a, last); !ok || ld.current != 5*time.Second {
		t.Fatalf("delayOf: %+v %v", ld, ok)
	}
	d.cleanup(last.Add(5 * time.Second))
	if _, ok := d.delayOf(&a, last); !ok {
		t.Fatal("a delay went before it was its maximum old")
	}
	d.cleanup(last.Add(5*time.Second + time.Millisecond))
	if _, ok := d.delayOf(&a, last); ok {
		t.Fatal("a delay older than its maximum stayed")
	}
	d.add(&a, t0)
	b := a
	b.Version = "v2"
	if _, ok := d.delayOf(&b, t0); ok {
		t.Fatal("a new config version kept the old one's delay")
	}
	if got := d.add(&b, t0); !got.Equal(t0.Add(2 * time.Second)) {
		t.Fatalf("new version: %v", got.Sub(t0))
	}
	d.reset("/x")
	if _, ok := d.delayOf(&b, t0); ok {
		t.Fatal("reset kept the delay")
	}
	if !d.count("p", 0) || d.count("p", 0) || !d.count("p", 1) {
		t.Fatal("a failure must count once")
	}
}
