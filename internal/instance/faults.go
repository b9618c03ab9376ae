package instance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/agent"
	"github.com/stratus-cloud/stratus/internal/cloud"
	"github.com/stratus-cloud/stratus/internal/fault"
)

// Kinds of cloud fault, the simulator's own rules (configureSimulator).
const (
	// FaultCloudStack: an agent command (StartCommand, StopCommand,
	// PingCommand, …) answers as Value says ("result:fail;wait:500").
	FaultCloudStack = "cloudstack"
	// FaultHostDown: the host stops answering pings and goes Down; its VMs
	// are handled as CloudStack handles a lost host.
	FaultHostDown = "host-down"
	// FaultVMStart: starting the VM (or every VM in Zone, or every VM
	// when neither is given) fails, as a deploy on a broken host does.
	FaultVMStart = "vm-start-failure"
	// FaultNodeDown: a simulated node (Name) stops, as its machine would:
	// heartbeats end, its containers stop, and its Ready condition turns
	// Unknown at once (the node controller would after its 40 s grace).
	// Removing the fault starts it again.
	FaultNodeDown = "node-down"
)

// Fault is one fault of any kind: kube-api and gce-api are HTTP rules
// (internal/fault), the rest are the cloud simulator's.
type Fault struct {
	fault.Rule
	// Cloud faults: the agent command and what it answers (cloudstack),
	// and where: a host, a VM, a zone (names or ids).
	Command string `json:"command,omitempty"`
	Value   string `json:"value,omitempty"`
	Host    string `json:"host,omitempty"`
	VM      string `json:"vm,omitempty"`
	Zone    string `json:"zone,omitempty"`
	// ExitCode is what a pod-crash fault's containers exit with.
	ExitCode int `json:"exitCode,omitempty"`
}

var errBadFault = errors.New("bad fault")

// AddFault injects a fault.
func (in *Instance) AddFault(ctx context.Context, f Fault) (Fault, error) {
	switch f.Kind {
	case fault.KindKube, fault.KindGCE:
		if f.Command != "" || f.Value != "" || f.Host != "" || f.VM != "" || f.Zone != "" {
			return Fault{}, fmt.Errorf("%w: command, value, host, vm and zone are for cloud faults", errBadFault)
		}
		r, err := in.faults.Add(f.Rule)
		if err != nil {
			return Fault{}, fmt.Errorf("%w: %v", errBadFault, err)
		}
		return Fault{Rule: r}, nil
	case FaultCloudStack, FaultHostDown, FaultVMStart:
		return in.addCloudFault(ctx, f)
	case FaultNodeDown:
		return in.addNodeDown(ctx, f)
	case FaultPodCrash, FaultPodSlowStart, FaultPodImagePull:
		return in.w.podFaults.add(f)
	}
	return Fault{}, fmt.Errorf("%w: kind %q: want %s, %s, %s, %s, %s, %s, %s, %s or %s", errBadFault, f.Kind,
		fault.KindKube, fault.KindGCE, FaultCloudStack, FaultHostDown, FaultVMStart, FaultNodeDown, FaultPodCrash, FaultPodSlowStart, FaultPodImagePull)
}

