package netslot

import (
	"errors"
	"testing"
)

// TestRangesNeverOverlap checks every pair of slots: no shared service
// range, pod range or node address, and no slot's ranges overlap another
// kind's (a pod IP must never be a cluster IP).
func TestRangesNeverOverlap(t *testing.T) {
	for i := range Count {
		a, err := At(i)
		if err != nil {
			t.Fatal(err)
		}
		if a.ServiceCIDR.Overlaps(a.PodCIDR) || a.ServiceCIDR.Contains(a.NodeAddr) || a.PodCIDR.Contains(a.NodeAddr) {
			t.Errorf("slot %d overlaps itself: %+v", i, a)
		}
		for j := range Count {
			if i == j {
				continue
			}
			b, _ := At(j)
			if a.ServiceCIDR.Overlaps(b.ServiceCIDR) || a.ServiceCIDR.Overlaps(b.PodCIDR) || a.PodCIDR.Overlaps(b.PodCIDR) || a.NodeAddr == b.NodeAddr ||
				b.ServiceCIDR.Contains(a.NodeAddr) || b.PodCIDR.Contains(a.NodeAddr) {
				t.Errorf("slots %d and %d overlap: %+v %+v", i, j, a, b)
			}
		}
	}
	for _, bad := range []int{-1, Count, 1000} {
		if _, err := At(bad); err == nil {
			t.Errorf("At(%d) succeeded", bad)
		}
	}
}

func TestTakeAndRelease(t *testing.T) {
	dir := t.TempDir()
	a, err := Take(dir, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Take(dir, -1)
	if err != nil {
		t.Fatal(err)
	}
	if a.Slot == b.Slot {
		t.Fatalf("two claims got slot %d", a.Slot)
	}
	if _, err := Take(dir, a.Slot); !errors.Is(err, ErrInUse) {
		t.Fatalf("taking a held slot: %v, want ErrInUse", err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	c, err := Take(dir, a.Slot)
	if err != nil {
		t.Fatalf("taking a released slot: %v", err)
	}
	_ = c.Release()
	_ = b.Release()
	if err := (*Claim)(nil).Release(); err != nil {
		t.Fatal(err)
	}
}
