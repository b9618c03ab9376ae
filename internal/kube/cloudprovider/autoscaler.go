package cloudprovider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// AutoscalerConfigMap holds the node groups (key "groups": a YAML list
// of NodeGroup) and, optionally, how long a node stays empty before its VM
// is destroyed (key "scaleDownAfter", a Go duration; default 10m).
const (
	AutoscalerNamespace = "kube-system"
	AutoscalerConfigMap = "stratus-autoscaler"
)

// NodeGroup is a group of VMs the autoscaler deploys and destroys, named
// <name>-<random>, with the join line as user data.
type NodeGroup struct {
	Name     string `json:"name"`
	Zone     string `json:"zone"`     // zone name
	Offering string `json:"offering"` // service offering name
	Template string `json:"template"` // template name
	Min      int    `json:"min"`
	Max      int    `json:"max"`
	// SecurityGroups (names) for zones with security groups.
	SecurityGroups []string `json:"securityGroups,omitempty"`
}

// Autoscaler deploys VMs of a node group for pods that cannot be placed
// and destroys the VMs of nodes empty for ScaleDownAfter, keeping each
// group between min and max. It is an app.Component.
type Autoscaler struct {
	o              Options
	cs             *csclient.Client
	join           string
	scaleDownAfter time.Duration
	static         []NodeGroup
	eventLoop
	emptySince map[string]time.Time // by node name
	lastStatus string               // the status last written, without its time
}