// addNodeDown stops a simulated node of the --sim-nodes pool.
func (in *Instance) addNodeDown(ctx context.Context, f Fault) (Fault, error) {
	pool := in.w.simPool
	if f.Name == "" || f.Verb != "" || f.Resource != "" || f.Status != 0 || f.Latency != 0 || f.Count != 0 || f.Probability != 0 || f.Duration != 0 {
		return Fault{}, fmt.Errorf("%w: node-down takes name (a simulated node) only", errBadFault)
	}
	if pool == nil || !pool.HasNode(f.Name) {
		return Fault{}, fmt.Errorf("%w: no running simulated node %q (node-down stops the nodes of --sim-nodes)", errBadFault, f.Name)
	}
	kc, err := kubernetes.NewForConfig(in.w.kube.LoopbackConfig())
	if err != nil {
		return Fault{}, err
	}
	pool.RemoveNode(f.Name)
	node, err := kc.CoreV1().Nodes().Get(ctx, f.Name, metav1.GetOptions{})
	if err == nil {
		now := metav1.Now()
		for i, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				node.Status.Conditions[i] = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
					Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status.", LastHeartbeatTime: c.LastHeartbeatTime, LastTransitionTime: now}
			}
		}
		_, err = kc.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	}
	if err != nil {
		_ = pool.AddNode(context.WithoutCancel(ctx), agent.NodeSpec{Name: f.Name})
		return Fault{}, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	out := Fault{Rule: fault.Rule{ID: FaultNodeDown + "-" + hex.EncodeToString(b), Kind: FaultNodeDown, Name: f.Name, Created: time.Now()}}
	in.downMu.Lock()
	defer in.downMu.Unlock()
	if in.downNodes == nil {
		in.downNodes = map[string]Fault{}
	}
	in.downNodes[out.ID] = out
	return out, nil
}

// clearFaults removes the HTTP rules and starts stopped nodes again (the
// simulator's rules are in the store, which a reset or restore replaces).
func (in *Instance) clearFaults(ctx context.Context) {
	in.faults.Clear()
	in.w.podFaults.clear()
	in.downMu.Lock()
	ids := make([]string, 0, len(in.downNodes))
	for id := range in.downNodes {
		ids = append(ids, id)
	}
	in.downMu.Unlock()
	for _, id := range ids {
		if _, err := in.removeNodeDown(ctx, id); err != nil {
			in.w.log.Warn("restart a node a fault stopped", "fault", id, "err", err)
		}
	}
}

// removeNodeDown starts a stopped node again.
func (in *Instance) removeNodeDown(ctx context.Context, id string) (bool, error) {
	in.downMu.Lock()
	f, ok := in.downNodes[id]
	delete(in.downNodes, id)
	in.downMu.Unlock()
	if !ok {
		return false, nil
	}
	return true, in.w.simPool.AddNode(ctx, agent.NodeSpec{Name: f.Name})
}

func (in *Instance) addCloudFault(ctx context.Context, f Fault) (Fault, error) {
	sm := in.w.sim
	if sm == nil {
		return Fault{}, fmt.Errorf("%w: this instance has no cloud simulator", errBadFault)
	}
	if f.Status != 0 || f.Latency != 0 || f.DisconnectAfter != 0 || f.Probability != 0 || f.Duration != 0 || f.Verb != "" || f.Path != "" {
		return Fault{}, fmt.Errorf("%w: cloud faults take command, value, host, vm, zone and count (no status, latency, probability or duration)", errBadFault)
	}
	spec := cloud.MockSpec{Command: f.Command, Value: f.Value, Count: f.Count}
	switch f.Kind {
	case FaultHostDown:
		if f.Host == "" {
			return Fault{}, fmt.Errorf("%w: host-down needs host", errBadFault)
		}
		spec.Command, spec.Value = cloud.CmdPing, "result:fail"
	case FaultVMStart:
		spec.Command, spec.Value = cloud.CmdStart, "result:fail"
	}
	var err error
	sm.Read(func(r cloud.Reader) {
		if f.Host != "" {
			spec.HostID, err = findID(r.Hosts(), "host", f.Host, func(h *cloud.Host) (string, string) { return h.ID, h.Name })
		}
		if err == nil && f.VM != "" {
			spec.VMID, err = findID(r.VMs(), "VM", f.VM, func(v *cloud.VM) (string, string) { return v.ID, v.Name })
		}
		if err == nil && f.Zone != "" {
			spec.ZoneID, err = findID(r.Zones(), "zone", f.Zone, func(z *cloud.Zone) (string, string) { return z.ID, z.Name })
		}
	})
	if err != nil {
		return Fault{}, fmt.Errorf("%w: %v", errBadFault, err)
	}
	m, err := sm.ConfigureFault(ctx, sm.Admin(), spec)
	if err != nil {
		var ce *cloud.Error
		if errors.As(err, &ce) && ce.Code < 500 {
			return Fault{}, fmt.Errorf("%w: %v", errBadFault, err)
		}
		return Fault{}, err
	}
	return fromMock(m, f), nil
}

