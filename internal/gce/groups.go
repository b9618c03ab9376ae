package gce

import (
	"context"
	"crypto/rand"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Zonal managed instance groups: the gateway's record of a group (its
// template, base name, target size and members) and a reconciler that
// keeps as many CloudStack VMs made from the template as the target size
// asks. A member whose VM disappears behind the group's back (destroyed
// through CloudStack, or a failed create) is made again under its name:
// GCE's autohealing, without health checks. The reconciler runs on every
// change to a group and every GroupInterval in the background, with the
// CloudStack key pair of a live token of the group's project (a project
// no one holds a token of waits for its next call).

// Member actions, as listManagedInstances reports them.
const (
	actionNone       = "NONE"
	actionCreating   = "CREATING"
	actionRecreating = "RECREATING"
	actionDeleting   = "DELETING"
)

// groupMember is one instance of a group.
type groupMember struct {
	Name string `json:"name"`
	VMID string `json:"vmId,omitempty"`
	// Action is what the group is doing to the member; Op the operation
	// it waits for (the instance's insert or delete).
	Action string `json:"action"`
	Op     string `json:"op,omitempty"`
	// Deleting is set while Op is a delete (of a member being deleted, or
	// recreated: then it is made again once the delete is done).
	Deleting bool `json:"deleting,omitempty"`
	// LastError is why the member's last create failed (at FailedAt); it
	// is tried again groupRetryDelay later.
	LastError *OpError  `json:"lastError,omitempty"`
	FailedAt  time.Time `json:"failedAt,omitzero"`
}

// groupRetryDelay is how long a group waits before it makes again a
// member whose create failed (a full zone would otherwise get a failed
// operation every round).
const groupRetryDelay = 30 * time.Second

// groupRecord is a managed instance group.
type groupRecord struct {
	ID               uint64        `json:"id"`
	Description      string        `json:"description,omitempty"`
	BaseInstanceName string        `json:"baseInstanceName"`
	Template         string        `json:"template"`
	TargetSize       int64         `json:"targetSize"`
	Created          time.Time     `json:"created"`
	Members          []groupMember `json:"members,omitempty"`
	// Base is the client-visible API root of the group's creator, for the
	// links the gateway stores on the instances it makes in the background.
	Base string `json:"base,omitempty"`
	// Deleted is set by delete: the record stays until its members are gone.
	Deleted bool `json:"deleted,omitempty"`
}

// InstanceGroupManagerVersion is one version of a group.
type InstanceGroupManagerVersion struct {
	Name             string `json:"name,omitempty"`
	InstanceTemplate string `json:"instanceTemplate,omitempty"`
}

// InstanceGroupManager is compute#instanceGroupManager.
type InstanceGroupManager struct {
	Kind                        string                        `json:"kind,omitempty"`
	ID                          uint64                        `json:"id,string,omitempty"`
	CreationTimestamp           string                        `json:"creationTimestamp,omitempty"`
	Name                        string                        `json:"name"`
	Description                 string                        `json:"description,omitempty"`
	Zone                        string                        `json:"zone,omitempty"`
	InstanceTemplate            string                        `json:"instanceTemplate,omitempty"`
	Versions                    []InstanceGroupManagerVersion `json:"versions,omitempty"`
	InstanceGroup               string                        `json:"instanceGroup,omitempty"`
	BaseInstanceName            string                        `json:"baseInstanceName,omitempty"`
	Fingerprint                 string                        `json:"fingerprint,omitempty"`
	CurrentActions              map[string]int64              `json:"currentActions,omitempty"`
	Status                      map[string]any                `json:"status,omitempty"`
	TargetSize                  *int64                        `json:"targetSize,omitempty"`
	ListManagedInstancesResults string                        `json:"listManagedInstancesResults,omitempty"`
	UpdatePolicy                map[string]any                `json:"updatePolicy,omitempty"`
	SelfLink                    string                        `json:"selfLink,omitempty"`
}

// ManagedInstance is one item of listManagedInstances.
type ManagedInstance struct {
	Instance       string                       `json:"instance"`
	ID             uint64                       `json:"id,string,omitempty"`
	InstanceStatus string                       `json:"instanceStatus,omitempty"`
	CurrentAction  string                       `json:"currentAction"`
	Version        *InstanceGroupManagerVersion `json:"version,omitempty"`
	Name           string                       `json:"name,omitempty"`
	LastAttempt    *ManagedInstanceLastAttempt  `json:"lastAttempt,omitempty"`
}

// ManagedInstanceLastAttempt is why a member's last create failed.
type ManagedInstanceLastAttempt struct {
	Errors *OpError `json:"errors,omitempty"`
}

// InstanceGroup is compute#instanceGroup: the managed group's instances
// as a group (there are no unmanaged groups).
type InstanceGroup struct {
	Kind              string `json:"kind"`
	ID                uint64 `json:"id,string"`
	CreationTimestamp string `json:"creationTimestamp,omitempty"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	Network           string `json:"network,omitempty"`
	Fingerprint       string `json:"fingerprint"`
	Zone              string `json:"zone"`
	Size              int64  `json:"size"`
	SelfLink          string `json:"selfLink"`
}

func (g *Gateway) groupsOf(project, zone string) store.Typed[groupRecord] {
	p := "/gce/instancegroupmanagers/" + project + "/"
	if zone != "" {
		p += zone + "/"
	}
	return store.Typed[groupRecord]{S: g.st, Prefix: p}
}

// splitScoped splits a "zone/name" key.
func splitScoped(key string) (zone, name string) {
	zone, name, _ = strings.Cut(key, "/")
	return zone, name
}

func (c *call) groupPath(zone, name string) string {
	return "projects/" + c.project + "/zones/" + zone + "/instanceGroupManagers/" + name
}

// groupLock serializes the reconciles of one group in this server, so a
// member is made once.
func (g *Gateway) groupLock(project, zone, name string) func() {
	mu := &g.groupLocks[idOf("group", project+"/"+zone+"/"+name)%uint64(len(g.groupLocks))]
	mu.Lock()
	return mu.Unlock
}

// findGroup loads a live group of the request's zone.
func (c *call) findGroup(z zoneInfo, name string) (*groupRecord, error) {
	rec, _, err := c.g.groupsOf(c.project, z.name).Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Deleted) {
		return nil, errNotFound(c.groupPath(z.name, name))
	}
	return rec, err
}

func (g *Gateway) insertGroup(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	var in struct {
		Name             string                        `json:"name"`
		Description      string                        `json:"description"`
		BaseInstanceName string                        `json:"baseInstanceName"`
		InstanceTemplate string                        `json:"instanceTemplate"`
		Versions         []InstanceGroupManagerVersion `json:"versions"`
		TargetSize       *int64                        `json:"targetSize"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	tmpl := in.InstanceTemplate
	if len(in.Versions) > 1 {
		return nil, errUnsupported("More than one version (canary updates)")
	}
	if len(in.Versions) == 1 {
		if tmpl != "" && lastSegment(tmpl) != lastSegment(in.Versions[0].InstanceTemplate) {
			return nil, errInvalid("Invalid value for field 'resource.versions[0].instanceTemplate': '%s'. It must be the same as 'resource.instanceTemplate'.", in.Versions[0].InstanceTemplate)
		}
		tmpl = in.Versions[0].InstanceTemplate
	}
	if tmpl == "" {
		return nil, errInvalid("Invalid value for field 'resource.instanceTemplate': ''. An instance template is required.")
	}
	if in.TargetSize == nil {
		return nil, errInvalid("Required field 'resource.targetSize' not specified")
	}
	if *in.TargetSize < 0 {
		return nil, errInvalid("Invalid value for field 'resource.targetSize': '%d'. Must be greater than or equal to 0.", *in.TargetSize)
	}
	base := in.BaseInstanceName
	if base == "" {
		base = in.Name
	}
	if !validName(base) || len(base) > 58 {
		return nil, errInvalid("Invalid value for field 'resource.baseInstanceName': '%s'. Must be a match of regex '[a-z](([-a-z0-9]{0,57})|([-a-z0-9]{0,51}-#{1,10}(\\\\[[0-9]{1,10}\\\\])?))'", base)
	}
	tname, _, err := c.findTemplate(tmpl)
	if err != nil {
		return nil, err
	}
	rec := &groupRecord{ID: idOf("instanceGroupManager", c.tok.AccountID+"/"+z.name+"/"+in.Name+"/"+strconv.FormatInt(c.g.now().UnixNano(), 10)),
		Description: in.Description, BaseInstanceName: base, Template: tname, TargetSize: *in.TargetSize,
		Created: c.g.now(), Base: c.base}
	if _, err := c.g.groupsOf(c.project, z.name).Create(c.ctx, in.Name, rec); errors.Is(err, store.ErrConflict) {
		return nil, errAlreadyExists(c.groupPath(z.name, in.Name))
	} else if err != nil {
		return nil, err
	}
	if _, err := c.reconcileGroup(z, in.Name); err != nil {
		c.g.log.Warn("gce: instance group not reconciled", "group", in.Name, "err", err)
	}
	return c.startOp(opScope{zone: z.name}, "insert", "zones/"+z.name+"/instanceGroupManagers/"+in.Name, rec.ID, nil, nil)
}

// groupCall loads the zone and group a group method works on.
func (c *call) groupCall() (zoneInfo, string, *groupRecord, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return z, "", nil, err
	}
	name := c.r.PathValue("name")
	rec, err := c.findGroup(z, name)
	return z, name, rec, err
}

