package instance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/fault"
)

// Kinds of node fault, on the simulated nodes of --sim-nodes, matched by
// name or label selector.
const (
	// FaultNodeDown: the node stops, as its machine would: heartbeats end,
	// its containers stop, and its Ready condition turns Unknown at once
	// (the node controller would after its 40 s grace). Removing the
	// fault starts it again.
	FaultNodeDown = "node-down"
	// FaultNodeGone: the node stops as for node-down, then its Node object
	// is deleted, as the cloud node lifecycle controller does once the
	// machine is gone; the pod GC then deletes its pods. Removing the
	// fault starts it again, and it registers anew.
	FaultNodeGone = "node-gone"
	// FaultNodePressure: the node reports the pressure Conditions
	// (MemoryPressure, DiskPressure, PIDPressure) True, as a kubelet past
	// its eviction thresholds does, and the node lifecycle controller
	// taints it node.kubernetes.io/memory-pressure (…) NoSchedule.
	FaultNodePressure = "node-pressure"
)

// nodeFaultTargets finds the running simulated nodes a node fault names
// (by name or label selector).
func (in *Instance) nodeFaultTargets(ctx context.Context, kc kubernetes.Interface, f Fault) ([]string, error) {
	pool := in.w.simPool
	if (f.Name == "") == (f.Selector == "") {
		return nil, fmt.Errorf("%w: %s takes a node name or a label selector (one of them)", errBadFault, f.Kind)
	}
	if f.Name != "" {
		if pool == nil || !pool.HasNode(f.Name) {
			return nil, fmt.Errorf("%w: no running simulated node %q (node faults act on the nodes of --sim-nodes)", errBadFault, f.Name)
		}
		return []string{f.Name}, nil
	}
	sel, err := labels.Parse(f.Selector)
	if err != nil {
		return nil, fmt.Errorf("%w: selector %q: %v", errBadFault, f.Selector, err)
	}
	nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range nodes.Items {
		if pool != nil && pool.HasNode(n.Name) {
			out = append(out, n.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no running simulated node matches selector %q (node faults act on the nodes of --sim-nodes)", errBadFault, f.Selector)
	}
	slices.Sort(out)
	return out, nil
}

// checkNodeFault refuses what node faults do not take.
func checkNodeFault(f Fault) error {
	if f.Verb != "" || f.Resource != "" || f.Namespace != "" || f.Method != "" || f.Path != "" || f.Status != 0 || f.Latency != 0 ||
		f.DisconnectAfter != 0 || f.Count != 0 || f.Probability != 0 || f.Duration != 0 || f.Command != "" || f.Value != "" ||
		f.Host != "" || f.VM != "" || f.Zone != "" || f.ExitCode != 0 || f.Account != "" {
		return fmt.Errorf("%w: %s takes a node name or label selector only%s", errBadFault, f.Kind,
			map[bool]string{true: ", and conditions", false: ""}[f.Kind == FaultNodePressure])
	}
	if f.Kind != FaultNodePressure {
		if len(f.Conditions) > 0 {
			return fmt.Errorf("%w: conditions are for node-pressure faults", errBadFault)
		}
		return nil
	}
	if len(f.Conditions) == 0 {
		return fmt.Errorf("%w: node-pressure needs conditions (MemoryPressure, DiskPressure, PIDPressure)", errBadFault)
	}
	for _, c := range f.Conditions {
		if !slices.Contains(agent.PressureConditions(), corev1.NodeConditionType(c)) {
			return fmt.Errorf("%w: condition %q: want MemoryPressure, DiskPressure or PIDPressure", errBadFault, c)
		}
	}
	return nil
}

// addNodeFault acts a node fault out on the nodes it names.
func (in *Instance) addNodeFault(ctx context.Context, f Fault) (Fault, error) {
	if err := checkNodeFault(f); err != nil {
		return Fault{}, err
	}
	kc, err := kubernetes.NewForConfig(in.w.kube.LoopbackConfig())
	if err != nil {
		return Fault{}, err
	}
	nodes, err := in.nodeFaultTargets(ctx, kc, f)
	if err != nil {
		return Fault{}, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	f.Rule = fault.Rule{ID: f.Kind + "-" + hex.EncodeToString(b), Kind: f.Kind, Name: f.Name, Created: time.Now()}
	f.Nodes = nodes
	in.downMu.Lock()
	defer in.downMu.Unlock()
	if err := in.actNodeFault(ctx, kc, f); err != nil {
		return Fault{}, err
	}
	if in.nodeFaults == nil {
		in.nodeFaults = map[string]Fault{}
	}
	in.nodeFaults[f.ID] = f
	return f, nil
}

// actNodeFault does what f does to its nodes (on add, and again after a
// restart). Caller holds downMu.
func (in *Instance) actNodeFault(ctx context.Context, kc kubernetes.Interface, f Fault) error {
	pool := in.w.simPool
	if pool == nil {
		return fmt.Errorf("%w: this instance runs no simulated nodes", errBadFault)
	}
	for _, name := range f.Nodes {
		if f.Kind == FaultNodePressure {
			if !pool.HasNode(name) {
				continue // stopped by another fault, or not back since a restart
			}
			if err := pool.SetPressure(ctx, name, in.pressureOn(name, f)); err != nil {
				return err
			}
			continue
		}
		if !pool.RemoveNode(name) {
			continue // another fault stopped it already
		}
		err := markNodeUnknown(ctx, kc, name)
		if err == nil && f.Kind == FaultNodeGone {
			if err = kc.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); apierrors.IsNotFound(err) {
				err = nil
			}
		}
		if err != nil {
			_ = pool.AddNode(context.WithoutCancel(ctx), agent.NodeSpec{Name: name})
			return err
		}
	}
	return nil
}

// pressureOn is the union of the pressure conditions the node-pressure
// faults on node set, with extra (when not nil) among them. Caller holds
// downMu.
func (in *Instance) pressureOn(node string, extra Fault) []corev1.NodeConditionType {
	var out []corev1.NodeConditionType
	add := func(f Fault) {
		if f.Kind != FaultNodePressure || !slices.Contains(f.Nodes, node) {
			return
		}
		for _, c := range f.Conditions {
			if t := corev1.NodeConditionType(c); !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	for _, f := range in.nodeFaults {
		add(f)
	}
	add(extra)
	return out
}

// markNodeUnknown sets the node's Ready condition Unknown, as the node
// controller does for a node that stopped posting status.
func markNodeUnknown(ctx context.Context, kc kubernetes.Interface, name string) error {
	node, err := kc.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	for i, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			node.Status.Conditions[i] = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
				Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status.", LastHeartbeatTime: c.LastHeartbeatTime, LastTransitionTime: now}
		}
	}
	_, err = kc.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

// removeNodeFault undoes a node fault: stopped nodes start again, pressure
// is lifted (but for other faults' conditions).
func (in *Instance) removeNodeFault(ctx context.Context, id string) (bool, error) {
	in.downMu.Lock()
	defer in.downMu.Unlock()
	f, ok := in.nodeFaults[id]
	if !ok {
		return false, nil
	}
	delete(in.nodeFaults, id)
	var errs []error
	for _, name := range f.Nodes {
		if f.Kind == FaultNodePressure {
			if in.w.simPool.HasNode(name) {
				errs = append(errs, in.w.simPool.SetPressure(ctx, name, in.pressureOn(name, Fault{})))
			}
			continue
		}
		if !in.w.simPool.HasNode(name) {
			errs = append(errs, in.w.simPool.AddNode(ctx, agent.NodeSpec{Name: name}))
		}
	}
	return true, errors.Join(errs...)
}

// nodeFaultList lists the node faults, oldest first.
func (in *Instance) nodeFaultList() []Fault {
	in.downMu.Lock()
	defer in.downMu.Unlock()
	out := make([]Fault, 0, len(in.nodeFaults))
	for _, f := range in.nodeFaults {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Fault) int { return a.Created.Compare(b.Created) })
	return out
}
