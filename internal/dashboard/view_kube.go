package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"net"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// podPageSize is how many pods one page of the pod table shows.
const podPageSize = 100

// kubeSummary is the Kubernetes part of the overview.
type kubeSummary struct {
	Nodes, NodesReady int
	PodTotal          int
	Phases            []stackPart
	PhaseBar          template.HTML
	PodChart          template.HTML
	Err               string
}

type nodeRow struct {
	Name    string
	Ready   bool
	CPU     string
	Memory  string
	Pods    int
	Created metav1.Time
}

type podRow struct {
	Namespace, Name, Node, Phase, IP string
	// Reason says why a Pending pod is not running yet.
	Reason string
}

type workloadRow struct {
	Namespace, Name                string
	Desired, Current, Ready, Avail int32
}

type servicePort struct {
	Name, Protocol string
	Port, NodePort int32
	// Link opens the node port from the browser ("" without a node port).
	Link string
}

type serviceRow struct {
	Namespace, Name, Type, ClusterIP string
	Ports                            []servicePort
}

// nodeGroupRow is one of the cluster autoscaler's node groups, as its
// status ConfigMap (kube-system/cluster-autoscaler-status) reports it.
type nodeGroupRow struct {
	Name                       string
	Target, Min, Max           int
	Ready, Registered, Booting int
	ScaleUp, ScaleDown         string
}

// autoscalerStatus is the part of the cluster autoscaler's status
// document the dashboard shows.
type autoscalerStatus struct {
	NodeGroups []struct {
		Name   string `json:"name"`
		Health struct {
			NodeCounts struct {
				Registered struct {
					Total int `json:"total"`
					Ready int `json:"ready"`
				} `json:"registered"`
				Unregistered int `json:"unregistered"`
			} `json:"nodeCounts"`
			CloudProviderTarget int `json:"cloudProviderTarget"`
			MinSize             int `json:"minSize"`
			MaxSize             int `json:"maxSize"`
		} `json:"health"`
		ScaleUp struct {
			Status string `json:"status"`
		} `json:"scaleUp"`
		ScaleDown struct {
			Status string `json:"status"`
		} `json:"scaleDown"`
	} `json:"nodeGroups"`
}

// nodeGroups reads the autoscaler's status ConfigMap; none (no groups, or
// no autoscaler) is no rows.
func (d *Dashboard) nodeGroups(ctx context.Context) ([]nodeGroupRow, error) {
	cm, err := d.kube.CoreV1().ConfigMaps("kube-system").Get(ctx, "cluster-autoscaler-status", metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("autoscaler status: %w", err)
	}
	var st autoscalerStatus
	if err := yaml.Unmarshal([]byte(cm.Data["status"]), &st); err != nil {
		return nil, fmt.Errorf("autoscaler status: %w", err)
	}
	var rows []nodeGroupRow
	for _, g := range st.NodeGroups {
		h := g.Health
		rows = append(rows, nodeGroupRow{Name: g.Name, Target: h.CloudProviderTarget, Min: h.MinSize, Max: h.MaxSize,
			Ready: h.NodeCounts.Registered.Ready, Registered: h.NodeCounts.Registered.Total, Booting: h.NodeCounts.Unregistered,
			ScaleUp: g.ScaleUp.Status, ScaleDown: g.ScaleDown.Status})
	}
	return rows, nil
}

type kubeData struct {
	NodeGroups []nodeGroupRow
	// NodeGroupsErr says why the node groups could not be read.
	NodeGroupsErr string
	Summary       *kubeSummary
	Nodes         []nodeRow
	Pods          []podRow
	PodPager      pager
	Deployments   []workloadRow
	RCs           []workloadRow
	Services      []serviceRow
}

// podPhases are the pod phases in display order, with their colour class.
func podPhases() []stackPart {
	return []stackPart{
		{Label: string(corev1.PodRunning), Class: "running"},
		{Label: string(corev1.PodPending), Class: "pending"},
		{Label: string(corev1.PodSucceeded), Class: "stopped"},
		{Label: string(corev1.PodFailed), Class: "error"},
		{Label: string(corev1.PodUnknown), Class: "gone"},
	}
}

// list options that let the API server answer from its cache.
func cached() metav1.ListOptions { return metav1.ListOptions{ResourceVersion: "0"} }

// summarize counts nodes and pods by phase.
func (d *Dashboard) summarize(nodes []corev1.Node, pods []corev1.Pod) *kubeSummary {
	ks := &kubeSummary{Nodes: len(nodes), PodTotal: len(pods), Phases: podPhases()}
	for i := range nodes {
		if nodeReady(&nodes[i]) {
			ks.NodesReady++
		}
	}
	for i := range pods {
		ph := pods[i].Status.Phase
		if ph == "" {
			ph = corev1.PodPending
		}
		for j := range ks.Phases {
			if ks.Phases[j].Label == string(ph) {
				ks.Phases[j].N++
			}
		}
	}
	ks.PhaseBar = stackedBar(ks.Phases)
	ks.PodChart = lineChart(d.podSeries.points(), [2]string{"pods", "running"}, d.clock.Now())
	return ks
}