// findID finds an object by id or name.
func findID[T any](all []T, what, want string, idName func(T) (string, string)) (string, error) {
	for _, o := range all {
		if id, name := idName(o); id == want || name == want {
			return id, nil
		}
	}
	return "", fmt.Errorf("no %s named %q", what, want)
}

// fromMock shows a simulator rule as a Fault.
func fromMock(m *cloud.Mock, f Fault) Fault {
	out := Fault{Rule: fault.Rule{ID: m.ID, Kind: FaultCloudStack, Count: m.Count}, Command: m.Command, Value: m.Value,
		Host: m.HostID, VM: m.VMID, Zone: m.ZoneID}
	if f.Kind != "" {
		out.Kind = f.Kind
	}
	if f.Host != "" {
		out.Host = f.Host
	}
	if f.VM != "" {
		out.VM = f.VM
	}
	if f.Zone != "" {
		out.Zone = f.Zone
	}
	return out
}

// Faults lists the live faults: the HTTP rules, then the simulator's
// active ones.
func (in *Instance) Faults() ([]Fault, error) {
	var out []Fault
	for _, r := range in.faults.List() {
		out = append(out, Fault{Rule: r})
	}
	in.downMu.Lock()
	for _, f := range in.downNodes {
		out = append(out, f)
	}
	in.downMu.Unlock()
	out = append(out, in.w.podFaults.list()...)
	if sm := in.w.sim; sm != nil {
		ms, err := sm.Faults(sm.Admin())
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if !m.Active {
				continue
			}
			f := fromMock(m, Fault{})
			switch {
			case m.Command == cloud.CmdPing && m.Action.Result != cloud.FaultNone && m.HostID != "":
				f.Kind = FaultHostDown
			case m.Command == cloud.CmdStart && m.Value == "result:fail":
				f.Kind = FaultVMStart
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// RemoveFault clears a fault; a host it took down comes back up.
func (in *Instance) RemoveFault(ctx context.Context, id string) error {
	err := in.faults.Remove(id)
	if !errors.Is(err, fault.ErrNotFound) {
		return err
	}
	if ok, err := in.removeNodeDown(ctx, id); ok {
		return err
	}
	if in.w.podFaults.remove(id) {
		return nil
	}
	if sm := in.w.sim; sm != nil {
		if _, ferr := sm.Fault(sm.Admin(), id); ferr == nil {
			return sm.ClearFault(ctx, sm.Admin(), id)
		}
	}
	return fmt.Errorf("%w: %s", errNoFault, id)
}

var errNoFault = errors.New("no such fault")

// serveFaults mounts the fault API on the admin mux.
func (in *Instance) serveFaults(mux *http.ServeMux) {
	mux.HandleFunc("GET "+adminPrefix+"faults", func(w http.ResponseWriter, r *http.Request) {
		l, err := in.Faults()
		if l == nil {
			l = []Fault{}
		}
		adminReply(w, http.StatusOK, map[string]any{"faults": l}, err)
	})
	mux.HandleFunc("POST "+adminPrefix+"faults", func(w http.ResponseWriter, r *http.Request) {
		var f Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			adminReply(w, 0, nil, fmt.Errorf("%w: %v", errBadRequest, err))
			return
		}
		f, err := in.AddFault(r.Context(), f)
		adminReply(w, http.StatusCreated, f, err)
	})
	mux.HandleFunc("DELETE "+adminPrefix+"faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		adminReply(w, http.StatusNoContent, nil, in.RemoveFault(r.Context(), r.PathValue("id")))
	})
	mux.HandleFunc("DELETE "+adminPrefix+"faults", func(w http.ResponseWriter, r *http.Request) {
		l, err := in.Faults()
		for _, f := range l {
			if err == nil {
				err = in.RemoveFault(r.Context(), f.ID)
			}
		}
		adminReply(w, http.StatusNoContent, nil, err)
	})
}
