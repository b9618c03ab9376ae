package cloudstack

import (
	"encoding/json"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// The storage family: volumes and volume snapshots. Accepted and ignored
// (the simulator has one shared primary storage pool and no IOPS):
// customid, displayvolume, maxiops, miniops (createVolume);
// automigrate, maxiops, miniops (resizeVolume); asyncbackup, locationtype,
// policyid, quiescevm, storageids, usestoragereplication, zoneids
// (createSnapshot); zoneid (deleteSnapshot).

func storageCommands() []*command {
	return []*command{
		{Name: "createVolume", Async: true, Desc: "Creates a disk volume from a disk offering. This disk volume must still be attached to a virtual machine to make use of it.",
			Resp: "volume", RespOf: volumeView{}, Params: []param{
				p("account:string", "the account associated with the disk volume. Must be used with the domainId parameter."),
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only"),
				p("diskofferingid:uuid:DiskOffering", "the ID of the disk offering. Either diskOfferingId or snapshotId must be passed in."),
				p("displayvolume:boolean", "an optional field, whether to display the volume to the end user or not."),
				p("domainid:uuid:Domain", "the domain ID associated with the disk offering. If used with the account parameter returns the disk volume associated with the account for the specified domain.If account is NOT provided then the volume will be assigned to the caller account and domain."),
				p("maxiops:long", "max iops"),
				p("miniops:long", "min iops"),
				p("name:string", "the name of the disk volume"),
				p("projectid:uuid:Project", "the project associated with the volume. Mutually exclusive with account parameter"),
				p("size:long", "Arbitrary volume size"),
				p("snapshotid:uuid:Snapshot", "the snapshot ID for the disk volume. Either diskOfferingId or snapshotId must be passed in."),
				p("virtualmachineid:uuid:UserVm", "the ID of the virtual machine; to be used with snapshot Id, VM to which the volume gets attached after creation"),
				p("zoneid:uuid:Zone", "the ID of the availability zone"),
			}, Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				v, job, err := rq.h.sim.CreateVolume(rq.ctx, rq.c, cloud.VolumeRequest{Name: rq.str("name"), ZoneID: rq.str("zoneid"),
					DiskOfferingID: rq.str("diskofferingid"), SizeGB: rq.integer("size", 0), SnapshotID: rq.str("snapshotid"),
					VMID: rq.str("virtualmachineid"), Account: account, DomainID: domainID, Cmd: rq.className()})
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: v.ID, JobID: job.ID}, nil
			}},
		{Name: "attachVolume", Async: true, Desc: "Attaches a disk volume to a virtual machine.", Resp: "volume", RespOf: volumeView{},
			Params: []param{
				p("deviceid:long", "The ID of the device to map the volume to the guest OS. If no deviceID is informed, the next available deviceID will be chosen. Use 0 when volume needs to be attached as ROOT."),
				p("id*:uuid:Volume", "the ID of the disk volume"),
				p("virtualmachineid*:uuid:UserVm", "    the ID of the virtual machine"),
			}, Run: func(rq *request) (any, error) {
				dev := rq.integer("deviceid", 0)
				if rq.str("deviceid") == "0" {
					return nil, cloud.Invalid("deviceId 0 is reserved for the ROOT volume")
				}
				return asyncJob(rq.h.sim.AttachVolume(rq.ctx, rq.c, rq.str("id"), rq.str("virtualmachineid"), dev, rq.className()))
			}},
		{Name: "detachVolume", Async: true, Desc: "Detaches a disk volume from a virtual machine.", Resp: "volume", RespOf: volumeView{},
			Params: []param{
				p("deviceid:long", "the device ID on the virtual machine where volume is detached from"),
				p("id:uuid:Volume", "the ID of the disk volume"),
				p("virtualmachineid:uuid:UserVm", "the ID of the virtual machine where the volume is detached from"),
			}, Run: func(rq *request) (any, error) {
				id := rq.str("id")
				if id == "" {
					vmID, dev := rq.str("virtualmachineid"), rq.str("deviceid")
					if vmID == "" || dev == "" {
						return nil, cloud.Invalid("Please provide either a volume id, or a tuple(device id, instance id)")
					}
					var ok bool
					rq.h.sim.Read(func(r cloud.Reader) {
						var v *cloud.Volume
						if v, ok = r.VolumeAt(vmID, rq.integer("deviceid", -1)); ok {
							id = v.ID
						}
					})
					if !ok {
						return nil, cloud.Invalid("Unable to find volume with ID: %s", dev)
					}
				}
				return asyncJob(rq.h.sim.DetachVolume(rq.ctx, rq.c, id, rq.className()))
			}},
		{Name: "resizeVolume", Async: true, Desc: "Resizes a volume", Resp: "volume", RespOf: volumeView{},
			Params: []param{
				p("automigrate:boolean", "Flag to allow automatic migration of the volume to another suitable storage pool that accommodates the new size"),
				p("diskofferingid:uuid:DiskOffering", "new disk offering id"),
				p("id*:uuid:Volume", "the ID of the disk volume"),
				p("maxiops:long", "New maximum number of IOPS"),
				p("miniops:long", "New minimum number of IOPS"),
				p("shrinkok:boolean", "Verify OK to Shrink"),
				p("size:long", "New volume size in GB"),
			}, Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.ResizeVolume(rq.ctx, rq.c, rq.str("id"), rq.integer("size", 0), rq.str("diskofferingid"),
					rq.boolean("shrinkok", false), rq.className()))
			}},
		{Name: "deleteVolume", Desc: "Deletes a detached disk volume.", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:Volume", "The ID of the disk volume")},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.DeleteVolume(rq.ctx, rq.c, rq.str("id")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
		{Name: "createSnapshot", Async: true, Desc: "Creates an instant snapshot of a volume.", Resp: "snapshot", RespOf: snapshotView{},
			Params: []param{
				p("account:string", "The account of the snapshot. The account parameter must be used with the domainId parameter."),
				p("asyncbackup:boolean", "asynchronous backup if true"),
				p("domainid:uuid:Domain", "The domain ID of the snapshot. If used with the account parameter, specifies a domain for the account associated with the disk volume. If account is NOT provided then snapshot will be assigned to the caller account and domain."),
				p("locationtype:string", "Currently applicable only for managed storage. Valid location types: 'primary', 'secondary'. Default = 'primary'."),
				p("name:string", "the name of the snapshot"),
				p("policyid:uuid", "policy id of the snapshot, if this is null, then use MANUAL_POLICY."),
				p("quiescevm:boolean", "quiesce vm if true"),
				p("storageids:list", "A comma-separated list of IDs of the storage pools in other zones in which the snapshot will be made available. The snapshot will always be made available in the zone in which the volume is present."),
				p("tags:map", "Map of tags (key/value pairs)"),
				p("usestoragereplication:boolean", "This parameter enables the option the snapshot to be copied to supported primary storage"),
				p("volumeid*:uuid:Volume", "The ID of the disk volume"),
				p("zoneids:list", "A comma-separated list of IDs of the zones in which the snapshot will be made available. The snapshot will always be made available in the zone in which the volume is present."),
			}, Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.CreateSnapshot(rq.ctx, rq.c, rq.str("volumeid"), rq.str("name"), rq.className()))
			}},
		{Name: "listSnapshots", Desc: "Lists all available snapshots for the account.", Resp: "snapshot", RespOf: snapshotView{},
			Params: ownedListParams(withID(cloud.KindSnapshot, pIDs, pName, pTags,
				p("zoneid:uuid:Zone", "list snapshots by zone id"),
				p("volumeid:uuid:Volume", "the ID of the disk volume"),
				p("snapshottype:string", "valid values are MANUAL or RECURRING."),
				p("intervaltype:string", "valid values are HOURLY, DAILY, WEEKLY, and MONTHLY."),
				p("imagestoreid:uuid", "ID of the image or image cache store"),
				p("storageid:uuid", "ID of the storage pool"),
				p("locationtype:string", "list snapshots by location type. Used only when showunique=false. Valid location types: 'primary', 'secondary'. Default is empty"),
				p("showunique:boolean", "If set to false, list templates across zones and their storages"))...),
			Run: listSnapshots},
		{Name: "deleteSnapshot", Async: true, Desc: "Deletes a snapshot of a disk volume.", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:Snapshot", "The ID of the snapshot"), p("zoneid:uuid:Zone", "The ID of the zone for the snapshot")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteSnapshot(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
		{Name: "revertSnapshot", Async: true, Desc: "This is supposed to revert a volume snapshot. This command is only supported with KVM so far",
			Resp: "snapshot", RespOf: snapshotView{},
			Params: []param{p("id*:uuid:Snapshot", "The ID of the snapshot")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.RevertSnapshot(rq.ctx, rq.c, rq.str("id"), rq.className()))
			}},
	}
}