func (g *Gateway) resizeGroup(c *call) (any, error) {
	s := c.r.URL.Query().Get("size")
	if s == "" {
		return nil, errInvalid("Required field 'size' not specified")
	}
	size, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return nil, errBadRequest("Invalid value at 'size' (TYPE_INT32), \"%s\"", s)
	}
	if size < 0 {
		return nil, errInvalid("Invalid value for field 'size': '%d'. Must be greater than or equal to 0.", size)
	}
	z, name, rec, err := c.groupCall()
	if err != nil {
		return nil, err
	}
	unlock := c.g.groupLock(c.project, z.name, name)
	err = c.updateGroup(z, name, func(r *groupRecord) error {
		r.TargetSize = size
		return nil
	})
	unlock()
	if err != nil {
		return nil, err
	}
	if _, err := c.reconcileGroup(z, name); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "compute.instanceGroupManagers.resize", "zones/"+z.name+"/instanceGroupManagers/"+name, rec.ID, nil, nil)
}

func (g *Gateway) recreateGroupInstances(c *call) (any, error) {
	var in struct {
		Instances []string `json:"instances"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	z, name, rec, err := c.groupCall()
	if err != nil {
		return nil, err
	}
	members := map[string]bool{}
	for _, m := range rec.Members {
		members[m.Name] = m.Action != actionDeleting
	}
	names := make(map[string]bool, len(in.Instances))
	for i, ref := range in.Instances {
		n := lastSegment(ref)
		if !members[n] {
			return nil, errInvalid("Invalid value for field 'request.instances[%d]': '%s'. The instance is not a member of the instance group manager '%s'.", i, ref, c.groupPath(z.name, name))
		}
		names[n] = true
	}
	unlock := c.g.groupLock(c.project, z.name, name)
	err = c.updateGroup(z, name, func(r *groupRecord) error {
		vms, err := c.zoneVMs(z)
		if err != nil {
			return err
		}
		for i := range r.Members {
			m := &r.Members[i]
			if !names[m.Name] || m.Deleting {
				continue
			}
			if err := c.deleteMember(z, m, vms); err != nil {
				return err
			}
			m.Action = actionRecreating
		}
		return nil
	})
	unlock()
	if err != nil {
		return nil, err
	}
	if _, err := c.reconcileGroup(z, name); err != nil {
		c.g.log.Warn("gce: instance group not reconciled", "group", name, "err", err)
	}
	return c.startOp(opScope{zone: z.name}, "compute.instanceGroupManagers.recreateInstances", "zones/"+z.name+"/instanceGroupManagers/"+name, rec.ID, nil, nil)
}

// deleteGroup deletes the group's instances and then the group; the
// operation is done when the instances are gone.
func (g *Gateway) deleteGroup(c *call) (any, error) {
	z, name, rec, err := c.groupCall()
	if err != nil {
		return nil, err
	}
	var jobs []string
	unlock := c.g.groupLock(c.project, z.name, name)
	err = c.updateGroup(z, name, func(r *groupRecord) error {
		r.Deleted, r.TargetSize = true, 0
		vms, err := c.zoneVMs(z)
		if err != nil {
			return err
		}
		for i := range r.Members {
			m := &r.Members[i]
			if !m.Deleting {
				if err := c.deleteMember(z, m, vms); err != nil {
					return err
				}
			}
			m.Action = actionDeleting
			if m.Op != "" {
				if op, _, err := c.g.opsOf(c.project).Get(c.ctx, m.Op); err == nil && op.Status != opDone {
					jobs = append(jobs, op.Jobs...)
				}
			}
		}
		return nil
	})
	unlock()
	if err != nil {
		return nil, err
	}
	if _, err := c.reconcileGroup(z, name); err != nil {
		c.g.log.Warn("gce: deleted instance group not reconciled", "group", name, "err", err)
	}
	return c.startOp(opScope{zone: z.name}, "delete", "zones/"+z.name+"/instanceGroupManagers/"+name, rec.ID, jobs, nil)
}

// updateGroup changes a group's record; fn's error leaves it as it was.
func (c *call) updateGroup(z zoneInfo, name string, fn func(*groupRecord) error) error {
	_, _, err := c.g.groupsOf(c.project, z.name).Update(c.ctx, name, func(r *groupRecord) (*groupRecord, error) {
		return r, fn(r)
	})
	return err
}

// zoneVMs lists the visible VMs of a zone by id.
func (c *call) zoneVMs(z zoneInfo) (map[string]*csclient.VirtualMachine, error) {
	vms, err := c.cs.ListVirtualMachines(c.ctx, csclient.Params("zoneid", z.cs.ID))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*csclient.VirtualMachine, len(vms))
	for i := range vms {
		if _, hidden := instanceStatus(vms[i].State); !hidden {
			out[vms[i].ID] = &vms[i]
		}
	}
	return out, nil
}

// deleteMember starts the destruction of a member's VM (if it has one).
func (c *call) deleteMember(z zoneInfo, m *groupMember, vms map[string]*csclient.VirtualMachine) error {
	m.Deleting, m.Op = true, ""
	vm := vms[m.VMID]
	if vm == nil {
		return nil
	}
	meta, err := c.instanceMeta(z.name, vm)
	if err != nil {
		return err
	}
	op, err := c.destroyInstance(z, vm, meta)
	if err != nil {
		return err
	}
	m.Op = op.Name
	return nil
}

// reconcileGroup moves a group toward its target: it follows its members'
// operations, makes again the members whose VM is gone, and makes or
// deletes members until as many are kept as the target size. A deleted
// group's record goes once its members are gone.
func (c *call) reconcileGroup(z zoneInfo, name string) (*groupRecord, error) {
	defer c.g.groupLock(c.project, z.name, name)()
	groups := c.g.groupsOf(c.project, z.name)
	rec, _, err := groups.Get(c.ctx, name)
	if err != nil {
		return nil, err
	}
	vms, err := c.zoneVMs(z)
	if err != nil {
		return nil, err
	}
	byName := map[string]*csclient.VirtualMachine{}
	for _, vm := range vms {
		byName[vm.Name] = vm
	}
	kept := rec.Members[:0:0]
	for _, m := range rec.Members {
		if m.Op != "" {
			done, failed, err := c.opDone(m.Op)
			if err != nil {
				return nil, err
			}
			if !done {
				kept = append(kept, m)
				continue
			}
			m.Op = ""
			switch {
			case m.Deleting && m.Action == actionDeleting:
				continue // gone
			case m.Deleting:
				m.Deleting, m.VMID = false, "" // recreate: made again below
			case failed != nil:
				// A failed create is made again below, after a while.
				m.VMID, m.LastError, m.FailedAt = "", failed, c.g.now()
			default:
				m.LastError, m.FailedAt = nil, time.Time{}
			}
		}
		if m.Deleting && m.Op == "" && m.Action == actionDeleting {
			continue // had no VM to delete
		}
		if vm := vms[m.VMID]; m.VMID != "" && vm != nil {
			if s, _ := instanceStatus(vm.State); s == "RUNNING" {
				m.Action = actionNone
			}
			kept = append(kept, m)
			continue
		}
		// The member's VM is gone: make it again under its name (or adopt
		// a VM of that name made meanwhile).
		if vm := byName[m.Name]; vm != nil {
			m.VMID, m.Action = vm.ID, actionNone
			kept = append(kept, m)
			continue
		}
		if m.Action != actionRecreating {
			m.Action = actionCreating
		}
		if !m.FailedAt.IsZero() && c.g.now().Before(m.FailedAt.Add(groupRetryDelay)) {
			kept = append(kept, m)
			continue
		}
		if err := c.createMember(z, name, rec, &m); err != nil {
			c.g.log.Warn("gce: instance group member not made", "group", name, "instance", m.Name, "err", err)
		}
		kept = append(kept, m)
	}
	rec.Members = kept
	if !rec.Deleted {
		if err := c.autoscale(z, name, rec, vms); err != nil {
			return nil, err
		}
	}
	if rec.Deleted {
		if len(rec.Members) == 0 {
			if err := groups.Delete(c.ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			return rec, nil
		}
	} else {
		live := 0
		for _, m := range rec.Members {
			if !(m.Deleting && m.Action == actionDeleting) {
				live++
			}
		}
		for ; int64(live) < rec.TargetSize; live++ {
			m := groupMember{Name: c.memberName(rec, byName), Action: actionCreating}
			byName[m.Name] = &csclient.VirtualMachine{Name: m.Name}
			if err := c.createMember(z, name, rec, &m); err != nil {
				c.g.log.Warn("gce: instance group member not made", "group", name, "instance", m.Name, "err", err)
			}
			rec.Members = append(rec.Members, m)
		}
		if int64(live) > rec.TargetSize {
			c.shrink(z, rec, vms, live-int(rec.TargetSize))
		}
	}
	if _, err := groups.Put(c.ctx, name, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// shrink deletes n members: those not running first, then the newest names.
func (c *call) shrink(z zoneInfo, rec *groupRecord, vms map[string]*csclient.VirtualMachine, n int) {
	var idx []int
	for i, m := range rec.Members {
		if !m.Deleting {
			idx = append(idx, i)
		}
	}
	running := func(m *groupMember) bool {
		vm := vms[m.VMID]
		if vm == nil {
			return false
		}
		s, _ := instanceStatus(vm.State)
		return s == "RUNNING"
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ma, mb := &rec.Members[idx[a]], &rec.Members[idx[b]]
		if ra, rb := running(ma), running(mb); ra != rb {
			return !ra
		}
		return ma.Name > mb.Name
	})
	for _, i := range idx[:min(n, len(idx))] {
		m := &rec.Members[i]
		if err := c.deleteMember(z, m, vms); err != nil {
			c.g.log.Warn("gce: instance group member not deleted", "instance", m.Name, "err", err)
			m.Deleting = false
			continue
		}
		m.Action = actionDeleting
	}
}

// opDone reports whether an operation is done, refreshing it.
func (c *call) opDone(name string) (done bool, failed *OpError, err error) {
	rec, _, err := c.g.opsOf(c.project).Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil, nil // expired
	}
	if err != nil {
		return false, nil, err
	}
	if rec, err = c.refresh(rec); err != nil {
		return false, nil, err
	}
	return rec.Status == opDone, rec.Error, nil
}

// memberName is a new member's name: the base name and four random
// letters and digits, as GCE names them.
func (c *call) memberName(rec *groupRecord, taken map[string]*csclient.VirtualMachine) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	used := map[string]bool{}
	for _, m := range rec.Members {
		used[m.Name] = true
	}
	for {
		var b [4]byte
		_, _ = rand.Read(b[:])
		for i := range b {
			b[i] = alphabet[int(b[i])%len(alphabet)]
		}
		name := rec.BaseInstanceName + "-" + string(b[:])
		if !used[name] && taken[name] == nil {
			return name
		}
	}
}

// createMember deploys a member's VM from the group's template. Its
// metadata says, as GCE's does, which template made it and which group it
// belongs to (created-by, which tools read to find an instance's group).
func (c *call) createMember(z zoneInfo, group string, rec *groupRecord, m *groupMember) error {
	_, tmpl, err := c.findTemplate(rec.Template)
	if err != nil {
		return err
	}
	in := c.instanceFromTemplate(&tmpl.Properties, z.name, m.Name)
	md := &Metadata{}
	if in.Metadata != nil {
		md.Items = append(md.Items, in.Metadata.Items...)
	}
	md.Items = append(md.Items,
		MetadataItem{Key: "instance-template", Value: ptr.To("projects/" + c.project + "/global/instanceTemplates/" + rec.Template)},
		MetadataItem{Key: "created-by", Value: ptr.To(c.groupPath(z.name, group))})
	in.Metadata = md
	p, err := c.planInstance(z, in)
	if err != nil {
		return err
	}
	q, err := c.deployParams(p)
	if err != nil {
		return err
	}
	op, err := c.deployInstance(p, q)
	if err != nil {
		return err
	}
	m.Op, m.Deleting = op.Name, false
	if meta, _, err := c.g.instanceMetas(c.project, z.name).Get(c.ctx, m.Name); err == nil {
		m.VMID = meta.VMID
	}
	return nil
}

// reconcileGroups is the background round: every group of every project
// that has a live token, with that token's key pair.
func (g *Gateway) reconcileGroups(ctx context.Context) {
	res, err := g.st.List(ctx, "/gce/instancegroupmanagers/", store.ListOptions{})
	if err != nil || len(res.KVs) == 0 {
		return
	}
	toks, _, err := g.tokens.List(ctx)
	if err != nil {
		g.log.Warn("gce: instance groups: list tokens", "err", err)
		return
	}
	now := g.now()
	byProject := map[string]*tokenRecord{}
	for _, t := range toks {
		if t.Val.Expires.IsZero() || t.Val.Expires.After(now) {
			byProject[t.Val.Project] = t.Val
		}
	}
	for _, kv := range res.KVs {
		rest := strings.TrimPrefix(kv.Key, "/gce/instancegroupmanagers/")
		parts := strings.Split(rest, "/")
		if len(parts) != 3 {
			continue
		}
		project, zone, name := parts[0], parts[1], parts[2]
		tok := byProject[project]
		if tok == nil {
			continue
		}
		var rec groupRecord
		if err := jsonUnmarshal(kv.Value, &rec); err != nil {
			continue
		}
		c := &call{g: g, ctx: ctx, tok: tok, project: project, cs: g.client(tok.APIKey, tok.SecretKey), base: rec.Base}
		z, err := c.zoneByName(zone)
		if err != nil {
			g.log.Warn("gce: instance group's zone", "group", name, "zone", zone, "err", err)
			continue
		}
		if _, err := c.reconcileGroup(z, name); err != nil && ctx.Err() == nil {
			g.log.Warn("gce: reconcile instance group", "project", project, "group", name, "err", err)
		}
	}
}
