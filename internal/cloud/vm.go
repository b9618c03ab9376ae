package cloud

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
)

// DeployRequest is what deployVirtualMachine asks for.
type DeployRequest struct {
	ZoneID             string
	ServiceOfferingID  string
	TemplateID         string
	DiskOfferingID     string
	Name               string
	DisplayName        string
	Group              string
	NetworkIDs         []string
	IPAddress          string
	SecurityGroupIDs   []string
	SecurityGroupNames []string
	KeyPairs           []string
	UserData           string
	StartVM            bool
	HostID             string
	RootDiskSize       int64
	// Size is the data disk's size in GB for a custom disk offering.
	Size     int64
	Account  string
	DomainID string
	Details  map[string]string
	// AffinityGroupIDs and AffinityGroupNames name the owner's affinity
	// groups the VM joins.
	AffinityGroupIDs   []string
	AffinityGroupNames []string
	// Cmd names the API command class for the job.
	Cmd string
}

// maxUserData is the largest user data accepted (decoded), as CloudStack's POST limit.
const maxUserData = 1 << 20

// DeployVM validates r, creates the VM (Stopped) with its root volume,
// addresses and a pending job in one transaction, then starts it in the
// job when r.StartVM. It returns the VM as created and the job.
func (s *Sim) DeployVM(ctx context.Context, c Caller, r DeployRequest) (*VM, *Job, error) {
	if r.UserData != "" {
		raw, err := base64.StdEncoding.DecodeString(r.UserData)
		if err != nil {
			if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(r.UserData, "=")); err != nil {
				return nil, nil, Invalid("User data is not base64 encoded")
			}
		}
		if len(raw) > maxUserData {
			return nil, nil, Invalid("User data is too long for POST request")
		}
	}
	if r.Name != "" && !validHostname(r.Name) {
		return nil, nil, Invalid("Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' through '9', " +
			"and the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with \"-\" and can't start with digit")
	}
	var vm *VM
	var job *Job
	var startWait time.Duration
	err := s.write(func(ix *index) error {
		owner, err := ix.ownerFor(c, r.Account, r.DomainID)
		if err != nil {
			return err
		}
		zone, ok := ix.zones.get(r.ZoneID)
		if !ok {
			return notFound(KindZone, r.ZoneID)
		}
		so, ok := ix.activeServiceOffering(r.ServiceOfferingID)
		if !ok {
			return notFound(KindServiceOffering, r.ServiceOfferingID)
		}
		tpl, ok := ix.templates.get(r.TemplateID)
		if !ok || !(tpl.Public || ix.canAccess(c, tpl.Owner)) {
			return notFound(KindTemplate, r.TemplateID)
		}
		if r.DiskOfferingID != "" {
			if _, ok := ix.activeDiskOffering(r.DiskOfferingID); !ok {
				return notFound(KindDiskOffering, r.DiskOfferingID)
			}
		}
		// Installing from an ISO: the disk offering sizes the root disk,
		// and the ISO stays in the CD-ROM.
		fromISO := tpl.Format == FormatISO
		if fromISO && tpl.NotBootable {
			return Invalid("Installing from ISO requires an ISO that is bootable: %s", tpl.ID)
		}
		if fromISO && r.DiskOfferingID == "" {
			return Invalid("Installing from ISO requires a disk offering to be specified for the root disk.")
		}
		if r.HostID != "" {
			if !c.IsRootAdmin() {
				return Denied("Parameter hostid can only be specified by a Root Admin, permission denied")
			}
			if h, ok := ix.hosts.get(r.HostID); !ok || h.ZoneID != zone.ID {
				return notFound(KindHost, r.HostID)
			}
		}
		b := &batch{}
		if err := ix.checkLimits(b, owner, map[Resource]int64{ResUserVM: 1, ResCPU: int64(so.CPUs), ResMemory: int64(so.MemoryMB), ResVolume: 1}); err != nil {
			return err
		}
		keys, err := ix.resolveKeyPairs(owner, r.KeyPairs)
		if err != nil {
			return err
		}
		ags, err := ix.resolveAffinityGroups(c, owner, r.AffinityGroupIDs, r.AffinityGroupNames)
		if err != nil {
			return err
		}
		seq := ix.nextSeq()
		id := newID()
		name := r.Name
		if name == "" {
			name = "VM-" + id
		} else if ix.vmNameTaken(owner, zone.ID, name) {
			return Invalid("The vm with hostName %s already exists in the network domain: cs%s.%s; network=%s", name,
				strings.ReplaceAll(owner.AccountID, "-", "")[:4], "cloud.internal", zone.Name)
		}
		sgs, err := ix.resolveSecurityGroups(b, s, zone, owner, r.SecurityGroupIDs, r.SecurityGroupNames, c)
		if err != nil {
			return err
		}
		nets, err := ix.resolveNetworks(ctx, b, s, c, zone, owner, r.NetworkIDs)
		if err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		vm = &VM{ID: id, Seq: seq, Name: name, DisplayName: orDefault(r.DisplayName, name), Group: r.Group,
			InstanceName: fmt.Sprintf("i-%d-%d-%s", ix.accountNumber(owner.AccountID), seq, orDefault(s.dc.Simulator.InstanceNameSuffix, "VM")),
			State:        VMStopped, ZoneID: zone.ID, ServiceOfferingID: so.ID, TemplateID: tpl.ID, UserData: r.UserData,
			KeyPairs: keys, SecurityGroupIDs: sgs, HA: so.HA, Details: r.Details, Created: now, Owner: owner, UserID: c.User.ID,
			AffinityGroupIDs: ags}
		ix.joinInstanceGroup(b, s, c, vm, r.Group, now)
		// a password-enabled template gets a password, shown once in the
		// job's result
		pw := ""
		if tpl.PasswordEnabled {
			if pw, err = newVMPassword(); err != nil {
				return err
			}
			ix.setVMPassword(vm, pw)
		}
		for i, n := range nets {
			want := ""
			if i == 0 {
				want = r.IPAddress
			}
			ip, rng, err := ix.allocIP(b, n, want, vm.ID)
			if err != nil {
				return err
			}
			vm.NICs = append(vm.NICs, NIC{ID: newID(), NetworkID: n.ID, IP: ip, Netmask: orDefault(rng.Netmask, n.Netmask),
				Gateway: orDefault(rng.Gateway, n.Gateway), MAC: macFor(seq, i), Default: i == 0})
		}
		size := tpl.SizeGB
		if so.RootDiskSize > 0 {
			size = so.RootDiskSize
		}
		if r.RootDiskSize > 0 {
			size = r.RootDiskSize
		}
		dataOffering := r.DiskOfferingID
		if fromISO {
			off, _ := ix.diskOfferings.get(r.DiskOfferingID)
			size = off.SizeGB
			if off.Custom {
				if r.Size <= 0 {
					return Invalid("This disk offering requires a custom size specified")
				}
				size = r.Size
			}
			vm.ISOID, dataOffering = tpl.ID, ""
		}
		vol := &Volume{ID: newID(), Seq: ix.nextSeq(), Name: fmt.Sprintf("ROOT-%d", seq), Type: "ROOT", VMID: vm.ID,
			ZoneID: zone.ID, SizeGB: size, TemplateID: tpl.ID, State: "Ready", Created: now, Owner: owner}
		vm.RootVolumeID = vol.ID
		if err := ix.addDataDisk(b, vm, dataOffering, r.Size, now); err != nil {
			return err
		}
		job = s.newJobVal(c, owner, JobSpec{Cmd: r.Cmd, InstanceType: KindVM, InstanceID: vm.ID})
		ix.event(b, s, owner, c, "VM.CREATE", "Successfully completed creating VM. Vm Name: "+name, vm.ID, KindVM)
		startWait = 0
		if r.StartVM {
			// The start is decided in the same transaction, as the job's
			// first step would decide it a moment later: a deploy is one
			// commit, and one whose start takes no time answers with its
			// job complete.
			n, wait, failErr, err := s.placeStart(ix, b, vm, r.HostID, true, c)
			if err != nil {
				return err
			}
			switch {
			case failErr != nil:
				job.fail(now, failErr)
			case wait == 0:
				job.complete(now, KindVM, withPassword(&n, pw))
			default:
				startWait = wait
			}
			vm = &n
		} else {
			job.complete(now, KindVM, withPassword(vm, pw))
		}
		if r.Name != "" {
			// Two servers may check the name at once: the claim decides.
			b.ops = append(b.ops, store.Create(vmNameKey(vm), []byte(strconv.Quote(vm.ID))))
		}
		put(b, ix.vms, vm)
		put(b, ix.volumes, vol)
		put(b, ix.jobs, job)
		return s.commit(ctx, b)
	})
	if err != nil {
		return nil, nil, err
	}
	if startWait > 0 {
		// the VM is Starting: the job ends when the start's time is up
		s.run(job, func(ctx context.Context, jc *jobCtx) error {
			if err := s.sleep(ctx, startWait); err != nil {
				return err
			}
			return s.settle(ctx, jc, vm.ID, VMStarting, VMRunning)
		})
		if j, err := s.Job(c, job.ID); err == nil {
			job = j
		}
	}
	return vm, job, nil
}

