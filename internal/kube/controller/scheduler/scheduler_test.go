package scheduler

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
)

func readyNode(name string, cpu string, lbls map[string]string, taints ...corev1.Taint) *nodeInfo {
	return &nodeInfo{owners: map[types.UID]int32{}, node: &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourcePods: resource.MustParse("2")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		}}}
}

func podWith(cpu string, sel map[string]string, tols ...corev1.Toleration) *corev1.Pod {
	p := &corev1.Pod{Spec: corev1.PodSpec{NodeSelector: sel, Tolerations: tols,
		Containers: []corev1.Container{{Name: "c"}}}}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return p
}

func TestFit(t *testing.T) {
	taint := corev1.Taint{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}
	notReady := readyNode("n", "4", nil)
	notReady.node.Status.Conditions[0].Status = corev1.ConditionFalse
	full := readyNode("n", "4", nil)
	full.pods = 2
	tests := []struct {
		name string
		pod  *corev1.Pod
		node *nodeInfo
		want string
	}{
		{"fits", podWith("1", nil), readyNode("n", "4", nil), ""},
		{"too much cpu", podWith("5", nil), readyNode("n", "4", nil), reasonCPU},
		{"selector mismatch", podWith("", map[string]string{"disk": "ssd"}), readyNode("n", "4", nil), reasonSelector},
		{"selector match", podWith("", map[string]string{"disk": "ssd"}), readyNode("n", "4", map[string]string{"disk": "ssd"}), ""},
		{"untolerated taint", podWith("", nil), readyNode("n", "4", nil, taint), "node(s) had untolerated taint {dedicated: gpu}"},
		{"tolerated taint", podWith("", nil, corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu"}), readyNode("n", "4", nil, taint), ""},
		{"exists tolerates all", podWith("", nil, corev1.Toleration{Operator: corev1.TolerationOpExists}), readyNode("n", "4", nil, taint), ""},
		{"not ready", podWith("", nil), notReady, reasonNotReady},
		{"no pod slots", podWith("", nil), full, reasonPods},
	}
	s := &Scheduler{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sel labels.Selector
			if len(tc.pod.Spec.NodeSelector) > 0 {
				sel = labels.SelectorFromSet(tc.pod.Spec.NodeSelector)
			}
			cpu, mem := podRequests(tc.pod)
			if got := s.fit(tc.pod, sel, cpu, mem, tc.node, nil); got != tc.want {
				t.Fatalf("fit = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPickSpreadsReplicas(t *testing.T) {
	s := &Scheduler{nodes: map[string]*nodeInfo{"a": readyNode("a", "4", nil), "b": readyNode("b", "4", nil)}, pods: map[types.UID]*assumed{}, dirty: true}
	owner := types.UID("rc-1")
	placed := map[string]int{}
	for i := range 4 {
		p := podWith("", nil)
		p.UID = types.UID(string(rune('p' + i)))
		p.OwnerReferences = []metav1.OwnerReference{{UID: owner, Controller: ptrBool(true)}}
		node, _, _ := s.pick(p, nil)
		if node == "" {
			t.Fatalf("pod %d not placed", i)
		}
		s.account(p.UID, p, node)
		placed[node]++
	}
	if placed["a"] != 2 || placed["b"] != 2 {
		t.Fatalf("replicas placed %v, want 2 and 2", placed)
	}
	// both nodes are full (2 pod slots each): the message says why
	node, reasons, total := s.pick(podWith("", nil), nil)
	msg := failureMessage(total, reasons)
	if node != "" || !strings.HasPrefix(msg, "0/2 nodes are available: 2 Too many pods.") {
		t.Fatalf("pick on full nodes: %q %q", node, msg)
	}
}

func ptrBool(b bool) *bool { return &b }

// TestRetryWhenATaintGoes: pods waiting for a node are tried again when a
// node loses a taint (a pressure condition over), not on other updates.
func TestRetryWhenATaintGoes(t *testing.T) {
	pressure := corev1.Taint{Key: corev1.TaintNodeMemoryPressure, Effect: corev1.TaintEffectNoSchedule}
	for _, tc := range []struct {
		name          string
		before, after []corev1.Taint
		retry         bool
	}{
		{"taint removed", []corev1.Taint{pressure}, nil, true},
		{"taint added", nil, []corev1.Taint{pressure}, false},
		{"unchanged", []corev1.Taint{pressure}, []corev1.Taint{pressure}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Scheduler{queue: workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
				nodes: map[string]*nodeInfo{"n": readyNode("n", "1", nil, tc.before...)}, unsched: map[string]struct{}{"default/p": {}}}
			defer s.queue.ShutDown()
			s.nodeChanged(readyNode("n", "1", nil, tc.after...).node, false)
			if got := s.queue.Len() == 1; got != tc.retry {
				t.Errorf("retried %v, want %v", got, tc.retry)
			}
		})
	}
}
