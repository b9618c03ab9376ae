package scheduler

import (
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestPlacementRules places pods of one app, one at a time, on four nodes
// in two zones, under each kind of required rule, and checks where they
// went and which could not go anywhere.
func TestPlacementRules(t *testing.T) {
	app := map[string]string{"app": "web"}
	sel := &metav1.LabelSelector{MatchLabels: app}
	one := func(n int32) *int32 { return &n }
	tests := []struct {
		name   string
		spec   corev1.PodSpec
		pods   int
		placed map[string]int // zone → pods (a1,a2 in zone a; b1,b2 in zone b)
		hosts  int            // distinct nodes used (0: not checked)
		reason string         // message of the pods left over
	}{
		{name: "anti-affinity by hostname", pods: 5, hosts: 4,
			spec:   corev1.PodSpec{Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: corev1.LabelHostname}}}}},
			placed: map[string]int{"a": 2, "b": 2}, reason: reasonAntiAffinity},
		{name: "anti-affinity by zone", pods: 3,
			spec:   corev1.PodSpec{Affinity: &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{LabelSelector: sel, TopologyKey: "zone"}}}}},
			placed: map[string]int{"a": 1, "b": 1}, reason: reasonAntiAffinity},
		{name: "node affinity in", pods: 3,
			spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}}}}}}},
			placed: map[string]int{"b": 3}},
		{name: "node affinity matching nothing", pods: 1,
			spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"c"}}}}}}}}},
			placed: map[string]int{}, reason: reasonSelector},
		{name: "spread by zone", pods: 6,
			spec:   corev1.PodSpec{TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel}}},
			placed: map[string]int{"a": 3, "b": 3}},
		{name: "spread within a node selector", pods: 4,
			spec:   corev1.PodSpec{NodeSelector: map[string]string{"zone": "a"}, TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: corev1.LabelHostname, WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel}}},
			placed: map[string]int{"a": 4}, hosts: 2},
		{name: "min domains above the zones", pods: 3,
			spec:   corev1.PodSpec{TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{MaxSkew: 1, MinDomains: one(3), TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel}}},
			placed: map[string]int{"a": 1, "b": 1}, reason: reasonSpread},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Scheduler{nodes: map[string]*nodeInfo{}, pods: map[types.UID]*assumed{}, dirty: true}
			for _, n := range []string{"a1", "a2", "b1", "b2"} {
				ni := readyNode(n, "64", map[string]string{"zone": n[:1], corev1.LabelHostname: n})
				ni.node.Status.Allocatable[corev1.ResourcePods] = resource.MustParse("100")
				s.nodes[n] = ni
			}
			placed, hosts := map[string]int{}, map[string]bool{}
			var reasons []string
			for i := range tc.pods {
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: types.UID(rune('a' + i)), Labels: app}, Spec: tc.spec}
				p.Spec.Containers = []corev1.Container{{Name: "c"}}
				node, why, _ := s.pick(p, nil)
				if node == "" {
					for r := range why {
						reasons = append(reasons, r)
					}
					continue
				}
				s.account(p.UID, p, node)
				placed[node[:1]]++
				hosts[node] = true
			}
			if len(placed) != len(tc.placed) {
				t.Fatalf("placed %v, want %v", placed, tc.placed)
			}
			for z, n := range tc.placed {
				if placed[z] != n {
					t.Fatalf("placed %v, want %v", placed, tc.placed)
				}
			}
			if tc.hosts != 0 && len(hosts) != tc.hosts {
				t.Fatalf("on %d nodes, want %d", len(hosts), tc.hosts)
			}
			sort.Strings(reasons)
			if tc.reason != "" && !strings.Contains(strings.Join(reasons, ";"), tc.reason) || tc.reason == "" && len(reasons) > 0 {
				t.Fatalf("reasons %v, want %q", reasons, tc.reason)
			}
		})
	}
}
