package app

import (
	"context"
	"slices"
	"testing"
)

// TestGroupStatusesListsEveryPart: /readyz?verbose shows each part, the
// members of a Parallel one by one, in start order, ready only once
// started and (for a Readier) ready.
func TestGroupStatusesListsEveryPart(t *testing.T) {
	ready := false
	var g Group
	g.Add(
		Func{N: "store"},
		&Parallel{N: "first", Parts: []Component{Func{N: "cloud"}, Func{N: "kube", ReadyFn: func() bool { return ready }}}},
		Func{N: "http"},
	)
	names := func(ps []PartStatus) (all, notReady []string) {
		for _, p := range ps {
			all = append(all, p.Name)
		}
		return all, NotReady(ps)
	}
	tests := []struct {
		name         string
		act          func()
		wantNotReady []string
	}{
		{"before start", func() {}, []string{"store", "cloud", "kube", "http"}},
		{"started, one not ready", func() {
			if err := g.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, []string{"kube"}},
		{"all ready", func() { ready = true }, nil},
		{"stopped", func() { _ = g.Stop(context.Background()) }, []string{"store", "cloud", "kube", "http"}},
	}
	for _, tt := range tests {
		tt.act()
		all, notReady := names(g.Statuses())
		if want := []string{"store", "cloud", "kube", "http"}; !slices.Equal(all, want) {
			t.Fatalf("%s: parts %v, want %v", tt.name, all, want)
		}
		if !slices.Equal(notReady, tt.wantNotReady) {
			t.Errorf("%s: not ready %v, want %v", tt.name, notReady, tt.wantNotReady)
		}
		ok, missing := g.Ready()
		if ok != (len(tt.wantNotReady) == 0) || !slices.Equal(missing, tt.wantNotReady) {
			t.Errorf("%s: Ready() = %v %v", tt.name, ok, missing)
		}
	}
}