func listSnapshots(rq *request) (any, error) {
	ids := rq.idFilter()
	typ := rq.str("snapshottype")
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		return listView(rq, "snapshot", r.Snapshots(), func(s *cloud.Snapshot) bool {
			return keep(s.Owner) && ids(s.ID) && rq.match("name", s.Name) && rq.match("zoneid", s.ZoneID) &&
				rq.match("volumeid", s.VolumeID) && (typ == "" || strings.EqualFold(typ, "MANUAL")) &&
				rq.keyword(s.Name) && rq.tagsMatch(r, s.ID)
		}, func(s *cloud.Snapshot) snapshotView { return snapshotOf(r, s) })
	})
}

type snapshotView struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	SnapshotType  string    `json:"snapshottype"`
	IntervalType  string    `json:"intervaltype"`
	State         string    `json:"state"`
	VolumeID      string    `json:"volumeid"`
	VolumeName    string    `json:"volumename"`
	VolumeType    string    `json:"volumetype"`
	VolumeState   string    `json:"volumestate,omitempty"`
	ZoneID        string    `json:"zoneid"`
	ZoneName      string    `json:"zonename"`
	PhysicalSize  int64     `json:"physicalsize"`
	VirtualSize   int64     `json:"virtualsize"`
	OSTypeID      string    `json:"ostypeid,omitempty"`
	OSDisplayName string    `json:"osdisplayname,omitempty"`
	LocationType  string    `json:"locationtype,omitempty"`
	Revertable    bool      `json:"revertable"`
	Created       string    `json:"created"`
	Tags          []tagView `json:"tags"`
	ownerView
}

