package gce

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Disks that change: insert (a CloudStack data volume from a disk offering
// or a snapshot), delete, and an instance's attachDisk and detachDisk. An
// attached data disk's device name is persistent-disk-<CloudStack device
// id>, the form GCE gives disks attached without one.

// defaultDiskSizeGb is GCE's size for a blank pd-standard disk given none.
const defaultDiskSizeGb = 500

// diskInsert is the part of compute#disk an insert reads.
type diskInsert struct {
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	SizeGb         json.Number       `json:"sizeGb"`
	Type           string            `json:"type"`
	SourceImage    string            `json:"sourceImage"`
	SourceSnapshot string            `json:"sourceSnapshot"`
	Labels         map[string]string `json:"labels"`
}

func (c *call) diskPath(zone, name string) string {
	return "projects/" + c.project + "/zones/" + zone + "/disks/" + name
}

// findDisk finds a zone's disk by its GCE name.
func (c *call) findDisk(z zoneInfo, name string) (*csclient.Volume, error) {
	vols, err := c.cs.ListVolumes(c.ctx, csclient.Params("zoneid", z.cs.ID))
	if err != nil {
		return nil, err
	}
	for i := range vols {
		if diskName(&vols[i]) == name && diskStatus(vols[i].State) != "DELETING" {
			return &vols[i], nil
		}
	}
	return nil, errNotFound(c.diskPath(z.name, name))
}

// errDiskInUse is GCE's answer for a disk an instance uses.
func (c *call) errDiskInUse(zone, disk, vm string) *apiError {
	return &apiError{Code: http.StatusBadRequest, Reason: "resourceInUseByAnotherResource",
		Message: "The disk resource '" + c.diskPath(zone, disk) + "' is already being used by '" + c.instancePath(zone, vm) + "'"}
}

func (g *Gateway) insertDisk(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	var in diskInsert
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	size := int64(0)
	if in.SizeGb != "" {
		if size, err = in.SizeGb.Int64(); err != nil || size <= 0 {
			return nil, errInvalid("Invalid value for field 'resource.sizeGb': '%s'. Must be greater than or equal to 1.", in.SizeGb)
		}
	}
	if _, err := c.findDisk(z, in.Name); err == nil {
		return nil, errAlreadyExists(c.diskPath(z.name, in.Name))
	} else if toAPIError(err).Code != http.StatusNotFound {
		return nil, err
	}
	if in.SourceImage != "" {
		return nil, errUnsupported("Creating a disk from an image")
	}
	dtype, err := diskTypeOf(in.Type)
	if err != nil {
		return nil, err
	}
	q := csclient.Params("name", in.Name, "zoneid", z.cs.ID)
	if in.SourceSnapshot != "" {
		snap, err := c.findSnapshot(lastSegment(in.SourceSnapshot))
		if err != nil {
			return nil, err
		}
		if size != 0 && size < int64(snap.VirtualSize)>>30 {
			return nil, errInvalid("Invalid value for field 'resource.sizeGb': '%d'. Requested disk size cannot be smaller than the snapshot size (%d GB).", size, int64(snap.VirtualSize)>>30)
		}
		q.Del("zoneid")
		q.Set("snapshotid", snap.ID)
	} else {
		if size == 0 {
			size = defaultDiskSizeGb
		}
		off, err := c.diskOffering(size)
		if err != nil {
			return nil, err
		}
		q.Set("diskofferingid", off.ID)
		if off.IsCustomized {
			q.Set("size", strconv.FormatInt(size, 10))
		}
	}
	res, err := c.cs.Async(c.ctx, "createVolume", q)
	if err != nil {
		return nil, err
	}
	jobs := []string{res.JobID}
	if dtype != "" && dtype != "pd-standard" {
		tag, err := c.cs.Async(c.ctx, "createTags", csclient.Params("resourcetype", "Volume", "resourceids", res.ID,
			"tags[0].key", tagDiskType, "tags[0].value", dtype))
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, tag.JobID)
	}
	return c.startOp(opScope{zone: z.name}, "insert", "zones/"+z.name+"/disks/"+in.Name, idOf("disk", res.ID), jobs, nil)
}

// diskOffering picks the offering of a size: one of exactly that size,
// else a customizable one.
func (c *call) diskOffering(sizeGb int64) (*csclient.DiskOffering, error) {
	offs, err := c.cs.ListDiskOfferings(c.ctx)
	if err != nil {
		return nil, err
	}
	var custom *csclient.DiskOffering
	for i := range offs {
		o := &offs[i]
		if !o.IsCustomized && int64(o.DiskSize) == sizeGb {
			return o, nil
		}
		if o.IsCustomized && custom == nil {
			custom = o
		}
	}
	if custom == nil {
		return nil, errInvalid("Invalid value for field 'resource.sizeGb': '%d'. No CloudStack disk offering has this size and none is customizable.", sizeGb)
	}
	return custom, nil
}

func (g *Gateway) deleteDisk(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	name := c.r.PathValue("name")
	v, err := c.findDisk(z, name)
	if err != nil {
		return nil, err
	}
	if v.VirtualMachineID != "" {
		return nil, c.errDiskInUse(z.name, name, v.VMName)
	}
	// deleteVolume is synchronous in CloudStack: the operation is DONE.
	err = c.cs.Do(c.ctx, "deleteVolume", csclient.Params("id", v.ID), nil)
	if err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "delete", "zones/"+z.name+"/disks/"+name, idOf("disk", v.ID), nil, nil)
}

