package cloudprovider

import (
	"context"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// StatusConfigMap is where the autoscaler writes its status, as the
// Kubernetes cluster autoscaler does (kube-system/cluster-autoscaler-status,
// key "status", YAML): the node groups with their sizes, node counts and
// scale-up and scale-down activity. The dashboard reads it.
const (
	StatusConfigMap      = "cluster-autoscaler-status"
	statusKey            = "status"
	statusUpdatedAnnotat = "cluster-autoscaler.kubernetes.io/last-updated"
)

// AutoscalerStatus is the status document, a subset of the cluster
// autoscaler's fields under the same names.
type AutoscalerStatus struct {
	Time             string             `json:"time"`
	AutoscalerStatus string             `json:"autoscalerStatus"`
	ClusterWide      ClusterWideStatus  `json:"clusterWide"`
	NodeGroups       []*NodeGroupStatus `json:"nodeGroups"`
}

// ClusterWideStatus sums the groups.
type ClusterWideStatus struct {
	Health    HealthStatus   `json:"health"`
	ScaleUp   ActivityStatus `json:"scaleUp"`
	ScaleDown ActivityStatus `json:"scaleDown"`
}

// NodeGroupStatus is one group's status.
type NodeGroupStatus struct {
	Name      string         `json:"name"`
	Health    HealthStatus   `json:"health"`
	ScaleUp   ActivityStatus `json:"scaleUp"`
	ScaleDown ActivityStatus `json:"scaleDown"`
	// CloudProviderTarget is the group's size once this pass's scaling is
	// done; finish writes it inside Health.
	CloudProviderTarget int  `json:"-"`
	scaleUp             bool // deploying VMs this pass or booting ones
}

// HealthStatus is a group's or the cluster's health and node counts.
type HealthStatus struct {
	Status              string     `json:"status"`
	NodeCounts          NodeCounts `json:"nodeCounts"`
	CloudProviderTarget *int       `json:"cloudProviderTarget,omitempty"`
	MinSize             *int       `json:"minSize,omitempty"`
	MaxSize             *int       `json:"maxSize,omitempty"`
}

// NodeCounts counts nodes: registered (a node object exists) and ready,
// and VMs not yet registered.
type NodeCounts struct {
	Registered   RegisteredCounts `json:"registered"`
	Unregistered int              `json:"unregistered"`
}

// RegisteredCounts splits the registered nodes.
type RegisteredCounts struct {
	Total   int `json:"total"`
	Ready   int `json:"ready"`
	Unready int `json:"unready"`
}

// ActivityStatus is scale-up or scale-down activity.
type ActivityStatus struct {
	Status     string `json:"status"`
	Candidates int    `json:"candidates,omitempty"`
}

func newStatus() *AutoscalerStatus {
	return &AutoscalerStatus{AutoscalerStatus: "Running", NodeGroups: []*NodeGroupStatus{}}
}

// group adds g's status: its members, which are nodes, ready or empty.
func (st *AutoscalerStatus) group(g NodeGroup, members []csclient.VirtualMachine, isNode, ready, busy map[string]bool) *NodeGroupStatus {
	gs := &NodeGroupStatus{Name: g.Name, CloudProviderTarget: len(members)}
	lo, hi := g.Min, g.Max
	gs.Health.MinSize, gs.Health.MaxSize = &lo, &hi
	for _, vm := range members {
		name := strings.ToLower(vm.Name)
		switch {
		case !isNode[name]:
			gs.Health.NodeCounts.Unregistered++
			gs.scaleUp = true
		case ready[name]:
			gs.Health.NodeCounts.Registered.Total++
			gs.Health.NodeCounts.Registered.Ready++
		default:
			gs.Health.NodeCounts.Registered.Total++
			gs.Health.NodeCounts.Registered.Unready++
		}
		if isNode[name] && !busy[name] {
			gs.ScaleDown.Candidates++
		}
	}
	st.NodeGroups = append(st.NodeGroups, gs)
	return gs
}

// finish fills the derived fields: statuses and the cluster-wide sums.
func (st *AutoscalerStatus) finish() {
	cw := &st.ClusterWide
	cw.ScaleUp.Status, cw.ScaleDown.Status = "NoActivity", "NoCandidates"
	for _, gs := range st.NodeGroups {
		target := gs.CloudProviderTarget
		gs.Health.CloudProviderTarget = &target
		gs.Health.Status = "Healthy"
		gs.ScaleUp.Status, gs.ScaleDown.Status = "NoActivity", "NoCandidates"
		if gs.scaleUp {
			gs.ScaleUp.Status, cw.ScaleUp.Status = "InProgress", "InProgress"
		}
		if gs.ScaleDown.Candidates > 0 {
			gs.ScaleDown.Status, cw.ScaleDown.Status = "CandidatesPresent", "CandidatesPresent"
			cw.ScaleDown.Candidates += gs.ScaleDown.Candidates
		}
		n, c := gs.Health.NodeCounts, &cw.Health.NodeCounts
		c.Registered.Total += n.Registered.Total
		c.Registered.Ready += n.Registered.Ready
		c.Registered.Unready += n.Registered.Unready
		c.Unregistered += n.Unregistered
	}
	cw.Health.Status = "Healthy"
}

// writeStatus writes the status ConfigMap when it changed.
func (a *Autoscaler) writeStatus(ctx context.Context, st *AutoscalerStatus) error {
	st.finish()
	body, err := yaml.Marshal(st)
	if err != nil {
		return err
	}
	if string(body) == a.lastStatus {
		return nil
	}
	now := time.Now().UTC()
	st.Time = now.Format("2006-01-02 15:04:05.999999999 -0700 MST")
	stamped, err := yaml.Marshal(st)
	if err != nil {
		return err
	}
	cms := a.o.Client.CoreV1().ConfigMaps(AutoscalerNamespace)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: StatusConfigMap, Namespace: AutoscalerNamespace,
		Annotations: map[string]string{statusUpdatedAnnotat: st.Time}}, Data: map[string]string{statusKey: string(stamped)}}
	cur, err := cms.Get(ctx, StatusConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	case err == nil:
		cur.Data, cur.Annotations = cm.Data, cm.Annotations
		_, err = cms.Update(ctx, cur, metav1.UpdateOptions{})
	}
	if err != nil {
		return err
	}
	a.lastStatus = string(body)
	return nil
}

func nodeIsReady(n *corev1.Node) bool { return readyStatus(n) == corev1.ConditionTrue }
