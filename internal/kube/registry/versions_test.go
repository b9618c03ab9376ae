package registry

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestEquivalentVersions: matchPolicy Equivalent finds the other version of
// a kind served at two, within a group and across groups (Events), and the
// kind at each.
func TestEquivalentVersions(t *testing.T) {
	g, err := New(NewCodecs())
	if err != nil {
		t.Fatal(err)
	}
	eq := g.Equivalents()
	cases := []struct {
		in   schema.GroupVersionResource
		want []schema.GroupVersionResource
		kind schema.GroupVersionKind
	}{
		{schema.GroupVersionResource{Group: "autoscaling", Version: "v1", Resource: "horizontalpodautoscalers"},
			[]schema.GroupVersionResource{{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}},
			schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "HorizontalPodAutoscaler"}},
		{schema.GroupVersionResource{Version: "v1", Resource: "events"},
			[]schema.GroupVersionResource{{Group: "events.k8s.io", Version: "v1", Resource: "events"}},
			schema.GroupVersionKind{Version: "v1", Kind: "Event"}},
		{schema.GroupVersionResource{Group: "events.k8s.io", Version: "v1", Resource: "events"},
			[]schema.GroupVersionResource{{Version: "v1", Resource: "events"}},
			schema.GroupVersionKind{Group: "events.k8s.io", Version: "v1", Kind: "Event"}},
		{schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, nil,
			schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}},
	}
	for _, c := range cases {
		got := eq.EquivalentResourcesFor(c.in, "")
		others := map[schema.GroupVersionResource]bool{}
		for _, r := range got {
			if r != c.in {
				others[r] = true
			}
		}
		if len(others) != len(c.want) {
			t.Errorf("%v: equivalents %v, want %v", c.in, got, c.want)
		}
		for _, w := range c.want {
			if !others[w] {
				t.Errorf("%v: %v missing from %v", c.in, w, got)
			}
		}
		if k := eq.KindFor(c.in, ""); k != c.kind {
			t.Errorf("%v: kind %v, want %v", c.in, k, c.kind)
		}
	}
}
