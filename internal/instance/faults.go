package instance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

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
	// Selector is a label selector: pod faults hit the pods it matches,
	// node faults the simulated nodes.
	Selector string `json:"selector,omitempty"`
	// Conditions are what a node-pressure fault sets True.
	Conditions []string `json:"conditions,omitempty"`
	// Nodes are the nodes a node fault acts on (found by name or selector).
	Nodes []string `json:"nodes,omitempty"`
	// Remaining is how many more hits a fault limited by count has.
	Remaining int `json:"remaining,omitempty"`
}

var errBadFault = errors.New("bad fault")

// AddFault injects a fault.
func (in *Instance) AddFault(ctx context.Context, f Fault) (Fault, error) {
	switch f.Kind {
	case fault.KindKube, fault.KindGCE:
		if f.Command != "" || f.Value != "" || f.Host != "" || f.VM != "" || f.Zone != "" || f.ExitCode != 0 || f.Selector != "" ||
			len(f.Conditions) > 0 || len(f.Nodes) > 0 {
			return Fault{}, fmt.Errorf("%w: command, value, host, vm, zone, exit code, selector and conditions are not for %s faults", errBadFault, f.Kind)
		}
		if err := checkObjectMatch(f.Namespace, f.Name); err != nil {
			return Fault{}, err
		}
		if f.Account != "" {
			if f.Kind == fault.KindKube {
				return Fault{}, fmt.Errorf("%w: kube-api faults match verb, resource, namespace and name, not an account", errBadFault)
			}
			p, err := in.accountProject(ctx, f.Account)
			if err != nil {
				return Fault{}, err
			}
			f.Project = p
		} else if f.Project != "" {
			return Fault{}, fmt.Errorf("%w: gce-api faults are matched to a project by account", errBadFault)
		}
		r, err := in.faults.Add(f.Rule)
		if err != nil {
			return Fault{}, fmt.Errorf("%w: %v", errBadFault, err)
		}
		in.faultsChanged()
		return Fault{Rule: r}, nil
	case FaultCloudStack, FaultHostDown, FaultVMStart:
		return in.addCloudFault(ctx, f)
	case FaultNodeDown, FaultNodeGone, FaultNodePressure:
		out, err := in.addNodeFault(ctx, f)
		if err == nil {
			in.faultsChanged()
		}
		return out, err
	case FaultPodCrash, FaultPodSlowStart, FaultPodImagePull:
		out, err := in.w.podFaults.add(f)
		if err == nil {
			in.faultsChanged()
		}
		return out, err
	}
	return Fault{}, fmt.Errorf("%w: kind %q: want one of %s", errBadFault, f.Kind, strings.Join(FaultKinds(), ", "))
}

// FaultKinds lists every kind of fault.
func FaultKinds() []string {
	return []string{fault.KindKube, fault.KindGCE, FaultCloudStack, FaultHostDown, FaultVMStart, FaultNodeDown, FaultNodeGone,
		FaultNodePressure, FaultPodCrash, FaultPodSlowStart, FaultPodImagePull}
}

// clearFaults removes every fault of the fault API's own (the
// simulator's rules are in the store, which a reset or restore replaces):
// stopped nodes start again.
func (in *Instance) clearFaults(ctx context.Context) {
	in.faults.Clear()
	in.w.podFaults.clear()
	for _, f := range in.nodeFaultList() {
		if _, err := in.removeNodeFault(ctx, f.ID); err != nil {
			in.w.log.Warn("undo a node fault", "fault", f.ID, "err", err)
		}
	}
	in.faultsChanged()
}

func (in *Instance) addCloudFault(ctx context.Context, f Fault) (Fault, error) {
	sm := in.w.sim
	if sm == nil {
		return Fault{}, fmt.Errorf("%w: this instance has no cloud simulator", errBadFault)
	}
	if f.Status != 0 || f.Latency != 0 || f.DisconnectAfter != 0 || f.Probability != 0 || f.Duration != 0 || f.Verb != "" || f.Path != "" ||
		f.Resource != "" || f.Namespace != "" || f.Name != "" || f.Method != "" || f.Selector != "" || len(f.Conditions) > 0 || f.ExitCode != 0 {
		return Fault{}, fmt.Errorf("%w: cloud faults take command, value, host, vm, zone, account and count (no status, latency, probability, duration, name or selector)", errBadFault)
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
		if err == nil && f.Account != "" {
			spec.AccountID, err = findID(r.Accounts(), "account", f.Account, func(a *cloud.Account) (string, string) { return a.ID, a.Name })
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
	out := Fault{Rule: fault.Rule{ID: m.ID, Kind: FaultCloudStack, Count: m.Count, Account: m.AccountID}, Command: m.Command, Value: m.Value,
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
	if f.Account != "" {
		out.Account = f.Account
	}
	return out
}

// Faults lists the live faults: the HTTP rules, then the simulator's
// active ones.
func (in *Instance) Faults() ([]Fault, error) {
	var out []Fault
	for _, r := range in.faults.List() {
		f := Fault{Rule: r}
		if r.Count > 0 {
			f.Remaining = r.Count - r.Hits
		}
		out = append(out, f)
	}
	out = append(out, in.nodeFaultList()...)
	out = append(out, in.w.podFaults.list()...)
	if sm := in.w.sim; sm != nil {
		ms, err := sm.Faults(sm.Admin())
		if err != nil {
			return nil, err
		}
		accounts := map[string]string{}
		sm.Read(func(r cloud.Reader) {
			for _, a := range r.Accounts() {
				accounts[a.ID] = a.Name
			}
		})
		for _, m := range ms {
			if !m.Active {
				continue
			}
			f := fromMock(m, Fault{})
			if name, ok := accounts[m.AccountID]; ok {
				f.Account = name
			}
			if m.Limited {
				f.Remaining = m.Count
			}
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
		in.faultsChanged()
		return err
	}
	if ok, err := in.removeNodeFault(ctx, id); ok {
		in.faultsChanged()
		return err
	}
	if in.w.podFaults.remove(id) {
		in.faultsChanged()
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