func (s *Sim) newJobVal(c Caller, owner Owner, spec JobSpec) *Job {
	return &Job{ID: newID(), Seq: s.ix.nextSeq(), Cmd: spec.Cmd, UserID: c.User.ID, Status: JobPending,
		InstanceType: spec.InstanceType, InstanceID: spec.InstanceID, Created: s.clock.Now().UTC(), Server: s.id, Owner: owner}
}

// complete marks a not-yet-stored job as succeeded with obj's snapshot.
func (j *Job) complete(now time.Time, kind Kind, obj any) {
	j.Status, j.Completed, j.ResultKind = JobSucceeded, now, kind
	j.Result, _ = jsonMarshal(obj)
}

// fail marks a job as failed with err's code and text.
func (j *Job) fail(now time.Time, err error) {
	e := AsError(err)
	j.Status, j.Completed, j.ResultCode, j.ErrorCSCode, j.ErrorText = JobFailed, now, e.Code, e.CSCode, e.Text
}

func macFor(seq int64, i int) string {
	return fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", byte(seq>>16), byte(seq>>8), byte(seq), byte(i))
}

func validHostname(n string) bool {
	if len(n) == 0 || len(n) > 63 || n[0] == '-' || n[len(n)-1] == '-' || ('0' <= n[0] && n[0] <= '9') {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func (ix *index) vmNameTaken(o Owner, zone, name string) bool {
	for _, v := range ix.vms.byGroup(o.AccountID) {
		if v.ZoneID == zone && strings.EqualFold(v.Name, name) && v.State != VMExpunging {
			return true
		}
	}
	return false
}

// accountNumber is the small number CloudStack shows in instance names.
func (ix *index) accountNumber(id string) int64 {
	if a, ok := ix.accounts.get(id); ok {
		return a.Seq
	}
	return 2
}

// vmFor returns a VM c may operate on.
func (ix *index) vmFor(c Caller, id string) (*VM, error) {
	v, ok := ix.vms.get(id)
	if !ok {
		return nil, notFound(KindVM, id)
	}
	if !ix.canAccess(c, v.Owner) {
		return nil, Denied("Account %s does not have permission to operate on VM %s", c.Account.Name, v.Name)
	}
	return v, nil
}

// timing returns the configured duration of an agent command.
func (s *Sim) timing(cmd string) time.Duration {
	t := s.dc.Simulator.Timings
	switch cmd {
	case CmdStart:
		return t.Start.Duration
	case CmdStop:
		return t.Stop.Duration
	case CmdReboot:
		return t.Reboot.Duration
	case CmdMigrate:
		return t.Migrate.Duration
	case CmdExpunge:
		return t.Expunge.Duration
	}
	return 0
}

// sleep waits d on the simulator's clock, or until ctx ends.
func (s *Sim) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-s.after(d):
		return nil
	case <-ctx.Done():
		return Errorf(CodeInternal, CSCloudRuntime, "job cancelled: the management server is stopping")
	}
}