func (g *Gateway) attachDisk(c *call) (any, error) {
	z, vm, _, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	var in AttachedDisk
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if in.Source == "" {
		return nil, errInvalid("Invalid value for field 'resource.source': ''. Source is required.")
	}
	if in.Boot {
		return nil, errUnsupported("Attaching a boot disk")
	}
	name := lastSegment(in.Source)
	v, err := c.findDisk(z, name)
	if err != nil {
		return nil, err
	}
	if v.VirtualMachineID != "" {
		return nil, c.errDiskInUse(z.name, name, v.VMName)
	}
	res, err := c.cs.Async(c.ctx, "attachVolume", csclient.Params("id", v.ID, "virtualmachineid", vm.ID))
	if err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "attachDisk", "zones/"+z.name+"/instances/"+vm.Name, idOf("instance", vm.ID), []string{res.JobID}, nil)
}

func (g *Gateway) detachDisk(c *call) (any, error) {
	z, vm, _, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	dev := c.r.URL.Query().Get("deviceName")
	if dev == "" {
		return nil, errInvalid("Required field 'deviceName' not specified")
	}
	disks, err := c.attachedDataDisks(vm.ID)
	if err != nil {
		return nil, err
	}
	for _, v := range disks {
		if deviceName(&v) == dev {
			res, err := c.cs.Async(c.ctx, "detachVolume", csclient.Params("id", v.ID))
			if err != nil {
				return nil, err
			}
			return c.startOp(opScope{zone: z.name}, "detachDisk", "zones/"+z.name+"/instances/"+vm.Name, idOf("instance", vm.ID), []string{res.JobID}, nil)
		}
	}
	return nil, errInvalid("Invalid value for field 'deviceName': '%s'. No disk with given device name is attached.", dev)
}

// deviceName is an attached data disk's GCE device name.
func deviceName(v *csclient.Volume) string {
	return "persistent-disk-" + strconv.FormatInt(deviceIndex(v), 10)
}

func deviceIndex(v *csclient.Volume) int64 {
	if v.DeviceID != nil {
		return int64(*v.DeviceID)
	}
	return 1
}

// attachedDataDisks returns a VM's attached data volumes by device id,
// listing the data volumes once per request.
func (c *call) attachedDataDisks(vmID string) ([]csclient.Volume, error) {
	if c.dataDisks == nil {
		vols, err := c.cs.ListVolumes(c.ctx, csclient.Params("type", "DATADISK"))
		if err != nil {
			return nil, err
		}
		c.dataDisks = map[string][]csclient.Volume{}
		for _, v := range vols {
			if v.VirtualMachineID != "" {
				c.dataDisks[v.VirtualMachineID] = append(c.dataDisks[v.VirtualMachineID], v)
			}
		}
	}
	return c.dataDisks[vmID], nil
}

// dataDiskEntries are an instance's attached data disks as GCE shows them.
func (c *call) dataDiskEntries(zone, vmID string) []AttachedDisk {
	vols, err := c.attachedDataDisks(vmID)
	if err != nil {
		c.g.log.Warn("gce: data disks not listed", "vm", vmID, "err", err)
		return nil
	}
	out := make([]AttachedDisk, 0, len(vols))
	for i := range vols {
		v := &vols[i]
		idx := deviceIndex(v)
		out = append(out, AttachedDisk{Kind: "compute#attachedDisk", Type: "PERSISTENT", Mode: "READ_WRITE",
			Source: c.link("zones", zone, "disks", diskName(v)), DeviceName: deviceName(v), Index: &idx,
			Interface: "SCSI", DiskSizeGb: int64(v.Size) >> 30, Architecture: "X86_64"})
	}
	return out
}

// resizeDisk grows a disk (CloudStack's resizeVolume): a boot disk or a
// disk of a customizable offering to the size asked, any other disk onto
// the offering of that size. GCE disks never shrink.
func (g *Gateway) resizeDisk(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	var in struct {
		SizeGb json.Number `json:"sizeGb"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	size, err := in.SizeGb.Int64()
	if err != nil || size <= 0 {
		return nil, errInvalid("Invalid value for field 'sizeGb': '%s'. Must be greater than or equal to 1.", in.SizeGb)
	}
	name := c.r.PathValue("name")
	v, err := c.findDisk(z, name)
	if err != nil {
		return nil, err
	}
	if cur := int64(v.Size) >> 30; size <= cur {
		return nil, errInvalid("Invalid value for field 'sizeGb': '%d'. New disk size '%d' GiB must be larger than existing size '%d' GiB.", size, size, cur)
	}
	q := csclient.Params("id", v.ID, "size", strconv.FormatInt(size, 10))
	if v.Type != "ROOT" {
		offs, err := c.cs.ListDiskOfferings(c.ctx)
		if err != nil {
			return nil, err
		}
		custom := false
		for _, o := range offs {
			custom = custom || (o.ID == v.DiskOfferingID && o.IsCustomized)
		}
		if !custom {
			off, err := c.diskOffering(size)
			if err != nil {
				return nil, err
			}
			q.Set("diskofferingid", off.ID)
			if !off.IsCustomized {
				q.Del("size")
			}
		}
	}
	res, err := c.cs.Async(c.ctx, "resizeVolume", q)
	if err != nil {
		return nil, err
	}
	if v.Type == "ROOT" && v.VirtualMachineID != "" {
		// The instance shows its boot disk's size from its record.
		vm := &csclient.VirtualMachine{ID: v.VirtualMachineID, Name: v.VMName}
		if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { m.DiskSizeGb = size }); err != nil {
			return nil, err
		}
	}
	return c.startOp(opScope{zone: z.name}, "resize", "zones/"+z.name+"/disks/"+name, idOf("disk", v.ID), []string{res.JobID}, nil)
}
