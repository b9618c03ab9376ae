package agent

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/stratus-cloud/stratus/internal/runtime"
)

// usageReport is what GET /stats/usage answers: the resource use of the
// engine's nodes and their running pods, which the API server turns into
// metrics.k8s.io NodeMetrics and PodMetrics (the kubelet's resource
// metrics, in a JSON of our own). CPU is a rate in nanocores over the time
// since the previous request (or since the container started).
type usageReport struct {
	Timestamp time.Time   `json:"timestamp"`
	Window    string      `json:"window"`
	Nodes     []usageNode `json:"nodes"`
	Pods      []usagePod  `json:"pods"`
}

type usageNode struct {
	Name     string `json:"name"`
	CPUNanos int64  `json:"cpuNanoCores"`
	Memory   int64  `json:"memoryBytes"`
}

type usagePod struct {
	Namespace  string           `json:"namespace"`
	Name       string           `json:"name"`
	Node       string           `json:"node"`
	Containers []usageContainer `json:"containers"`
}

type usageContainer struct {
	Name     string `json:"name"`
	CPUNanos int64  `json:"cpuNanoCores"`
	Memory   int64  `json:"memoryBytes"`
}

func (e *engine) serveUsage(w http.ResponseWriter, r *http.Request) {
	now := e.clock.Now()
	rep := usageReport{Timestamp: now.UTC().Truncate(time.Second), Window: "10s"}
	nodes := map[string]*usageNode{}
	for _, n := range e.nodeSnapshot() {
		nodes[n.name] = &usageNode{Name: n.name}
	}
	e.mu.Lock()
	pods := make([]*podState, 0, len(e.pods))
	for _, ps := range e.pods {
		pods = append(pods, ps)
	}
	e.mu.Unlock()
	for _, ps := range pods {
		ps.mu.Lock()
		ns, name := splitKey(ps.key)
		pu := usagePod{Namespace: ns, Name: name}
		if ps.node != nil {
			pu.Node = ps.node.name
		}
		for _, c := range ps.ctrs {
			cname, cs := c.name, c.cs
			if cs.id == "" || cs.status.State != runtime.StateRunning {
				continue
			}
			u, err := e.rt.Usage(r.Context(), cs.id)
			if err != nil {
				continue
			}
			if d := now.Sub(cs.cpuAt); cs.cpuAt.IsZero() || d >= time.Second {
				switch {
				case !cs.cpuAt.IsZero():
					cs.cpuNanos = int64(float64(u.CPU-cs.cpuUsed) / d.Seconds())
				case !cs.status.StartedAt.IsZero() && now.After(cs.status.StartedAt):
					cs.cpuNanos = int64(float64(u.CPU) / now.Sub(cs.status.StartedAt).Seconds())
				}
				cs.cpuAt, cs.cpuUsed = now, u.CPU
			}
			pu.Containers = append(pu.Containers, usageContainer{Name: cname, CPUNanos: max(cs.cpuNanos, 0), Memory: u.Memory})
		}
		ps.mu.Unlock()
		if len(pu.Containers) == 0 {
			continue
		}
		sort.Slice(pu.Containers, func(i, j int) bool { return pu.Containers[i].Name < pu.Containers[j].Name })
		if n := nodes[pu.Node]; n != nil {
			for _, c := range pu.Containers {
				n.CPUNanos += c.CPUNanos
				n.Memory += c.Memory
			}
		}
		rep.Pods = append(rep.Pods, pu)
	}
	for _, n := range nodes {
		rep.Nodes = append(rep.Nodes, *n)
	}
	sort.Slice(rep.Nodes, func(i, j int) bool { return rep.Nodes[i].Name < rep.Nodes[j].Name })
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&rep)
}