// NewAutoscaler returns the autoscaler; join is the `stratus agent` line
// its VMs run, and groups those of the data center file (the ConfigMap's
// add to them, and replace one of the same name).
func NewAutoscaler(o Options, cs *csclient.Client, join string, scaleDownAfter time.Duration, groups ...NodeGroup) (*Autoscaler, error) {
	if cs == nil || join == "" {
		return nil, errors.New("cloudprovider: the autoscaler needs a CloudStack client and the join line")
	}
	if o.CloudStack == nil {
		o.CloudStack = cs
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if scaleDownAfter <= 0 {
		scaleDownAfter = 10 * time.Minute // cluster-autoscaler's scale-down-unneeded-time
	}
	a := &Autoscaler{o: o, cs: cs, join: join, scaleDownAfter: scaleDownAfter, static: slices.Clone(groups), emptySince: map[string]time.Time{}}
	a.eventLoop = newEventLoop(o, "cluster-autoscaler", a.Sync)
	return a, nil
}

// Sync makes one pass: read the groups, scale up for unschedulable pods,
// scale down empty nodes.
func (a *Autoscaler) Sync(ctx context.Context) error {
	groups, scaleDownAfter, err := a.groups(ctx)
	if err != nil || len(groups) == 0 {
		return err
	}
	pods, err := a.o.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	nodes, err := a.o.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	vms, err := a.cs.ListVirtualMachines(ctx, csclient.Params("listall", "true"))
	if err != nil {
		return err
	}
	var pending []*corev1.Pod
	busy := map[string]bool{}
	requested := map[string]int64{} // milli-CPUs by node
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Spec.NodeName != "" {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				busy[p.Spec.NodeName] = true
				for _, c := range p.Spec.Containers {
					requested[p.Spec.NodeName] += c.Resources.Requests.Cpu().MilliValue()
				}
			}
			continue
		}
		if unschedulable(p) {
			pending = append(pending, p)
		}
	}
	nodeNames := map[string]bool{}
	free := map[string]int64{} // milli-CPUs a node has left
	for _, n := range nodes.Items {
		nodeNames[n.Name] = true
		free[n.Name] = max(n.Status.Allocatable.Cpu().MilliValue()-requested[n.Name], 0)
	}
	ready := map[string]bool{}
	for i := range nodes.Items {
		ready[nodes.Items[i].Name] = nodeIsReady(&nodes.Items[i])
	}
	st := newStatus()
	var errs []error
	for _, g := range groups {
		var members []csclient.VirtualMachine
		for _, vm := range vms {
			if strings.HasPrefix(vm.Name, g.Name+"-") && vm.State != "Destroyed" && vm.State != "Expunging" {
				members = append(members, vm)
			}
		}
		booting := 0   // deployed, not yet a node: capacity on its way
		var room int64 // free CPU of the group's nodes the scheduler has yet to use
		for _, vm := range members {
			if name := strings.ToLower(vm.Name); !nodeNames[name] {
				booting++
			} else {
				room += free[name]
			}
		}
		// the Pending pods this group's nodes could take and no group
		// before it took
		var mine, rest []*corev1.Pod
		var pendingMilli int64
		for _, p := range pending {
			if !fits(p, g) {
				rest = append(rest, p)
				continue
			}
			mine = append(mine, p)
			for _, c := range p.Spec.Containers {
				pendingMilli += c.Resources.Requests.Cpu().MilliValue()
			}
		}
		pending = rest
		want := 0
		if pendingMilli > 0 {
			cpus, err := a.offeringCPUs(ctx, g.Offering)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			need := max(pendingMilli-room, 0)
			want = int((need+cpus*1000-1)/(cpus*1000)) - booting
		}
		want = max(want, g.Min-len(members))
		want = min(want, g.Max-len(members))
		gs := st.group(g, members, nodeNames, ready, busy)
		if want > 0 {
			gs.CloudProviderTarget += want
			gs.scaleUp = true
			if err := a.scaleUp(ctx, g, want); err != nil {
				errs = append(errs, err)
			}
			for _, p := range mine {
				a.rec.Eventf(p, corev1.EventTypeNormal, "TriggeredScaleUp", "pod triggered scale-up: [{%s %d->%d (max: %d)}]", g.Name, len(members), len(members)+want, g.Max)
			}
			continue
		}
		// scale down nodes empty for scaleDownAfter, never below min
		count := len(members)
		now := time.Now()
		var victims []csclient.VirtualMachine
		for _, vm := range members {
			name := strings.ToLower(vm.Name)
			if !nodeNames[name] || busy[name] || len(mine) > 0 {
				delete(a.emptySince, name)
				continue
			}
			since, ok := a.emptySince[name]
			if !ok {
				a.emptySince[name] = now
				continue
			}
			if now.Sub(since) < scaleDownAfter || count <= g.Min {
				continue
			}
			count--
			victims = append(victims, vm)
		}
		for i, err := range a.destroy(ctx, victims) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			name := strings.ToLower(victims[i].Name)
			gs.CloudProviderTarget--
			delete(a.emptySince, name)
			a.rec.Eventf(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, corev1.EventTypeNormal, "ScaleDown", "node removed by cluster autoscaler: empty for %v", scaleDownAfter)
		}
	}
	if err := a.writeStatus(ctx, st); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// groups returns the node groups: the data center file's, with the
