package gce

import (
	"encoding/base64"
	"errors"
	"strconv"

	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// instanceStatus maps a CloudStack VM state to GCE's instance status;
// hidden reports states GCE never shows (a destroyed VM is gone).
func instanceStatus(state string) (status string, hidden bool) {
	switch state {
	case "Running", "Migrating":
		return "RUNNING", false
	case "Starting":
		return "STAGING", false
	case "Stopping":
		return "STOPPING", false
	case "Stopped", "Shutdown":
		return "TERMINATED", false
	case "Destroyed", "Expunging", "Expunged", "Error":
		// A VM whose deployment failed stays in Error until CloudStack
		// expunges it; in GCE a failed insert leaves no instance.
		return "", true
	}
	return "PROVISIONING", false
}

func (c *call) instancePath(zone, name string) string {
	return "projects/" + c.project + "/zones/" + zone + "/instances/" + name
}

// findVM finds a visible VM by name in a zone.
func (c *call) findVM(z zoneInfo, name string, withUserData bool) (*csclient.VirtualMachine, error) {
	q := csclient.Params("zoneid", z.cs.ID, "name", name)
	if withUserData {
		q.Set("userdata", "true")
	}
	vms, err := c.cs.ListVirtualMachines(c.ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range vms {
		if _, hidden := instanceStatus(vms[i].State); vms[i].Name == name && !hidden {
			return &vms[i], nil
		}
	}
	return nil, errNotFound(c.instancePath(z.name, name))
}

// instanceMeta loads the gateway's record of an instance (an empty one if
// the VM was not made through the gateway, or the record is stale).
func (c *call) instanceMeta(zone string, vm *csclient.VirtualMachine) (*instanceMeta, error) {
	m, _, err := c.g.instanceMetas(c.project, zone).Get(c.ctx, vm.Name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.VMID != "" && m.VMID != vm.ID) {
		return &instanceMeta{}, nil
	}
	return m, err
}

// metadataItems are the instance's metadata items, with user-data as
// CloudStack holds it when CloudStack answered it.
func metadataItems(vm *csclient.VirtualMachine, m *instanceMeta) []MetadataItem {
	items := m.Items
	if vm.UserData == nil {
		return items
	}
	ud := ""
	if b, err := base64.StdEncoding.DecodeString(*vm.UserData); err == nil {
		ud = string(b)
	}
	out := make([]MetadataItem, 0, len(items)+1)
	found := false
	for _, it := range items {
		if it.Key == userDataKey {
			found = true
			if ud == "" {
				continue
			}
			it.Value = ptr.To(ud)
		}
		out = append(out, it)
	}
	if !found && ud != "" {
		out = append(out, MetadataItem{Key: userDataKey, Value: ptr.To(ud)})
	}
	return out
}

// machineTypeName is the instance's machine type: the predefined type it
// was made with, else its offering's.
func machineTypeName(vm *csclient.VirtualMachine, m *instanceMeta) string {
	if m.MachineType != "" {
		return m.MachineType
	}
	return gceName(vm.ServiceOfferingName)
}

// statusOf is an instance's GCE status: its VM's, except that a suspended
// instance's stopped VM is SUSPENDED (SUSPENDING while it stops).
func statusOf(vm *csclient.VirtualMachine, m *instanceMeta) string {
	status, _ := instanceStatus(vm.State)
	if m.Suspended {
		switch status {
		case "TERMINATED":
			return "SUSPENDED"
		case "STOPPING":
			return "SUSPENDING"
		}
	}
	return status
}

// renderScheduling is an instance's scheduling as GCE shows it: what was
// asked, with GCE's defaults for the rest (a preemptible instance neither
// migrates nor restarts).
func renderScheduling(s *Scheduling) *Scheduling {
	out := &Scheduling{}
	if s != nil {
		cp := *s
		out = &cp
	}
	preemptible := out.Preemptible != nil && *out.Preemptible
	if out.Preemptible == nil {
		out.Preemptible = ptr.To(false)
	}
	if out.OnHostMaintenance == "" {
		out.OnHostMaintenance = "MIGRATE"
		if preemptible || out.ProvisioningModel == "SPOT" {
			out.OnHostMaintenance = "TERMINATE"
		}
	}
	if out.AutomaticRestart == nil {
		out.AutomaticRestart = ptr.To(!preemptible && out.ProvisioningModel != "SPOT")
	}
	if out.ProvisioningModel == "" {
		out.ProvisioningModel = "STANDARD"
	}
	return out
}

func (c *call) renderInstance(z zoneInfo, vm *csclient.VirtualMachine, m *instanceMeta) *Instance {
	status := statusOf(vm, m)
	items := metadataItems(vm, m)
	inst := &Instance{
		Kind:                   "compute#instance",
		ID:                     idOf("instance", vm.ID),
		CreationTimestamp:      csTime(vm.Created),
		Name:                   vm.Name,
		Description:            m.Description,
		Tags:                   &Tags{Items: m.Tags, Fingerprint: fingerprint(m.Tags)},
		MachineType:            c.link("zones", z.name, "machineTypes", machineTypeName(vm, m)),
		Status:                 status,
		Zone:                   c.zoneLink(z.name),
		CanIPForward:           m.CanIPForward,
		Metadata:               &Metadata{Kind: "compute#metadata", Fingerprint: fingerprint(items), Items: items},
		ServiceAccounts:        m.ServiceAccounts,
		SelfLink:               c.link("zones", z.name, "instances", vm.Name),
		CPUPlatform:            "Intel Broadwell",
		Labels:                 m.Labels,
		LabelFingerprint:       fingerprint(m.Labels),
		DeletionProtection:     m.DeletionProtect,
		LastStartTimestamp:     gceTime(m.LastStart),
		LastStopTimestamp:      gceTime(m.LastStop),
		Scheduling:             renderScheduling(m.Scheduling),
		LastSuspendedTimestamp: gceTime(m.LastSuspend),
	}
	if inst.CreationTimestamp == "" {
		inst.CreationTimestamp = gceTime(m.Created)
	}
	for i, nic := range vm.Nic {
		ni := NetworkInterface{Kind: "compute#networkInterface", Name: "nic" + strconv.Itoa(i),
			Network:    c.link("global", "networks", nicNetwork(&nic)),
			Subnetwork: c.link("regions", regionOf(z.name), "subnetworks", nicNetwork(&nic)),
			NetworkIP:  nic.IPAddress, StackType: "IPV4_ONLY", Fingerprint: fingerprint(nic.ID)}
		if i == 0 && (m.ExternalIP || vm.PublicIP != "") {
			ac := AccessConfig{Kind: "compute#accessConfig", Name: defaultAccessConfigName, Type: "ONE_TO_ONE_NAT", NetworkTier: "PREMIUM"}
			if m.AccessConfigName != "" {
				ac.Name = m.AccessConfigName
			}
			switch {
			case vm.PublicIP != "":
				ac.NatIP = vm.PublicIP
			case m.NATIP != "":
				ac.NatIP = m.NATIP
			case z.cs.NetworkType == "Basic":
				// A basic zone's guest addresses are reachable as they are.
				ac.NatIP = nic.IPAddress
			}
			ni.AccessConfigs = []AccessConfig{ac}
		}
		inst.NetworkInterfaces = append(inst.NetworkInterfaces, ni)
	}
	zero := int64(0)
	inst.Disks = []AttachedDisk{{Kind: "compute#attachedDisk", Type: "PERSISTENT", Mode: "READ_WRITE",
		Source: c.link("zones", z.name, "disks", vm.Name), DeviceName: "persistent-disk-0", Index: &zero,
		Boot: true, AutoDelete: true, Interface: "SCSI", DiskSizeGb: m.DiskSizeGb, Architecture: "X86_64"}}
	inst.Disks = append(inst.Disks, c.dataDiskEntries(z.name, vm.ID)...)
	inst.Fingerprint = fingerprint([]any{inst.Status, inst.MachineType, inst.NetworkInterfaces})
	return inst
}

func (g *Gateway) getInstance(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	vm, err := c.findVM(z, c.r.PathValue("name"), true)
	if err != nil {
		return nil, err
	}
	m, err := c.instanceMeta(z.name, vm)
	if err != nil {
		return nil, err
	}
	return c.renderInstance(z, vm, m), nil
}

// instanceEntries renders the visible VMs, of one zone or all.
func (c *call) instanceEntries(only *zoneInfo) ([]entry, error) {
	q := csclient.Params()
	if only != nil {
		q.Set("zoneid", only.cs.ID)
	}
	vms, err := c.cs.ListVirtualMachines(c.ctx, q)
	if err != nil {
		return nil, err
	}
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	byID := make(map[string]zoneInfo, len(zs))
	for _, z := range zs {
		byID[z.cs.ID] = z
	}
	zonePrefix := ""
	if only != nil {
		zonePrefix = only.name
	}
	items, _, err := c.g.instanceMetas(c.project, zonePrefix).List(c.ctx)
	if err != nil {
		return nil, err
	}
	metas := make(map[string]*instanceMeta, len(items))
	for _, it := range items {
		key := it.Name
		if only != nil {
			key = only.name + "/" + it.Name
		}
		metas[key] = it.Val
	}
	es := make([]entry, 0, len(vms))
	for i := range vms {
		vm := &vms[i]
		if _, hidden := instanceStatus(vm.State); hidden {
			continue
		}
		z, ok := byID[vm.ZoneID]
		if !ok {
			continue
		}
		m := metas[z.name+"/"+vm.Name]
		if m == nil || (m.VMID != "" && m.VMID != vm.ID) {
			m = &instanceMeta{}
		}
		inst := c.renderInstance(z, vm, m)
		es = append(es, entry{scope: "zones/" + z.name, name: vm.Name, created: inst.CreationTimestamp, v: inst})
	}
	return es, nil
}

func (g *Gateway) listInstances(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	es, err := c.instanceEntries(&z)
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#instanceList", c.link("zones", z.name, "instances"), es)
}

func (g *Gateway) aggregatedInstances(c *call) (any, error) {
	es, err := c.instanceEntries(nil)
	if err != nil {
		return nil, err
	}
	zs, _ := c.zones()
	scopes := make([]string, len(zs))
	for i, z := range zs {
		scopes[i] = "zones/" + z.name
	}
	return c.aggregated("compute#instanceAggregatedList", "instances", c.link("aggregated", "instances"), es, scopes)
}

// nicNetwork is the GCE network of a VM's NIC: an isolated network's own
// name (networks.insert made it), else default.
func nicNetwork(nic *csclient.Nic) string {
	if name := gceName(nic.NetworkName); nic.Type == "Isolated" && validName(name) {
		return name
	}
	return defaultNetwork
}
