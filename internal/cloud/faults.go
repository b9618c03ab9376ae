package cloud

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Agent commands that faults can target (the simulator's names).
const (
	CmdStart   = "StartCommand"
	CmdStop    = "StopCommand"
	CmdReboot  = "RebootCommand"
	CmdMigrate = "MigrateCommand"
	CmdCreate  = "CreateCommand"
	CmdPing    = "PingCommand"
	CmdExpunge = "DestroyCommand"
)

// FaultResult is what a fault does to the command.
type FaultResult string

// Fault results.
const (
	// FaultNone: the command succeeds (after any wait).
	FaultNone FaultResult = ""
	// FaultFail: the agent answers with a failure.
	FaultFail FaultResult = "fail"
	// FaultFault: the agent throws.
	FaultFault FaultResult = "fault"
)

// FaultAction is a parsed configureSimulator value.
type FaultAction struct {
	Result FaultResult   `json:"result,omitempty"`
	Wait   time.Duration `json:"wait,omitempty"`
}

// parseFaultValue reads "result:fail;wait:500" (wait in milliseconds).
func parseFaultValue(v string) (FaultAction, error) {
	var a FaultAction
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, ":")
		if !ok {
			return a, fmt.Errorf("value %q: want key:value pairs separated by ;", v)
		}
		switch strings.TrimSpace(k) {
		case "result":
			switch strings.ToLower(strings.TrimSpace(val)) {
			case "fail":
				a.Result = FaultFail
			case "fault":
				a.Result = FaultFault
			case "success", "pass":
				a.Result = FaultNone
			default:
				return a, fmt.Errorf("result %q: want fail or fault", val)
			}
		case "wait":
			ms, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || ms < 0 || ms > 3_600_000 {
				return a, fmt.Errorf("wait %q: want milliseconds (0 to 3600000)", val)
			}
			a.Wait = time.Duration(ms) * time.Millisecond
		case "timeout", "enabled":
			// accepted for compatibility with configureSimulator
		default:
			return a, fmt.Errorf("unknown key %q", k)
		}
	}
	return a, nil
}

// Mock is a fault rule (configureSimulator's "simulator mock").
type Mock struct {
	ID      string      `json:"id"`
	Seq     int64       `json:"seq"`
	Command string      `json:"command"`
	Value   string      `json:"value"`
	Action  FaultAction `json:"action"`
	// Count is how many more times the mock fires; 0 (with Limited false)
	// means always.
	Count     int    `json:"count"`
	Limited   bool   `json:"limited"`
	ZoneID    string `json:"zoneId,omitempty"`
	PodID     string `json:"podId,omitempty"`
	ClusterID string `json:"clusterId,omitempty"`
	HostID    string `json:"hostId,omitempty"`
	VMID      string `json:"vmId,omitempty"`
	// AccountID limits the mock to that account's VMs (a stratus
	// extension: configureSimulator has no account).
	AccountID string `json:"accountId,omitempty"`
	// FromFile marks mocks from the data center file, replaced on each start.
	FromFile bool `json:"fromFile,omitempty"`
	Active   bool `json:"active"`
}

// MockSpec is a request to configure a fault.
type MockSpec struct {
	Command                                string
	Value                                  string
	Count                                  int
	ZoneID, PodID, ClusterID, HostID, VMID string
	AccountID                              string
}

