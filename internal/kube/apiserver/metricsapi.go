package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// metrics.k8s.io v1beta1, served by the API server itself (where a real
// cluster runs metrics-server behind an APIService) from the node agents'
// GET /stats/usage over the node channel, asked at request time: NodeMetrics
// and PodMetrics for kubectl top and the HorizontalPodAutoscaler.
var metricsGV = schema.GroupVersion{Group: "metrics.k8s.io", Version: "v1beta1"}

const metricsPrefix = "/apis/metrics.k8s.io/v1beta1/"

// The wire types, as k8s.io/metrics defines them.
type nodeMetrics struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Timestamp         metav1.Time         `json:"timestamp"`
	Window            metav1.Duration     `json:"window"`
	Usage             corev1.ResourceList `json:"usage"`
}

type podMetrics struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Timestamp         metav1.Time        `json:"timestamp"`
	Window            metav1.Duration    `json:"window"`
	Containers        []containerMetrics `json:"containers"`
}

type containerMetrics struct {
	Name  string              `json:"name"`
	Usage corev1.ResourceList `json:"usage"`
}

type metricsList[T any] struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []T `json:"items"`
}

// agentUsage is the agents' report (agent/usage.go).
type agentUsage struct {
	Timestamp time.Time `json:"timestamp"`
	Window    string    `json:"window"`
	Nodes     []struct {
		Name     string `json:"name"`
		CPUNanos int64  `json:"cpuNanoCores"`
		Memory   int64  `json:"memoryBytes"`
	} `json:"nodes"`
	Pods []struct {
		Namespace  string `json:"namespace"`
		Name       string `json:"name"`
		Containers []struct {
			Name     string `json:"name"`
			CPUNanos int64  `json:"cpuNanoCores"`
			Memory   int64  `json:"memoryBytes"`
		} `json:"containers"`
	} `json:"pods"`
}

func usageList(cpuNanos, mem int64) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewScaledQuantity(cpuNanos, resource.Nano),
		corev1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI),
	}
}

// metricsResources are the group's resources for discovery.
func metricsResources() []metav1.APIResource {
	return []metav1.APIResource{
		{Name: "nodes", SingularName: "", Namespaced: false, Kind: "NodeMetrics", Verbs: metav1.Verbs{"get", "list"}},
		{Name: "pods", SingularName: "", Namespaced: true, Kind: "PodMetrics", Verbs: metav1.Verbs{"get", "list"}},
	}
}

