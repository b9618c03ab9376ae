package cloudprovider

import (
	"context"
	"net/url"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
)

type vmList []csclient.VirtualMachine

func (l vmList) ListVirtualMachines(context.Context, url.Values) ([]csclient.VirtualMachine, error) {
	return l, nil
}

func readyNode(name, providerID string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{ProviderID: providerID, Taints: taints},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

// TestNodesFollowVMs: each VM state leads to its node's taint, readiness
// or deletion; nodes that are not CloudStack VMs are left alone.
func TestNodesFollowVMs(t *testing.T) {
	shut := corev1.Taint{Key: ShutdownTaint, Effect: corev1.TaintEffectNoSchedule}
	for _, tc := range []struct {
		name      string
		vmState   string // "" no such VM
		taints    []corev1.Taint
		wantGone  bool
		wantTaint bool
		wantReady corev1.ConditionStatus
		gce       bool // made through the GCE gateway: a gce:// provider id
	}{
		{"running", "Running", nil, false, false, corev1.ConditionTrue, false},
		{"running again", "Running", []corev1.Taint{shut}, false, false, corev1.ConditionTrue, false},
		{"starting keeps the taint", "Starting", []corev1.Taint{shut}, false, true, corev1.ConditionTrue, false},
		{"stopped", "Stopped", nil, false, true, corev1.ConditionUnknown, false},
		{"stopping", "Stopping", nil, false, true, corev1.ConditionUnknown, false},
		{"error", "Error", nil, false, true, corev1.ConditionUnknown, false},
		{"destroyed", "Destroyed", nil, true, false, "", false},
		{"expunging", "Expunging", nil, true, false, "", false},
		{"gone", "", nil, true, false, "", false},
		{"GCE-made, running", "Running", nil, false, false, corev1.ConditionTrue, true},
		{"GCE-made, stopped", "Stopped", nil, false, true, corev1.ConditionUnknown, true},
		{"GCE-made, gone", "", nil, true, false, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := readyNode("host", "")
			prov := "cloudstack://z1/id-1"
			vm := csclient.VirtualMachine{ID: "id-1", Name: "vm1", ZoneName: "z1", State: tc.vmState}
			if tc.gce {
				prov = "gce://proj/z1-a/vm1"
				vm.Tags = []csclient.Tag{{Key: csclient.GCEInstanceTag, Value: "proj/z1-a/vm1"}}
			}
			cs := kubetest.NewClientset(readyNode("vm1", prov, tc.taints...), other)
			var vms vmList
			if tc.vmState != "" {
				vms = vmList{vm}
			}
			c, err := NewNodes(Options{Client: cs, CloudStack: vms})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for range 2 { // a second pass changes nothing more
				if err := c.Sync(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := cs.CoreV1().Nodes().Get(ctx, "host", metav1.GetOptions{}); err != nil {
				t.Fatalf("a node without a CloudStack VM was touched: %v", err)
			}
			n, err := cs.CoreV1().Nodes().Get(ctx, "vm1", metav1.GetOptions{})
			if tc.wantGone {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("node not deleted: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := taintIndex(n) >= 0; got != tc.wantTaint {
				t.Errorf("shutdown taint %v, want %v", got, tc.wantTaint)
			}
			if got := readyStatus(n); got != tc.wantReady {
				t.Errorf("Ready %s, want %s", got, tc.wantReady)
			}
		})
	}
}