func deploymentError(vm *VM) error {
	return Errorf(CodeInsufficientCap, CSInsufficientServer, "Unable to create a deployment for VM[User|%s]", vm.InstanceName)
}

// startVM places a Stopped VM on a host and starts it: Stopped → Starting
// → Running. When deploying, a failure leaves the VM in Error.
func (s *Sim) startVM(ctx context.Context, jc *jobCtx, id, hostID string, deploying bool) error {
	var wait time.Duration
	var failErr error
	err := s.write(func(ix *index) error {
		vm, ok := ix.vms.get(id)
		if !ok {
			return notFound(KindVM, id)
		}
		if vm.State == VMRunning && !deploying {
			b := &batch{}
			jc.complete(b, KindVM, vm)
			return s.commit(ctx, b)
		}
		b := &batch{}
		n, w, fe, err := s.placeStart(ix, b, vm, hostID, deploying, jc.caller(ix))
		if err != nil {
			return err
		}
		wait, failErr = w, fe
		if failErr == nil && wait == 0 {
			jc.complete(b, KindVM, &n)
		}
		put(b, ix.vms, &n)
		return s.commit(ctx, b)
	})
	if err != nil || failErr != nil || wait == 0 {
		return firstErr(err, failErr)
	}
	if err := s.sleep(ctx, wait); err != nil {
		return err
	}
	return s.settle(ctx, jc, id, VMStarting, VMRunning)
}