func snapshotOf(r cloud.Reader, s *cloud.Snapshot) snapshotView {
	typ := orAll(s.Type, "MANUAL")
	out := snapshotView{ID: s.ID, Name: s.Name, SnapshotType: typ, IntervalType: typ, State: s.State, VolumeID: s.VolumeID,
		VolumeName: s.VolumeName, VolumeType: s.VolumeType, ZoneID: s.ZoneID, PhysicalSize: s.SizeGB << 30, VirtualSize: s.SizeGB << 30,
		Revertable: true, Created: date(s.Created), Tags: tagsOf(r, s.ID), ownerView: owner(r, s.Owner)}
	if z, ok := r.Zone(s.ZoneID); ok {
		out.ZoneName = z.Name
	}
	if v, ok := r.Volume(s.VolumeID); ok {
		out.VolumeState = v.State
		if t, ok := r.Template(v.TemplateID); ok {
			out.OSTypeID = t.OSTypeID
			if os, ok := r.OSType(t.OSTypeID); ok {
				out.OSDisplayName = os.Description
			}
		}
	}
	return out
}

// storageJobResult renders the job results of the storage family (nil for
// other kinds).
func storageJobResult(r cloud.Reader, j *cloud.Job) any {
	switch j.ResultKind {
	case cloud.KindVolume:
		var v cloud.Volume
		if json.Unmarshal(j.Result, &v) != nil {
			return nil
		}
		return Object{Key: "volume", Obj: volumeOf(r, &v)}
	case cloud.KindSnapshot:
		var s cloud.Snapshot
		if json.Unmarshal(j.Result, &s) != nil {
			return nil
		}
		return Object{Key: "snapshot", Obj: snapshotOf(r, &s)}
	case cloud.KindSnapshotPolicy:
		var p cloud.SnapshotPolicy
		if json.Unmarshal(j.Result, &p) != nil {
			return nil
		}
		return Object{Key: "snapshotpolicy", Obj: snapshotPolicyOf(r, &p)}
	}
	return nil
}