// ConfigMap's added (one of the same name replaces it), and how long a
// node stays empty before its VM goes.
func (a *Autoscaler) groups(ctx context.Context) ([]NodeGroup, time.Duration, error) {
	groups, after := slices.Clone(a.static), a.scaleDownAfter
	cm, err := a.o.Client.CoreV1().ConfigMaps(AutoscalerNamespace).Get(ctx, AutoscalerConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return groups, after, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var more []NodeGroup
	if err := yaml.Unmarshal([]byte(cm.Data["groups"]), &more); err != nil {
		return nil, 0, fmt.Errorf("configmap %s/%s: groups: %w", AutoscalerNamespace, AutoscalerConfigMap, err)
	}
	for _, g := range more {
		if i := slices.IndexFunc(groups, func(s NodeGroup) bool { return s.Name == g.Name }); i >= 0 {
			groups[i] = g
		} else {
			groups = append(groups, g)
		}
	}
	if d, err := time.ParseDuration(cm.Data["scaleDownAfter"]); err == nil && d > 0 {
		after = d
	}
	return groups, after, nil
}

// fits reports whether a node of the group would match the pod's node
// selector: the group's nodes carry the offering as their instance type
// and the zone; a selector on any other label is one a new node cannot
// promise.
func fits(p *corev1.Pod, g NodeGroup) bool {
	for k, v := range p.Spec.NodeSelector {
		switch k {
		case corev1.LabelInstanceTypeStable:
			if v != g.Offering {
				return false
			}
		case corev1.LabelTopologyZone:
			if v != g.Zone {
				return false
			}
		case corev1.LabelTopologyRegion, corev1.LabelOSStable, corev1.LabelArchStable:
		default:
			return false
		}
	}
	return true
}

// unschedulable reports whether the scheduler found no node for p.
func unschedulable(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}

func (a *Autoscaler) offeringCPUs(ctx context.Context, name string) (int64, error) {
	offs, err := a.cs.ListServiceOfferings(ctx)
	if err != nil {
		return 0, err
	}
	for _, o := range offs {
		if o.Name == name && o.CPUNumber > 0 {
			return int64(o.CPUNumber), nil
		}
	}
	return 0, fmt.Errorf("node group: no service offering %q", name)
}

// deployWorkers bounds the deploys (or destroys) one scale-up (or down)
// has under way at once, as cluster-autoscaler's cloud providers create
// and delete a group's instances side by side: a CloudStack answers each
// after its own round trip.
const deployWorkers = 16

// scaleUp deploys n VMs of the group (without waiting for their jobs),
// deployWorkers at a time.
func (a *Autoscaler) scaleUp(ctx context.Context, g NodeGroup, n int) error {
	zoneID, offID, tmplID, err := a.resolve(ctx, g)
	if err != nil {
		return err
	}
	ud := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\n" + a.join + "\n"))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(deployWorkers)
	for range n {
		var b [4]byte
		_, _ = rand.Read(b[:])
		q := csclient.Params("zoneid", zoneID, "serviceofferingid", offID, "templateid", tmplID,
			"name", g.Name+"-"+hex.EncodeToString(b[:]), "userdata", ud, "securitygroupnames", strings.Join(g.SecurityGroups, ","))
		eg.Go(func() error {
			_, err := a.cs.Async(ctx, "deployVirtualMachine", q)
			return err
		})
	}
	return eg.Wait()
}

// destroy destroys and expunges the VMs, deployWorkers at a time, each
// waited for; it returns each one's error.
func (a *Autoscaler) destroy(ctx context.Context, vms []csclient.VirtualMachine) []error {
	errs := make([]error, len(vms))
	var eg errgroup.Group
	eg.SetLimit(deployWorkers)
	for i, vm := range vms {
		eg.Go(func() error {
			errs[i] = a.cs.AsyncWait(ctx, "destroyVirtualMachine", csclient.Params("id", vm.ID, "expunge", "true"), "", nil)
			return nil
		})
	}
	_ = eg.Wait()
	return errs
}

func (a *Autoscaler) resolve(ctx context.Context, g NodeGroup) (zoneID, offID, tmplID string, err error) {
	zones, err := a.cs.ListZones(ctx)
	if err != nil {
		return "", "", "", err
	}
	for _, z := range zones {
		if z.Name == g.Zone {
			zoneID = z.ID
		}
	}
	offs, err := a.cs.ListServiceOfferings(ctx)
	if err != nil {
		return "", "", "", err
	}
	for _, o := range offs {
		if o.Name == g.Offering {
			offID = o.ID
		}
	}
	tmpls, err := a.cs.ListTemplates(ctx, "executable")
	if err != nil {
		return "", "", "", err
	}
	for _, t := range tmpls {
		if t.Name == g.Template {
			tmplID = t.ID
		}
	}
	if zoneID == "" || offID == "" || tmplID == "" {
		return "", "", "", fmt.Errorf("node group %s: zone %q, offering %q or template %q not found", g.Name, g.Zone, g.Offering, g.Template)
	}
	return zoneID, offID, tmplID, nil
}