// placeStart decides the start of a Stopped VM, in b: the first
// placement candidate whose agent does not fail the start (a fault) takes
// it, Starting, or Running at once when the start takes no time (wait 0).
// When no host takes it, failErr says why and a deploy leaves the VM in
// Error. It returns the VM as it leaves this step, for the caller to put,
// and the start's events are added to b.
func (s *Sim) placeStart(ix *index, b *batch, vm *VM, hostID string, deploying bool, c Caller) (n VM, wait time.Duration, failErr, err error) {
	next, err := vm.State.move(VMStarting, "start")
	if err != nil {
		return n, 0, nil, err
	}
	so, _ := ix.serviceOfferings.get(vm.ServiceOfferingID)
	var host *Host
	var act FaultAction
	for _, h := range ix.placementCandidates(vm, so, hostID) {
		act = ix.matchFault(b, CmdStart, vm, h)
		if act.Result != FaultNone {
			continue // the agent failed; try the next host, as the planner does
		}
		host = h
		break
	}
	n = *vm
	n.JobID = ""
	if host == nil {
		failErr = deploymentError(vm)
		if deploying {
			n.State = VMError
		}
		ix.eventError(b, s, vm.Owner, c, "VM.START", "Error while starting VM: "+failErr.Error(), vm.ID, KindVM)
		return n, 0, failErr, nil
	}
	n.State, n.HostID, n.LastHostID = next, host.ID, host.ID
	ix.addLoad(b, host, so, 1)
	wait = s.timing(CmdStart) + act.Wait
	if wait == 0 {
		n.State = VMRunning
	}
	ix.event(b, s, vm.Owner, c, "VM.START", "Successfully completed starting VM. Vm Name: "+vm.Name, vm.ID, KindVM)
	return n, wait, nil, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// settle moves a VM from a transitional state to where it ends, completing the job.
func (s *Sim) settle(ctx context.Context, jc *jobCtx, id string, from, to VMState) error {
	return s.write(func(ix *index) error {
		vm, ok := ix.vms.get(id)
		if !ok {
			return notFound(KindVM, id)
		}
		b := &batch{}
		n := *vm
		if vm.State == from {
			if n.State, ok = to, vm.State.CanMove(to); !ok {
				return Invalid("VM %s cannot move from %s to %s", vm.Name, from, to)
			}
			if !to.holdsCapacity() && from.holdsCapacity() {
				ix.releaseHost(b, vm)
				n.HostID = ""
			}
			put(b, ix.vms, &n)
		}
		jc.complete(b, KindVM, &n)
		return s.commit(ctx, b)
	})
}

// StartVM starts a Stopped VM in an async job.
func (s *Sim) StartVM(ctx context.Context, c Caller, id, hostID, cmd string) (*Job, error) {
	return s.vmJob(ctx, c, id, cmd, func(vm *VM) error {
		if hostID != "" && !c.IsRootAdmin() {
			return Denied("Parameter hostid can only be specified by a Root Admin, permission denied")
		}
		return nil
	}, func(ctx context.Context, jc *jobCtx) error {
		return s.startVM(ctx, jc, id, hostID, false)
	})
}

// vmJob is the shape of the VM commands run as jobs: check the VM as the
// caller sees it now (an error answers the command at once), then submit
// work as the VM's job.
func (s *Sim) vmJob(ctx context.Context, c Caller, id, cmd string, check func(vm *VM) error, work func(ctx context.Context, jc *jobCtx) error) (*Job, error) {
	if err := s.checkVM(c, id, check); err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindVM, InstanceID: id}, work)
}

