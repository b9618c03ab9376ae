package marathon

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"

	"github.com/stratus-cloud/stratus/internal/kube/restartgate"
)

// A Mesos agent offers its ports resource ([31000-32000] by default) and
// Marathon launches each task with host ports taken from the offer, so
// two tasks of one app on one agent never share one. Here the pods of an
// app whose host ports are 0 carry the start gate: once a pod is bound to
// a node, the server takes free ports of that node's range for it and
// writes them in its annotations (the ports list, one per port for the
// env's PORTi, PORTS) while removing the gate, in one patch; the agent
// then starts it with those ports in its env.

// hostPortWorkers patch pods in parallel.
const hostPortWorkers = 4

// nodePorts is the ports taken on each node, by the tasks that hold them.
type nodePorts struct {
	mu     sync.Mutex
	byNode map[string]map[int]types.UID
	byPod  map[types.UID]podPorts
	next   map[string]int // per node: where the next search starts
}

type podPorts struct {
	node  string
	ports []int
}

func newNodePorts() nodePorts {
	return nodePorts{byNode: map[string]map[int]types.UID{}, byPod: map[types.UID]podPorts{}, next: map[string]int{}}
}

// hold records that pod uid holds ports on node (a pod seen with its
// ports, also after a restart of the server).
func (n *nodePorts) hold(uid types.UID, node string, ports []int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.byPod[uid]; ok {
		return
	}
	m := n.byNode[node]
	if m == nil {
		m = map[int]types.UID{}
		n.byNode[node] = m
	}
	for _, p := range ports {
		if p != 0 {
			m[p] = uid
		}
	}
	n.byPod[uid] = podPorts{node: node, ports: ports}
}

// release frees what pod uid holds.
func (n *nodePorts) release(uid types.UID) {
	n.mu.Lock()
	defer n.mu.Unlock()
	pp, ok := n.byPod[uid]
	if !ok {
		return
	}
	delete(n.byPod, uid)
	m := n.byNode[pp.node]
	for _, p := range pp.ports {
		if m[p] == uid {
			delete(m, p)
		}
	}
	if len(m) == 0 {
		delete(n.byNode, pp.node)
		delete(n.next, pp.node)
	}
}

// take gives pod uid on node the ports of want, each 0 replaced by a free
// port of the node's range (the same ones again when it already has
// them).
func (n *nodePorts) take(uid types.UID, node string, want []int) ([]int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pp, ok := n.byPod[uid]; ok && pp.node == node && len(pp.ports) == len(want) {
		return pp.ports, nil
	}
	m := n.byNode[node]
	if m == nil {
		m = map[int]types.UID{}
		n.byNode[node] = m
	}
	for _, p := range want {
		if p != 0 {
			m[p] = uid // fixed ports are held too, so no task is given one
		}
	}
	out := make([]int, len(want))
	next := n.next[node]
	if next < AgentPortMin || next > AgentPortMax {
		next = AgentPortMin
	}
	for i, p := range want {
		if p != 0 {
			out[i] = p
			continue
		}
		for range AgentPortMax - AgentPortMin + 1 {
			c := next
			if next++; next > AgentPortMax {
				next = AgentPortMin
			}
			if _, used := m[c]; !used {
				out[i] = c
				m[c] = uid
				break
			}
		}
		if out[i] == 0 {
			for _, q := range out[:i] {
				if m[q] == uid {
					delete(m, q)
				}
			}
			return nil, fmt.Errorf("node %s has no free port in [%d-%d]", node, AgentPortMin, AgentPortMax)
		}
	}
	n.next[node] = next
	n.byPod[uid] = podPorts{node: node, ports: out}
	return out, nil
}

// trackPorts keeps the node ports in step with a pod that changed, and
// queues a bound pod that waits for its ports.
func (s *Server) trackPorts(p *corev1.Pod, deleted bool) {
	if deleted || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		s.ports.release(p.UID)
		return
	}
	if p.Spec.NodeName == "" {
		return
	}
	if _, gated := p.Annotations[restartgate.StartAnnotation]; gated {
		if p.DeletionTimestamp == nil {
			s.portQ.Add(p.Name)
		}
		return
	}
	if ps := taskPorts(p); len(ps) > 0 {
		s.ports.hold(p.UID, p.Spec.NodeName, ps)
	}
}

// portWorker gives the queued pods their ports until the queue shuts down.
func (s *Server) portWorker(ctx context.Context) {
	for {
		name, quit := s.portQ.Get()
		if quit {
			return
		}
		err := s.givePorts(ctx, name)
		switch {
		case err == nil:
			s.portQ.Forget(name)
		case ctx.Err() != nil:
		default:
			s.log.Warn("marathon: task ports", "pod", name, "err", err)
			s.portQ.AddRateLimited(name)
		}
		s.portQ.Done(name)
	}
}

// givePorts gives pod name its ports on its node and lets it start.
func (s *Server) givePorts(ctx context.Context, name string) error {
	o, ok, err := s.pods.GetStore().GetByKey(Namespace + "/" + name)
	if err != nil || !ok {
		return err
	}
	p := o.(*corev1.Pod)
	if _, gated := p.Annotations[restartgate.StartAnnotation]; !gated || p.Spec.NodeName == "" || p.DeletionTimestamp != nil {
		return nil
	}
	want := []int{}
	if raw := p.Annotations[annotationPorts]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			return fmt.Errorf("ports annotation %q: %w", raw, err)
		}
	}
	ports, err := s.ports.take(p.UID, p.Spec.NodeName, want)
	if err != nil {
		return err
	}
	patch, err := portsPatch(p.UID, ports)
	if err != nil {
		return err
	}
	_, err = s.kc.CoreV1().Pods(Namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// Gone, or a new pod of that name: its own event queues it.
		s.ports.release(p.UID)
		return nil
	}
	return err
}

// portsPatch writes a task's ports and removes its start gate; the uid
// precondition keeps it from a later pod of the same name.
func portsPatch(uid types.UID, ports []int) ([]byte, error) {
	ann := map[string]any{restartgate.StartAnnotation: nil, annotationPortList: joinPorts(ports)}
	raw, err := json.Marshal(ports)
	if err != nil {
		return nil, err
	}
	ann[annotationPorts] = string(raw)
	for i, p := range ports {
		ann[annotationPort(i)] = strconv.Itoa(p)
	}
	return json.Marshal(map[string]any{"metadata": map[string]any{"uid": uid, "annotations": ann}})
}

// newPortQueue is the queue of pods waiting for their ports.
func newPortQueue() workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "marathon-ports"})
}