// kubeSummary loads the overview's Kubernetes counts.
func (d *Dashboard) kubeSummary(ctx context.Context) (*kubeSummary, error) {
	nodes, err := d.kube.CoreV1().Nodes().List(ctx, cached())
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	pods, err := d.kube.CoreV1().Pods("").List(ctx, cached())
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	return d.summarize(nodes.Items, pods.Items), nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (d *Dashboard) loadKube(ctx context.Context, rq viewRequest) (any, error) {
	core, apps := d.kube.CoreV1(), d.kube.AppsV1()
	nodes, err := core.Nodes().List(ctx, cached())
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	pods, err := core.Pods("").List(ctx, cached())
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	deps, err := apps.Deployments("").List(ctx, cached())
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	rcs, err := core.ReplicationControllers("").List(ctx, cached())
	if err != nil {
		return nil, fmt.Errorf("list replication controllers: %w", err)
	}
	svcs, err := core.Services("").List(ctx, cached())
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	kd := kubeData{Summary: d.summarize(nodes.Items, pods.Items)}
	if kd.NodeGroups, err = d.nodeGroups(ctx); err != nil {
		kd.NodeGroupsErr = err.Error()
	}

	perNode := map[string]int{}
	for i := range pods.Items {
		perNode[pods.Items[i].Spec.NodeName]++
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		kd.Nodes = append(kd.Nodes, nodeRow{
			Name: n.Name, Ready: nodeReady(n), Pods: perNode[n.Name], Created: n.CreationTimestamp,
			CPU: n.Status.Capacity.Cpu().String(), Memory: humanMB(n.Status.Capacity.Memory().Value() / (1024 * 1024)),
		})
	}
	sort.Slice(kd.Nodes, func(i, j int) bool { return kd.Nodes[i].Name < kd.Nodes[j].Name })

	items := pods.Items
	sort.Slice(items, func(i, j int) bool {
		if items[i].Namespace != items[j].Namespace {
			return items[i].Namespace < items[j].Namespace
		}
		return items[i].Name < items[j].Name
	})
	page := rq.intParam("page", 1)
	kd.PodPager = newPager(nil, "/client/kube", page, podPageSize, int64(len(items)))
	for i := (page - 1) * podPageSize; i < len(items) && i < page*podPageSize; i++ {
		p := &items[i]
		phase := string(p.Status.Phase)
		if p.DeletionTimestamp != nil {
			phase = "Terminating"
		}
		row := podRow{Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName, Phase: phase, IP: p.Status.PodIP}
		if p.Status.Phase == corev1.PodPending {
			row.Reason = pendingReason(p)
		}
		kd.Pods = append(kd.Pods, row)
	}

	for i := range deps.Items {
		dp := &deps.Items[i]
		kd.Deployments = append(kd.Deployments, workloadRow{
			Namespace: dp.Namespace, Name: dp.Name, Desired: replicas(dp.Spec.Replicas),
			Current: dp.Status.Replicas, Ready: dp.Status.ReadyReplicas, Avail: dp.Status.AvailableReplicas,
		})
	}
	for i := range rcs.Items {
		rc := &rcs.Items[i]
		kd.RCs = append(kd.RCs, workloadRow{
			Namespace: rc.Namespace, Name: rc.Name, Desired: replicas(rc.Spec.Replicas),
			Current: rc.Status.Replicas, Ready: rc.Status.ReadyReplicas, Avail: rc.Status.AvailableReplicas,
		})
	}
	for i := range svcs.Items {
		sv := &svcs.Items[i]
		row := serviceRow{Namespace: sv.Namespace, Name: sv.Name, Type: string(sv.Spec.Type), ClusterIP: sv.Spec.ClusterIP}
		for _, p := range sv.Spec.Ports {
			sp := servicePort{Name: p.Name, Protocol: string(p.Protocol), Port: p.Port, NodePort: p.NodePort}
			if p.NodePort > 0 {
				sp.Link = "http://" + net.JoinHostPort(rq.host, strconv.Itoa(int(p.NodePort))) + "/"
			}
			row.Ports = append(row.Ports, sp)
		}
		kd.Services = append(kd.Services, row)
	}
	return kd, nil
}

// replicas reads an optional replica count (Kubernetes defaults it to 1).
func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// pendingReason says why a Pending pod is not running, as kubectl shows
// it: a container's waiting reason (ContainerCreating, ErrImagePull), else
// the scheduler's (Unschedulable, with its message), else "not scheduled
// yet".
func pendingReason(p *corev1.Pod) string {
	for _, cs := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			if w.Message != "" {
				return w.Reason + ": " + w.Message
			}
			return w.Reason
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason != "" {
			if c.Message != "" {
				return c.Reason + ": " + c.Message
			}
			return c.Reason
		}
	}
	if p.Spec.NodeName == "" {
		return "not scheduled yet"
	}
	return ""
}