// writeVM runs f on the VM id in one transaction, committing the batch it
// fills; a VM gone meanwhile is not found.
func (s *Sim) writeVM(ctx context.Context, id string, f func(ix *index, vm *VM, b *batch) error) error {
	return s.write(func(ix *index) error {
		vm, ok := ix.vms.get(id)
		if !ok {
			return notFound(KindVM, id)
		}
		b := &batch{}
		if err := f(ix, vm, b); err != nil {
			return err
		}
		return s.commit(ctx, b)
	})
}

func (s *Sim) checkVM(c Caller, id string, f func(vm *VM) error) error {
	var err error
	s.read(func(ix *index) {
		var vm *VM
		if vm, err = ix.vmFor(c, id); err == nil && f != nil {
			err = f(vm)
		}
	})
	return err
}

// StopVM stops a Running VM in an async job; forced stops it even when
// the agent fails.
func (s *Sim) StopVM(ctx context.Context, c Caller, id string, forced bool, cmd string) (*Job, error) {
	return s.vmJob(ctx, c, id, cmd, nil, func(ctx context.Context, jc *jobCtx) error {
		return s.stopVM(ctx, jc, id, forced)
	})
}

func (s *Sim) stopVM(ctx context.Context, jc *jobCtx, id string, forced bool) error {
	var wait time.Duration
	err := s.write(func(ix *index) error {
		vm, ok := ix.vms.get(id)
		if !ok {
			return notFound(KindVM, id)
		}
		b := &batch{}
		if vm.State == VMStopped {
			jc.complete(b, KindVM, vm)
			return s.commit(ctx, b)
		}
		next, err := vm.State.move(VMStopping, "stop")
		if err != nil {
			return err
		}
		host, _ := ix.hosts.get(vm.HostID)
		act := ix.matchFault(b, CmdStop, vm, host)
		if act.Result != FaultNone && !forced {
			err := Errorf(CodeInternal, CSCloudRuntime, "Unable to stop VM[User|%s]: %s", vm.InstanceName, faultText(act))
			ix.eventError(b, s, vm.Owner, jc.caller(ix), "VM.STOP", "Error while stopping VM: "+err.Error(), vm.ID, KindVM)
			_ = s.commit(ctx, b)
			return err
		}
		n := *vm
		wait = s.timing(CmdStop) + act.Wait
		if wait == 0 || forced {
			wait = 0
			ix.releaseHost(b, vm)
			n.State, n.HostID = VMStopped, ""
			jc.complete(b, KindVM, &n)
		} else {
			n.State = next
		}
		put(b, ix.vms, &n)
		ix.event(b, s, vm.Owner, jc.caller(ix), "VM.STOP", "Successfully completed stopping VM. Vm Name: "+vm.Name, vm.ID, KindVM)
		return s.commit(ctx, b)
	})
	if err != nil || wait == 0 {
		return err
	}
	if err := s.sleep(ctx, wait); err != nil {
		return err
	}
	return s.settle(ctx, jc, id, VMStopping, VMStopped)
}

func faultText(a FaultAction) string {
	if a.Result == FaultFault {
		return "Simulated fault"
	}
	return "Simulated failure"
}

// RebootVM reboots a Running VM in an async job.
func (s *Sim) RebootVM(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	return s.vmJob(ctx, c, id, cmd, nil, func(ctx context.Context, jc *jobCtx) error {
		var wait time.Duration
		err := s.writeVM(ctx, id, func(ix *index, vm *VM, b *batch) error {
			if vm.State != VMRunning {
				return Invalid("Unable to reboot the VM as it is in %s state", vm.State)
			}
			host, _ := ix.hosts.get(vm.HostID)
			act := ix.matchFault(b, CmdReboot, vm, host)
			if act.Result != FaultNone {
				err := Errorf(CodeInternal, CSCloudRuntime, "Failed to reboot vm instance: %s", faultText(act))
				ix.eventError(b, s, vm.Owner, jc.caller(ix), "VM.REBOOT", "Error while rebooting VM: "+err.Error(), vm.ID, KindVM)
				_ = s.commit(ctx, b)
				return err
			}
			wait = s.timing(CmdReboot) + act.Wait
			if wait == 0 {
				jc.complete(b, KindVM, vm)
			}
			ix.event(b, s, vm.Owner, jc.caller(ix), "VM.REBOOT", "Successfully completed rebooting VM. Vm Name: "+vm.Name, vm.ID, KindVM)
			return nil
		})
		if err != nil || wait == 0 {
			return err
		}
		if err := s.sleep(ctx, wait); err != nil {
			return err
		}
		return s.settle(ctx, jc, id, VMRunning, VMRunning)
	})
}

