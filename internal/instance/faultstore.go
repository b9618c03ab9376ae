package instance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	"github.com/stratus-cloud/stratus/internal/fault"
	"github.com/stratus-cloud/stratus/internal/store"
)

// faultsKey keeps the fault API's own faults (HTTP rules, node and pod
// faults; the simulator's rules are in the store already) so that a
// restart keeps them. Restores leave it alone (keepKey): a reset clears
// the faults and writes the empty list.
const faultsKey = "/stratus/faults"

// savedFaults is what faultsKey holds.
type savedFaults struct {
	Rules []fault.Rule `json:"rules,omitempty"`
	Nodes []Fault      `json:"nodes,omitempty"`
	Pods  []Fault      `json:"pods,omitempty"`
}

// faultsChanged asks the keeper to write the faults.
func (in *Instance) faultsChanged() {
	select {
	case in.faultSave <- struct{}{}:
	default:
	}
}

// keepFaults writes the faults to the store when they change, coalescing
// bursts of hits into one write, until Stop.
func (in *Instance) keepFaults(done <-chan struct{}) {
	defer in.keeper.Done()
	for {
		select {
		case <-done:
			return
		case <-in.faultSave:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := in.saveFaults(ctx); err != nil {
			in.w.log.Warn("keep the faults in the store", "err", err)
		}
		cancel()
	}
}

// watchFaults has every change of the faults noted, before anything
// serves (startFaultKeeper then writes them).
func (in *Instance) watchFaults() {
	in.faultSave, in.faultDone = make(chan struct{}, 1), make(chan struct{})
	in.faults.Hit = in.faultsChanged
	in.w.podFaults.hit = in.faultsChanged
}

// startFaultKeeper loads the faults a previous run kept, acts them out
// again and starts keeping them.
func (in *Instance) startFaultKeeper(ctx context.Context) error {
	in.keeper.Add(1)
	go in.keepFaults(in.faultDone)
	if err := in.loadFaults(ctx); err != nil {
		return fmt.Errorf("faults kept in the store: %w", err)
	}
	return nil
}

// stopFaultKeeper writes the faults a last time.
func (in *Instance) stopFaultKeeper(ctx context.Context) {
	if in.faultDone == nil {
		return
	}
	close(in.faultDone)
	in.faultDone = nil
	in.keeper.Wait()
	if err := in.saveFaults(context.WithoutCancel(ctx)); err != nil {
		in.w.log.Warn("keep the faults in the store", "err", err)
	}
}

func (in *Instance) saveFaults(ctx context.Context) error {
	in.saveMu.Lock()
	defer in.saveMu.Unlock()
	b, err := json.Marshal(savedFaults{Rules: in.faults.List(), Nodes: in.nodeFaultList(), Pods: in.w.podFaults.list()})
	if err != nil {
		return err
	}
	_, err = in.store.Txn(ctx, store.Put(faultsKey, b))
	return err
}

// loadFaults puts back the faults a previous run kept.
func (in *Instance) loadFaults(ctx context.Context) error {
	kv, err := in.store.Get(ctx, faultsKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var sf savedFaults
	if err := json.Unmarshal(kv.Value, &sf); err != nil {
		return err
	}
	if err := in.faults.Restore(sf.Rules); err != nil {
		return err
	}
	if err := in.w.podFaults.restore(sf.Pods); err != nil {
		return err
	}
	if len(sf.Nodes) == 0 {
		return nil
	}
	kc, err := kubernetes.NewForConfig(in.w.kube.LoopbackConfig())
	if err != nil {
		return err
	}
	in.downMu.Lock()
	defer in.downMu.Unlock()
	if in.nodeFaults == nil {
		in.nodeFaults = map[string]Fault{}
	}
	for _, f := range sf.Nodes {
		if err := checkNodeFault(f); err != nil {
			return fmt.Errorf("fault %s: %w", f.ID, err)
		}
		if in.w.simPool == nil {
			in.w.log.Warn("a node fault kept in the store has no simulated nodes to act on; dropped", "fault", f.ID)
			continue
		}
		if err := in.actNodeFault(ctx, kc, f); err != nil {
			return fmt.Errorf("fault %s: %w", f.ID, err)
		}
		in.nodeFaults[f.ID] = f
	}
	return nil
}

// checkObjectMatch refuses a namespace or name no Kubernetes object can
// have ("" and "*" match any).
func checkObjectMatch(namespace, name string) error {
	if namespace != "" && namespace != "*" {
		if errs := validation.IsDNS1123Label(namespace); len(errs) > 0 {
			return fmt.Errorf("%w: namespace %q: %s", errBadFault, namespace, strings.Join(errs, "; "))
		}
	}
	if name != "" && name != "*" {
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return fmt.Errorf("%w: name %q: %s", errBadFault, name, strings.Join(errs, "; "))
		}
	}
	return nil
}

// accountProject is the GCE project of a CloudStack account (by name or
// id): the name it claimed in the store on its first GCE request.
func (in *Instance) accountProject(ctx context.Context, account string) (string, error) {
	res, err := in.store.List(ctx, gceProjectNames, store.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, kv := range res.KVs {
		var c struct {
			AccountID string `json:"accountId"`
			Account   string `json:"account"`
		}
		if json.Unmarshal(kv.Value, &c) == nil && (c.Account == account || c.AccountID == account) {
			return strings.TrimPrefix(kv.Key, gceProjectNames), nil
		}
	}
	return "", fmt.Errorf("%w: account %q has no GCE project (an account gets one with its first GCE request)", errBadFault, account)
}

// gceProjectNames is where the GCE gateway claims project names
// (internal/gce/projectnames.go).
const gceProjectNames = "/gce/projectnames/"