// ConfigureFault records a fault rule (root admin only). A PingCommand
// failure on a host takes the host down.
func (s *Sim) ConfigureFault(ctx context.Context, c Caller, spec MockSpec) (*Mock, error) {
	if !c.IsRootAdmin() {
		return nil, Denied("Account %s is not a root admin", c.Account.Name)
	}
	act, err := parseFaultValue(spec.Value)
	if err != nil {
		return nil, Invalid("Invalid value for simulator mock: %v", err)
	}
	if spec.Command == "" {
		return nil, Invalid("Please specify the name of the agent command")
	}
	if spec.Count < 0 {
		return nil, Invalid("count must not be negative")
	}
	var m *Mock
	err = s.write(func(ix *index) error {
		for _, ref := range []struct {
			id string
			ok bool
			k  Kind
		}{
			{spec.ZoneID, has(ix.zones, spec.ZoneID), KindZone}, {spec.PodID, has(ix.pods, spec.PodID), KindPod},
			{spec.ClusterID, has(ix.clusters, spec.ClusterID), KindCluster}, {spec.HostID, has(ix.hosts, spec.HostID), KindHost},
			{spec.VMID, has(ix.vms, spec.VMID), KindVM}, {spec.AccountID, has(ix.accounts, spec.AccountID), KindAccount},
		} {
			if ref.id != "" && !ref.ok {
				return notFound(ref.k, ref.id)
			}
		}
		m = &Mock{ID: newID(), Seq: ix.nextSeq(), Command: spec.Command, Value: spec.Value, Action: act,
			Count: spec.Count, Limited: spec.Count > 0, ZoneID: spec.ZoneID, PodID: spec.PodID, ClusterID: spec.ClusterID,
			HostID: spec.HostID, VMID: spec.VMID, AccountID: spec.AccountID, Active: true}
		b := &batch{}
		put(b, ix.mocks, m)
		return s.commit(ctx, b)
	})
	if err != nil {
		return nil, err
	}
	if m.Command == CmdPing && m.Action.Result != FaultNone {
		if err := s.applyPingFaults(ctx); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func has[T any](t *table[T], id string) bool {
	if id == "" {
		return false
	}
	_, ok := t.get(id)
	return ok
}

// Fault returns a fault rule by id (root admin only).
func (s *Sim) Fault(c Caller, id string) (*Mock, error) {
	if !c.IsRootAdmin() {
		return nil, Denied("Account %s is not a root admin", c.Account.Name)
	}
	var m *Mock
	var ok bool
	s.read(func(ix *index) { m, ok = ix.mocks.get(id) })
	if !ok {
		return nil, notFound(KindMock, id)
	}
	return m, nil
}

// Faults lists the fault rules (root admin only).
func (s *Sim) Faults(c Caller) ([]*Mock, error) {
	if !c.IsRootAdmin() {
		return nil, Denied("Account %s is not a root admin", c.Account.Name)
	}
	var out []*Mock
	s.read(func(ix *index) { out = append(out, ix.mocks.all()...) })
	return out, nil
}

// ClearFault removes a fault rule; hosts it took down come back up.
func (s *Sim) ClearFault(ctx context.Context, c Caller, id string) error {
	if !c.IsRootAdmin() {
		return Denied("Account %s is not a root admin", c.Account.Name)
	}
	err := s.write(func(ix *index) error {
		if _, ok := ix.mocks.get(id); !ok {
			return notFound(KindMock, id)
		}
		b := &batch{}
		del(b, ix.mocks, id)
		return s.commit(ctx, b)
	})
	if err != nil {
		return err
	}
	return s.applyPingFaults(ctx)
}

// matchFault finds the most specific active mock for cmd at the VM's or
// host's place, and adds the decrement of its count to b. Caller holds wmu.
func (ix *index) matchFault(b *batch, cmd string, vm *VM, host *Host) FaultAction {
	var best *Mock
	bestRank := -1
	for _, m := range ix.mocks.all() {
		if !m.Active || !strings.EqualFold(m.Command, cmd) {
			continue
		}
		rank, ok := 0, true
		check := func(want, have string, r int) {
			if want == "" {
				return
			}
			if want != have {
				ok = false
			}
			rank = max(rank, r)
		}
		var zone, pod, cluster, hostID, vmID, account string
		if host != nil {
			zone, pod, cluster, hostID = host.ZoneID, host.PodID, host.ClusterID, host.ID
		}
		if vm != nil {
			vmID, account = vm.ID, vm.AccountID
			if zone == "" {
				zone = vm.ZoneID
			}
		}
		check(m.ZoneID, zone, 1)
		check(m.PodID, pod, 2)
		check(m.ClusterID, cluster, 3)
		check(m.HostID, hostID, 4)
		check(m.AccountID, account, 5)
		check(m.VMID, vmID, 6)
		if ok && rank > bestRank {
			best, bestRank = m, rank
		}
	}
	if best == nil {
		return FaultAction{}
	}
	if best.Limited {
		n := *best
		n.Count--
		if n.Count <= 0 {
			n.Active = false
		}
		put(b, ix.mocks, &n)
	}
	return best.Action
}

// loadStandingFaults replaces the mocks from the data center file with
// the file's current faults.
func (s *Sim) loadStandingFaults(ctx context.Context) error {
	ix := s.ix
	b := &batch{}
	for _, m := range ix.mocks.all() {
		if m.FromFile {
			del(b, ix.mocks, m.ID)
		}
	}
	for _, f := range s.dc.Simulator.Faults {
		act, _ := parseFaultValue(f.Value)
		m := &Mock{ID: newID(), Seq: ix.nextSeq(), Command: f.Command, Value: f.Value, Action: act, Count: f.Count,
			Limited: f.Count > 0, FromFile: true, Active: true}
		for _, z := range ix.zones.all() {
			if f.Zone != "" && z.Name == f.Zone {
				m.ZoneID = z.ID
			}
		}
		for _, p := range ix.pods.all() {
			if f.Pod != "" && p.Name == f.Pod {
				m.PodID = p.ID
			}
		}
		for _, c := range ix.clusters.all() {
			if f.Cluster != "" && c.Name == f.Cluster {
				m.ClusterID = c.ID
			}
		}
		for _, h := range ix.hosts.all() {
			if f.Host != "" && h.Name == f.Host {
				m.HostID = h.ID
			}
		}
		put(b, ix.mocks, m)
	}
	return s.commit(ctx, b)
}