// DestroyVM destroys a VM in an async job (stopping it first); with
// expunge it is removed at once and its addresses come back.
func (s *Sim) DestroyVM(ctx context.Context, c Caller, id string, expunge bool, cmd string) (*Job, error) {
	return s.vmJob(ctx, c, id, cmd, func(vm *VM) error {
		if vm.State == VMDestroyed && !expunge {
			return Invalid("Unable to destroy the VM as it is in %s state", vm.State)
		}
		return nil
	}, func(ctx context.Context, jc *jobCtx) error {
		return s.writeVM(ctx, id, func(ix *index, vm *VM, b *batch) error {
			n := *vm
			if vm.State.holdsCapacity() {
				ix.releaseHost(b, vm)
				n.HostID, n.MigrateToHostID = "", ""
			}
			n.State, n.Destroyed = VMDestroyed, s.clock.Now().UTC()
			ix.event(b, s, vm.Owner, jc.caller(ix), "VM.DESTROY", "Successfully completed destroying VM. Vm Name: "+vm.Name, vm.ID, KindVM)
			if expunge {
				n.State = VMExpunging
				ix.expunge(b, s, &n, jc.caller(ix))
			} else {
				put(b, ix.vms, &n)
			}
			jc.complete(b, KindVM, &n)
			return nil
		})
	})
}

// vmNameKey is the claim on a VM's name in its account and zone: created
// with the VM (when the caller chose the name), removed when it is
// expunged, so servers sharing a store cannot both give a name out.
func vmNameKey(vm *VM) string {
	return vmNamePrefix + vm.AccountID + "/" + vm.ZoneID + "/" + strings.ToLower(vm.Name)
}

// vmNamePrefix holds the VM name claims (see vmNameKey).
const vmNamePrefix = keyRoot + "vmnames/"

// expunge adds the removal of a VM, its volume, tags and addresses to b.
func (ix *index) expunge(b *batch, s *Sim, vm *VM, c Caller) {
	b.ops = append(b.ops, store.Delete(vmNameKey(vm)))
	for _, nic := range vm.NICs {
		ix.release(b, nic.NetworkID, nic.IP)
	}
	ix.expungeExtras(b, s, vm)
	ix.dropVMSnapshotsOf(b, vm.ID)
	del(b, ix.volumes, vm.RootVolumeID)
	ix.dropSnapshotPolicies(b, vm.RootVolumeID)
	for _, t := range ix.tags.byGroup(vm.ID) {
		del(b, ix.tags, t.ID)
	}
	del(b, ix.vms, vm.ID)
	ix.event(b, s, vm.Owner, c, "VM.EXPUNGE", "Successfully completed expunging VM. Vm Name: "+vm.Name, vm.ID, KindVM)
}

// ExpungeVM removes a Destroyed (or Error) VM in an async job.
func (s *Sim) ExpungeVM(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	return s.vmJob(ctx, c, id, cmd, func(vm *VM) error {
		if vm.State != VMDestroyed && vm.State != VMError {
			return Invalid("Please specify a VM that is either Stopped, Destroyed or Error; VM %s is %s", vm.Name, vm.State)
		}
		return nil
	}, func(ctx context.Context, jc *jobCtx) error {
		return s.writeVM(ctx, id, func(ix *index, vm *VM, b *batch) error {
			n := *vm
			n.State = VMExpunging
			ix.expunge(b, s, &n, jc.caller(ix))
			jc.complete(b, "", nil)
			return nil
		})
	})
}

