package agent

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stratus-cloud/stratus/internal/kube/controller/kubetest"
	"github.com/stratus-cloud/stratus/internal/kube/sharedpods"
	"github.com/stratus-cloud/stratus/internal/runtime/sim"
	"github.com/stratus-cloud/stratus/internal/testenv"
)

// TestPoolAddAndRemoveNode: a pool of none gets nodes while it runs, each
// with its own addresses, capacity, labels and provider id; a removed one
// stops renewing its lease and the pool forgets it.
func TestPoolAddAndRemoveNode(t *testing.T) {
	cs := kubetest.NewClientset()
	p, err := NewSimPool(SimPoolOptions{Client: cs, Runtime: sim.New(sim.Options{}), Certs: newTestCA(t).certs(), Timing: Timing{RenewInterval: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}
	for _, name := range []string{"vm-a", "vm-b"} {
		err := p.AddNode(ctx, NodeSpec{Name: name, Capacity: capacity, Labels: map[string]string{"topology.kubernetes.io/zone": "z1"},
			InternalIP: "10.1.1.5", Addresses: []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "192.0.2.7"}},
			ProviderID: "cloudstack://z1/" + name})
		if err != nil {
			t.Fatal(err)
		}
	}
	n, err := cs.CoreV1().Nodes().Get(ctx, "vm-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[corev1.NodeAddressType]string{}
	for _, a := range n.Status.Addresses {
		addrs[a.Type] = a.Address
	}
	if !isReady(&n.Status) || n.Spec.ProviderID != "cloudstack://z1/vm-a" || n.Labels["topology.kubernetes.io/zone"] != "z1" ||
		addrs[corev1.NodeInternalIP] != "10.1.1.5" || addrs[corev1.NodeExternalIP] != "192.0.2.7" || n.Status.Capacity.Cpu().Value() != 4 {
		t.Fatalf("node: %+v %+v %+v", n.Labels, n.Spec, n.Status)
	}
	// a restart (the VM rebooted): Ready False with a starting kubelet's
	// reason, then Ready again, still in the pool
	w, err := cs.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=vm-b", ResourceVersion: n.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RestartNode(ctx, "vm-b"); err != nil || !p.HasNode("vm-b") {
		t.Fatalf("RestartNode: %v", err)
	}
	var reasons []string // the Ready condition's reasons as they change
	blinked := func() bool {
		return len(reasons) >= 2 && reasons[len(reasons)-2] == "KubeletNotReady" && reasons[len(reasons)-1] == "KubeletReady"
	}
	for !blinked() {
		select {
		case ev := <-w.ResultChan():
			if nn, ok := ev.Object.(*corev1.Node); ok {
				for _, c := range nn.Status.Conditions {
					if c.Type == corev1.NodeReady && (len(reasons) == 0 || reasons[len(reasons)-1] != c.Reason) {
						reasons = append(reasons, c.Reason)
					}
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("restart: Ready reasons %v", reasons)
		}
	}
	w.Stop()
	if err := p.RestartNode(ctx, "vm-z"); err == nil {
		t.Error("RestartNode of a node the pool does not run: no error")
	}
	if !p.RemoveNode("vm-a") || p.RemoveNode("vm-a") || p.HasNode("vm-a") || !p.HasNode("vm-b") {
		t.Fatal("RemoveNode did not take vm-a out of the pool alone")
	}
	lease := func(name string) time.Time {
		l, err := cs.CoordinationV1().Leases(LeaseNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil || l.Spec.RenewTime == nil {
			return time.Time{}
		}
		return l.Spec.RenewTime.Time
	}
	// a heartbeat under way when it was removed may still land: wait for
	// two of vm-b's, then vm-a's lease must stay as it is for two more
	waitB := func() {
		b0 := lease("vm-b")
		testenv.Eventually(t, 10*time.Second, "vm-b's lease renewed", func() bool { return lease("vm-b").After(b0) })
		b1 := lease("vm-b")
		testenv.Eventually(t, 10*time.Second, "vm-b's lease renewed again", func() bool { return lease("vm-b").After(b1) })
	}
	waitB()
	a0 := lease("vm-a")
	waitB()
	if !lease("vm-a").Equal(a0) {
		t.Fatal("a removed node still renews its lease")
	}
}

// TestPoolOnSharedPodInformer: a pool on the process's shared pod informer
// runs the pods bound to its nodes, leaves the others alone, and keeps
// running them after another part of the process released its view.
func TestPoolOnSharedPodInformer(t *testing.T) {
	cs := kubetest.NewClientset()
	pods := sharedpods.New(cs)
	t.Cleanup(func() { _ = pods.Stop(context.Background()) })
	other := pods.View() // another part, e.g. a controller manager that stops
	p, err := NewSimPool(SimPoolOptions{Client: cs, Pods: pods, Count: 1, Runtime: sim.New(sim.Options{}), Certs: newTestCA(t).certs()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	// no controller here: give the node its pod CIDR by hand
	n, err := cs.CoreV1().Nodes().Get(ctx, "sim-node-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.PodCIDR = "127.128.1.0/24"
	if _, err := cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go other.Run(stop)
	close(stop)
	other.Release()
	for _, name := range []string{"mine", "elsewhere"} {
		node := map[string]string{"mine": "sim-node-0", "elsewhere": "not-ours"}[name]
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, "pod running", func() bool {
		return getPod(t, cs, "mine").Status.Phase == corev1.PodRunning
	})
	if ph := getPod(t, cs, "elsewhere").Status.Phase; ph != "" {
		t.Fatalf("a pod of another node got phase %q", ph)
	}
}
