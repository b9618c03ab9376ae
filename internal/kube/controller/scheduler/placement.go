package scheduler

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Reasons of the placement rules, in the words of the real scheduler.
const (
	reasonAntiAffinity = "node(s) didn't match pod anti-affinity rules"
	reasonSpread       = "node(s) didn't match pod topology spread constraints"
)

// placement holds a pod's required placement rules, worked out once per
// decision against what the nodes hold: required node affinity, required
// pod anti-affinity and topology spread constraints that are not to be
// broken (DoNotSchedule). A pod without such rules has none (nil) and
// costs nothing more.
type placement struct {
	affinity nodeaffinity.RequiredNodeAffinity
	hasAff   bool
	// taken lists, per anti-affinity term, the topology values that
	// already hold a matching pod.
	anti []antiTerm
	// spread lists the hard topology spread constraints with their counts.
	spread []spreadRule
}

type antiTerm struct {
	key   string
	taken map[string]bool
}

type spreadRule struct {
	key     string
	maxSkew int32
	counts  map[string]int32 // domain → matching pods
	min     int32
	self    int32 // 1 when the pod matches its own selector
}

// placementOf works out p's rules (s.mu held); nil when it has none.
func (s *Scheduler) placementOf(p *corev1.Pod) *placement {
	var pl placement
	aff := p.Spec.Affinity
	if aff != nil && aff.NodeAffinity != nil && aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		pl.affinity, pl.hasAff = nodeaffinity.GetRequiredNodeAffinity(p), true
	}
	if aff != nil && aff.PodAntiAffinity != nil {
		for _, t := range aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
			sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
			if err != nil || t.TopologyKey == "" {
				continue
			}
			at := antiTerm{key: t.TopologyKey, taken: map[string]bool{}}
			for _, a := range s.pods {
				if !s.sameScope(p, a, t.Namespaces) || !sel.Matches(labels.Set(a.labels)) {
					continue
				}
				if ni := s.nodes[a.node]; ni != nil && ni.node != nil {
					if v, ok := ni.node.Labels[t.TopologyKey]; ok {
						at.taken[v] = true
					}
				}
			}
			pl.anti = append(pl.anti, at)
		}
	}
	for _, c := range p.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != corev1.DoNotSchedule {
			continue // ScheduleAnyway: the spreading by owner does it
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			continue
		}
		r := spreadRule{key: c.TopologyKey, maxSkew: c.MaxSkew, counts: map[string]int32{}}
		if sel.Matches(labels.Set(p.Labels)) {
			r.self = 1
		}
		// The domains are those of the nodes the pod may go to.
		for _, ni := range s.nodes {
			if ni.node == nil || !pl.nodeAllowed(p, ni.node) {
				continue
			}
			if v, ok := ni.node.Labels[c.TopologyKey]; ok {
				r.counts[v] += 0
			}
		}
		for _, a := range s.pods {
			if !s.sameScope(p, a, nil) || !sel.Matches(labels.Set(a.labels)) {
				continue
			}
			if ni := s.nodes[a.node]; ni != nil && ni.node != nil {
				if v, ok := ni.node.Labels[c.TopologyKey]; ok {
					if _, counted := r.counts[v]; counted {
						r.counts[v]++
					}
				}
			}
		}
		first := true
		for _, n := range r.counts {
			if first || n < r.min {
				r.min, first = n, false
			}
		}
		if c.MinDomains != nil && int32(len(r.counts)) < *c.MinDomains {
			r.min = 0
		}
		pl.spread = append(pl.spread, r)
	}
	if !pl.hasAff && len(pl.anti) == 0 && len(pl.spread) == 0 {
		return nil
	}
	return &pl
}

// sameScope reports whether an accounted pod is in the namespaces a term
// looks at (none named: the pod's own).
func (s *Scheduler) sameScope(p *corev1.Pod, a *assumed, namespaces []string) bool {
	if len(namespaces) == 0 {
		return a.namespace == p.Namespace
	}
	for _, ns := range namespaces {
		if ns == a.namespace {
			return true
		}
	}
	return false
}

func (pl *placement) nodeAllowed(p *corev1.Pod, n *corev1.Node) bool {
	if len(p.Spec.NodeSelector) > 0 && !labels.SelectorFromSet(p.Spec.NodeSelector).Matches(labels.Set(n.Labels)) {
		return false
	}
	if pl.hasAff {
		ok, err := pl.affinity.Match(n)
		return err == nil && ok
	}
	return true
}

// fit says why the rules keep p off n ("" when they do not).
func (pl *placement) fit(p *corev1.Pod, n *corev1.Node) string {
	if pl.hasAff {
		if ok, err := pl.affinity.Match(n); err != nil || !ok {
			return reasonSelector
		}
	}
	for _, at := range pl.anti {
		if v, ok := n.Labels[at.key]; ok && at.taken[v] {
			return reasonAntiAffinity
		}
	}
	for _, r := range pl.spread {
		v, ok := n.Labels[r.key]
		if !ok {
			return reasonSpread
		}
		if r.counts[v]+r.self-r.min > r.maxSkew {
			return reasonSpread
		}
	}
	return ""
}