// RecoverVM brings a Destroyed VM back to Stopped.
func (s *Sim) RecoverVM(ctx context.Context, c Caller, id string) (*VM, error) {
	var out *VM
	err := s.write(func(ix *index) error {
		vm, err := ix.vmFor(c, id)
		if err != nil {
			return err
		}
		if vm.State != VMDestroyed {
			return Invalid("Unable to recover VM %s as it is in %s state", vm.Name, vm.State)
		}
		b := &batch{}
		n := *vm
		n.State, n.Destroyed = VMStopped, time.Time{}
		put(b, ix.vms, &n)
		ix.event(b, s, vm.Owner, c, "VM.RECOVER", "Successfully completed recovering VM. Vm Name: "+vm.Name, vm.ID, KindVM)
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// ChangeServiceOffering changes a Stopped VM's offering.
func (s *Sim) ChangeServiceOffering(ctx context.Context, c Caller, id, offeringID string) (*VM, error) {
	var out *VM
	err := s.write(func(ix *index) error {
		vm, err := ix.vmFor(c, id)
		if err != nil {
			return err
		}
		so, ok := ix.activeServiceOffering(offeringID)
		if !ok {
			return notFound(KindServiceOffering, offeringID)
		}
		if vm.State != VMStopped {
			return Invalid("Unable to upgrade virtual machine %s: it is in %s state, not Stopped", vm.Name, vm.State)
		}
		old, _ := ix.serviceOfferings.get(vm.ServiceOfferingID)
		b := &batch{}
		if err := ix.checkLimits(b, vm.Owner, map[Resource]int64{ResCPU: int64(so.CPUs - old.CPUs), ResMemory: int64(so.MemoryMB - old.MemoryMB)}); err != nil {
			return err
		}
		n := *vm
		n.ServiceOfferingID, n.HA = so.ID, so.HA
		put(b, ix.vms, &n)
		ix.event(b, s, vm.Owner, c, "VM.UPGRADE", "Successfully completed upgrading VM. Vm Name: "+vm.Name, vm.ID, KindVM)
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// UpdateVM changes a VM's display name, group or user data.
func (s *Sim) UpdateVM(ctx context.Context, c Caller, id string, displayName, group, userData *string) (*VM, error) {
	var out *VM
	err := s.write(func(ix *index) error {
		vm, err := ix.vmFor(c, id)
		if err != nil {
			return err
		}
		b := &batch{}
		n := *vm
		if displayName != nil {
			n.DisplayName = *displayName
		}
		if group != nil {
			ix.joinInstanceGroup(b, s, c, &n, *group, s.clock.Now().UTC())
		}
		if userData != nil {
			if _, err := base64.StdEncoding.DecodeString(*userData); err != nil {
				return Invalid("User data is not base64 encoded")
			}
			n.UserData = *userData
		}
		put(b, ix.vms, &n)
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// ResetSSHKey sets a Stopped VM's key pairs, in an async job.
func (s *Sim) ResetSSHKey(ctx context.Context, c Caller, id string, keyPairs []string, cmd string) (*Job, error) {
	return s.vmJob(ctx, c, id, cmd, func(vm *VM) error {
		if vm.State != VMStopped {
			return Invalid("vm %s is not in the right state: %s. Vm should be stopped to do SSH Key reset", vm.Name, vm.State)
		}
		return nil
	}, func(ctx context.Context, jc *jobCtx) error {
		return s.writeVM(ctx, id, func(ix *index, vm *VM, b *batch) error {
			keys, err := ix.resolveKeyPairs(vm.Owner, keyPairs)
			if err != nil {
				return err
			}
			n := *vm
			n.KeyPairs = keys
			n.EncryptedPassword = "" // as the real server, which drops Encrypted.Password
			put(b, ix.vms, &n)
			jc.complete(b, KindVM, &n)
			return nil
		})
	})
}

// AddNIC attaches the VM to another network, in an async job.
func (s *Sim) AddNIC(ctx context.Context, c Caller, vmID, networkID, ip, cmd string) (*Job, error) {
	return s.vmJob(ctx, c, vmID, cmd, nil, func(ctx context.Context, jc *jobCtx) error {
		return s.writeVM(ctx, vmID, func(ix *index, vm *VM, b *batch) error {
			n, ok := ix.networks.get(networkID)
			if !ok || n.System || !(n.Shared || ix.canAccess(c, n.Owner)) {
				return notFound(KindNetwork, networkID)
			}
			if n.ZoneID != vm.ZoneID {
				return Invalid("Network %s is not in the zone of VM %s", n.Name, vm.Name)
			}
			addr, rng, err := ix.allocIP(b, n, ip, vm.ID)
			if err != nil {
				return err
			}
			nv := *vm
			nv.NICs = append(append([]NIC(nil), vm.NICs...), NIC{ID: newID(), NetworkID: n.ID, IP: addr,
				Netmask: orDefault(rng.Netmask, n.Netmask), Gateway: orDefault(rng.Gateway, n.Gateway), MAC: macFor(vm.Seq, len(vm.NICs))})
			put(b, ix.vms, &nv)
			jc.complete(b, KindVM, &nv)
			return nil
		})
	})
}