// serveMetrics answers /apis/metrics.k8s.io/v1beta1/{nodes[/NAME],
// pods, namespaces/NS/pods[/NAME]}.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, metricsPrefix), "/"), "/")
	var ns, res, name string
	switch {
	case len(parts) >= 1 && len(parts) <= 2 && (parts[0] == "nodes" || parts[0] == "pods"):
		res = parts[0]
		if len(parts) == 2 {
			name = parts[1]
		}
	case len(parts) >= 3 && len(parts) <= 4 && parts[0] == "namespaces" && parts[2] == "pods":
		ns, res = parts[1], "pods"
		if len(parts) == 4 {
			name = parts[3]
		}
	default:
		s.writeError(w, notFoundPath())
		return
	}
	if res == "nodes" && name == "" && ns != "" {
		s.writeError(w, notFoundPath())
		return
	}
	sel := labels.Everything()
	if v := r.URL.Query().Get("labelSelector"); v != "" {
		var err error
		if sel, err = labels.Parse(v); err != nil {
			s.writeError(w, apierrors.NewBadRequest(err.Error()))
			return
		}
	}
	ctx := r.Context()
	nodeRes := s.reg.Lookup("", "v1", "nodes")
	nodes, err := s.storage.List(ctx, nodeRes, "", registry.Predicate{}, 0, "")
	if err != nil {
		s.writeError(w, err)
		return
	}
	reports := s.collectUsage(ctx, nodes.Items)
	if res == "nodes" {
		list := metricsList[nodeMetrics]{TypeMeta: metav1.TypeMeta{Kind: "NodeMetricsList", APIVersion: metricsGV.String()}}
		for _, o := range nodes.Items {
			n := o.(*corev1.Node)
			if (name != "" && n.Name != name) || !sel.Matches(labels.Set(n.Labels)) {
				continue
			}
			for _, rep := range reports {
				for _, nu := range rep.Nodes {
					if nu.Name == n.Name {
						list.Items = append(list.Items, nodeMetrics{
							TypeMeta:   metav1.TypeMeta{Kind: "NodeMetrics", APIVersion: metricsGV.String()},
							ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels, CreationTimestamp: metav1.NewTime(rep.Timestamp)},
							Timestamp:  metav1.NewTime(rep.Timestamp), Window: metav1.Duration{Duration: window(rep.Window)},
							Usage: usageList(nu.CPUNanos, nu.Memory)})
					}
				}
			}
		}
		if name != "" {
			if len(list.Items) == 0 {
				s.writeError(w, apierrors.NewNotFound(schema.GroupResource{Group: metricsGV.Group, Resource: "nodes"}, name))
				return
			}
			s.writeJSON(w, mtJSON, list.Items[0])
			return
		}
		s.writeJSON(w, mtJSON, list)
		return
	}
	podRes := s.reg.Lookup("", "v1", "pods")
	pods, err := s.storage.List(ctx, podRes, ns, registry.Predicate{Label: sel}, 0, "")
	if err != nil {
		s.writeError(w, err)
		return
	}
	byKey := map[string]*corev1.Pod{}
	for _, o := range pods.Items {
		p := o.(*corev1.Pod)
		byKey[p.Namespace+"/"+p.Name] = p
	}
	list := metricsList[podMetrics]{TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: metricsGV.String()}}
	for _, rep := range reports {
		for _, pu := range rep.Pods {
			p := byKey[pu.Namespace+"/"+pu.Name]
			if p == nil || (name != "" && p.Name != name) {
				continue
			}
			pm := podMetrics{TypeMeta: metav1.TypeMeta{Kind: "PodMetrics", APIVersion: metricsGV.String()},
				ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, CreationTimestamp: metav1.NewTime(rep.Timestamp)},
				Timestamp:  metav1.NewTime(rep.Timestamp), Window: metav1.Duration{Duration: window(rep.Window)}, Containers: []containerMetrics{}}
			for _, c := range pu.Containers {
				pm.Containers = append(pm.Containers, containerMetrics{Name: c.Name, Usage: usageList(c.CPUNanos, c.Memory)})
			}
			list.Items = append(list.Items, pm)
		}
	}
	if name != "" {
		if len(list.Items) == 0 {
			s.writeError(w, apierrors.NewNotFound(schema.GroupResource{Group: metricsGV.Group, Resource: "pods"}, name))
			return
		}
		s.writeJSON(w, mtJSON, list.Items[0])
		return
	}
	s.writeJSON(w, mtJSON, list)
}

func window(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 10 * time.Second
	}
	return d
}

// collectUsage asks every distinct agent address once, in parallel, for
// at most 5 s; agents that do not answer are left out (as metrics-server
// leaves out nodes it cannot scrape).
func (s *Server) collectUsage(ctx context.Context, nodes []runtime.Object) []agentUsage {
	addrs := map[string]bool{}
	for _, o := range nodes {
		n := o.(*corev1.Node)
		host := ""
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				host = a.Address
				break
			}
		}
		if port := n.Status.DaemonEndpoints.KubeletEndpoint.Port; host != "" && port != 0 {
			addrs[net.JoinHostPort(host, strconv.Itoa(int(port)))] = true
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	var out []agentUsage
	for a := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+a+"/stats/usage", nil)
			if err != nil {
				return
			}
			resp, err := s.nodes.client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var u agentUsage
			if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&u) != nil {
				return
			}
			mu.Lock()
			out = append(out, u)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
