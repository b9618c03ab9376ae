// Package cloudprovider is stratus's cloud controller for nodes that are
// CloudStack VMs (provider ids cloudstack://zone/vmid and, for VMs the GCE
// gateway made, gce://project/zone/instance; see internal/cloudinit): the cloud drives the nodes' life cycle, as a cloud
// controller manager's node life cycle controller does. It is a client of
// both APIs: CloudStack through the CloudStack API, Kubernetes through
// client-go.
package cloudprovider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/record"

	"github.com/stratus-cloud/stratus/internal/app"
	"github.com/stratus-cloud/stratus/internal/cloudinit"
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/kube/eventsink"
)

// ShutdownTaint is the taint a cloud controller puts on a node whose
// machine is shut down (Kubernetes' cloudproviderapi.TaintNodeShutdown).
const ShutdownTaint = "node.cloudprovider.kubernetes.io/shutdown"

// VMLister lists VMs through the CloudStack API (csclient.Client does).
type VMLister interface {
	ListVirtualMachines(ctx context.Context, params url.Values) ([]csclient.VirtualMachine, error)
}

// Options configure the node and load balancer controllers.
type Options struct {
	Client     kubernetes.Interface // required
	CloudStack VMLister             // an admin's client (required)
	// Interval between two looks at the VMs and nodes (default 1 s).
	Interval time.Duration
	Log      *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.Client == nil || o.CloudStack == nil {
		return o, errors.New("cloudprovider: Client and CloudStack are required")
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// Nodes is the cloud node controller: a node whose VM is stopped gets the
// shutdown taint and turns NotReady; a started one loses the taint (its
// agent reports Ready again); a node whose VM is destroyed, expunged or
// gone is deleted, and pod GC deletes its pods, which their controllers
// then place elsewhere. It is an app.Component.
type Nodes struct {
	eventLoop
	o   Options
	log *slog.Logger
}

var _ app.Component = (*Nodes)(nil)

// NewNodes returns the node controller.
func NewNodes(o Options) (*Nodes, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Nodes{o: o, log: o.Log.With("component", "cloud-node-controller")}
	c.eventLoop = newEventLoop(o, "cloud-node-controller", c.Sync)
	return c, nil
}

// Sync brings every CloudStack node in line with its VM once.
func (c *Nodes) Sync(ctx context.Context) error {
	nodes, err := c.o.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	var ours []*corev1.Node
	for i := range nodes.Items {
		if cloudinit.IsProviderID(nodes.Items[i].Spec.ProviderID) {
			ours = append(ours, &nodes.Items[i])
		}
	}
	if len(ours) == 0 {
		return nil
	}
	vms, err := c.o.CloudStack.ListVirtualMachines(ctx, csclient.Params("listall", "true"))
	if err != nil {
		return err
	}
	byProvider := make(map[string]*csclient.VirtualMachine, len(vms))
	for i := range vms {
		byProvider[cloudinit.ProviderID(&vms[i])] = &vms[i]
	}
	var errs []error
	for _, n := range ours {
		if err := c.syncNode(ctx, n, byProvider[n.Spec.ProviderID]); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Nodes) syncNode(ctx context.Context, n *corev1.Node, vm *csclient.VirtualMachine) error {
	state := ""
	if vm != nil {
		state = vm.State
	}
	switch state {
	case "", "Destroyed", "Expunging":
		c.log.Info("deleting the node of a VM that is gone", "node", n.Name, "vmState", state)
		c.rec.Eventf(nodeRef(n), corev1.EventTypeNormal, "DeletingNode", "Deleting node %s because it does not exist in the cloud provider", n.Name)
		uid := n.UID
		return c.o.Client.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	case "Running", "Starting", "Migrating":
		if i := taintIndex(n); i >= 0 && state == "Running" {
			upd := n.DeepCopy()
			upd.Spec.Taints = append(upd.Spec.Taints[:i], upd.Spec.Taints[i+1:]...)
			_, err := c.o.Client.CoreV1().Nodes().Update(ctx, upd, metav1.UpdateOptions{})
			return err
		}
		return nil
	}
	// Stopped, Stopping, Error: the machine is shut down
	if taintIndex(n) < 0 {
		upd := n.DeepCopy()
		now := metav1.Now()
		upd.Spec.Taints = append(upd.Spec.Taints, corev1.Taint{Key: ShutdownTaint, Effect: corev1.TaintEffectNoSchedule, TimeAdded: &now})
		var err error
		if n, err = c.o.Client.CoreV1().Nodes().Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return err
		}
		c.rec.Eventf(nodeRef(n), corev1.EventTypeNormal, "Shutdown", "Node %s's VM is %s", n.Name, state)
	}
	if readyStatus(n) == corev1.ConditionTrue {
		upd := n.DeepCopy()
		now := metav1.Now()
		for i := range upd.Status.Conditions {
			cd := &upd.Status.Conditions[i]
			if cd.Type == corev1.NodeReady {
				cd.Status, cd.Reason, cd.LastTransitionTime = corev1.ConditionUnknown, "NodeShutdown", now
				cd.Message = fmt.Sprintf("The node's virtual machine is %s.", state)
			}
		}
		_, err := c.o.Client.CoreV1().Nodes().UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		return err
	}
	return nil
}

func taintIndex(n *corev1.Node) int {
	for i, t := range n.Spec.Taints {
		if t.Key == ShutdownTaint {
			return i
		}
	}
	return -1
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	for _, cd := range n.Status.Conditions {
		if cd.Type == corev1.NodeReady {
			return cd.Status
		}
	}
	return corev1.ConditionUnknown
}

func nodeRef(n *corev1.Node) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: n.Name, UID: n.UID}
}

// eventLoop is what each controller here runs on: an app.Loop of its Sync
// and an event recorder that records once started (Sync alone, as in
// tests, records nothing).
type eventLoop struct {
	loop   *app.Loop
	client kubernetes.Interface
	rec    record.EventRecorder
	bc     record.EventBroadcaster
}

func newEventLoop(o Options, name string, sync func(context.Context) error) eventLoop {
	return eventLoop{loop: &app.Loop{N: name, Interval: o.Interval, Fn: sync, Log: o.Log.With("component", name)},
		client: o.Client, rec: &record.FakeRecorder{}}
}

// Name implements app.Component.
func (l *eventLoop) Name() string { return l.loop.N }

// Start begins the passes.
func (l *eventLoop) Start(ctx context.Context) error {
	l.bc, _ = eventsink.NewBroadcaster(context.WithoutCancel(ctx), l.client)
	l.rec = l.bc.NewRecorder(scheme.Scheme, corev1.EventSource{Component: l.loop.N})
	return l.loop.Start(ctx)
}

// Stop ends them.
func (l *eventLoop) Stop(ctx context.Context) error {
	err := l.loop.Stop(ctx)
	if l.bc != nil {
		l.bc.Shutdown()
	}
	return err
}
