package cloud

import (
	"context"
	"time"
)

// Recovery after a restart.
//
// A job works on a resource in steps: it moves the resource into a
// transitional state (Starting, Stopping, Migrating; a volume Creating or
// Resizing), waits for the simulated agent, then settles it. A server that
// stops between the two (SIGKILL, or Ctrl-C, which cancels its jobs)
// leaves the resource in the transitional state, which every command then
// refuses. CloudStack's management server, when it starts again, fails the
// jobs it owned and lets the hosts' state reports settle their VMs; recover
// does the same at Start, after failInterruptedJobs:
//
//   - a Starting VM becomes Running when its host is Up and the start had
//     time to finish (the host reports it powered on), and keeps the host's
//     capacity; otherwise it becomes Stopped and gives the capacity back;
//   - a Stopping VM becomes Stopped and gives its capacity back;
//   - a Migrating VM stays Running on its source host and gives back what it
//     held on the destination;
//   - a volume in a transitional state goes back to the state it left.
//
// Each settled resource gets an event. With several servers on one store,
// a resource that another server's pending job is working on is left to
// that job: only resources no live job owns are settled (this server's own
// pending jobs were failed just before), and every change is a transaction
// conditioned on what it read, so two servers starting at once settle a
// resource once.

// recoverBatch bounds the resources settled in one transaction (etcd
// refuses transactions of more than 128 operations by default).
const recoverBatch = 16

// volumeSettled maps a volume's transitional states to where a restart
// leaves them (CloudStack's Volume.State machine: an interrupted operation
// falls back to the state it started from).
var volumeSettled = map[string]string{
	"Creating":           "Allocated",
	"Migrating":          "Ready",
	"Resizing":           "Ready",
	"Snapshotting":       "Ready",
	"RevertSnapshotting": "Ready",
	"Attaching":          "Ready",
	"UploadOp":           "Ready",
	"Copying":            "Ready",
}

// transitional reports whether a VM in state st is between two settled states.
func (st VMState) transitional() bool {
	return st == VMStarting || st == VMStopping || st == VMMigrating
}

// recoverResources settles the resources a previous run left in a
// transitional state; caller holds wmu (through write).
func (s *Sim) recoverResources(ctx context.Context) error {
	busy := map[string]bool{}
	lastJob := map[string]*Job{}
	for _, j := range s.ix.jobs.all() {
		if j.InstanceID == "" {
			continue
		}
		if j.Status == JobPending && j.Server != s.id {
			busy[j.InstanceID] = true
		}
		if cur := lastJob[j.InstanceID]; cur == nil || j.Seq > cur.Seq {
			lastJob[j.InstanceID] = j
		}
	}
	var vms []*VM
	for _, vm := range s.ix.vms.all() {
		if vm.State.transitional() && !busy[vm.ID] {
			vms = append(vms, vm)
		}
	}
	var vols []*Volume
	for _, v := range s.ix.volumes.all() {
		if _, ok := volumeSettled[v.State]; ok && !busy[v.ID] && !busy[v.VMID] {
			vols = append(vols, v)
		}
	}
	now := s.clock.Now()
	settled := 0
	for len(vms) > 0 {
		n := min(len(vms), recoverBatch)
		b := &batch{}
		for _, vm := range vms[:n] {
			s.recoverVM(b, vm, lastJob[vm.ID], now)
		}
		if err := s.commit(ctx, b); err != nil {
			return err
		}
		settled += n
		vms = vms[n:]
	}
	for len(vols) > 0 {
		n := min(len(vols), recoverBatch)
		b := &batch{}
		for _, v := range vols[:n] {
			nv := *v
			nv.State = volumeSettled[v.State]
			put(b, s.ix.volumes, &nv)
			s.ix.event(b, s, v.Owner, Caller{}, "VOLUME.SYNC", "Volume "+v.Name+" moved from "+v.State+" to "+nv.State+
				" after a restart of the management server", v.ID, KindVolume)
		}
		if err := s.commit(ctx, b); err != nil {
			return err
		}
		settled += n
		vols = vols[n:]
	}
	if settled > 0 {
		s.log.Info("settled resources a restart left in transition", "count", settled)
	}
	return nil
}

// recoverVM adds the settling of one VM to b; last is the newest job on it.
func (s *Sim) recoverVM(b *batch, vm *VM, last *Job, now time.Time) {
	ix := s.ix
	n := *vm
	n.JobID = ""
	host, hostOK := ix.hosts.get(vm.HostID)
	hostUp := hostOK && host.State == HostUp
	var typ, desc string
	// stop settles the VM Stopped, giving back all it holds.
	stop := func(why string) {
		ix.releaseHost(b, vm)
		n.State, n.HostID, n.MigrateToHostID = VMStopped, "", ""
		typ, desc = "VM.STOP", "VM "+vm.Name+" stopped: "+why
	}
	const restart = "interrupted by a restart of the management server"
	switch vm.State {
	case VMStarting:
		// The host says the VM is running when it is Up and the start
		// would have finished by now.
		done := last != nil && !now.Before(last.Created.Add(s.timing(CmdStart)))
		if hostUp && done {
			n.State = VMRunning
			typ, desc = "VM.START", "VM "+vm.Name+" found running on host "+host.Name+" after a restart of the management server"
		} else {
			stop("its start was " + restart)
		}
	case VMStopping:
		stop("its stop was " + restart)
	case VMMigrating:
		if hostUp {
			ix.releaseTarget(b, vm)
			n.State, n.MigrateToHostID = VMRunning, ""
			typ, desc = "VM.MIGRATE", "VM "+vm.Name+" stays on host "+host.Name+": its migration was "+restart
		} else {
			stop("its migration was interrupted and its host is down")
		}
	}
	put(b, ix.vms, &n)
	ix.event(b, s, vm.Owner, Caller{}, typ, desc, vm.ID, KindVM)
}
