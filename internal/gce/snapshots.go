package gce

import (
	"net/http"
	"strconv"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Snapshots are CloudStack volume snapshots, global as GCE's are: a
// disk's createSnapshot (or snapshots.insert naming the source disk) takes
// one, and a disk inserted with sourceSnapshot is created from it.

// Snapshot is compute#snapshot.
type Snapshot struct {
	Kind               string `json:"kind"`
	ID                 uint64 `json:"id,string"`
	CreationTimestamp  string `json:"creationTimestamp,omitempty"`
	Name               string `json:"name"`
	Description        string `json:"description,omitempty"`
	Status             string `json:"status"`
	SourceDisk         string `json:"sourceDisk,omitempty"`
	SourceDiskID       string `json:"sourceDiskId,omitempty"`
	DiskSizeGb         int64  `json:"diskSizeGb,string"`
	StorageBytes       int64  `json:"storageBytes,string"`
	StorageBytesStatus string `json:"storageBytesStatus"`
	SnapshotType       string `json:"snapshotType"`
	LabelFingerprint   string `json:"labelFingerprint"`
	SelfLink           string `json:"selfLink"`
}

func (c *call) snapshotPath(name string) string {
	return "projects/" + c.project + "/global/snapshots/" + name
}

func snapshotStatus(state string) string {
	switch state {
	case "BackedUp":
		return "READY"
	case "Destroying", "Destroyed":
		return "DELETING"
	case "Error":
		return "FAILED"
	}
	return "CREATING"
}

// snapshotEntries renders the account's snapshots.
func (c *call) snapshotEntries() ([]entry, error) {
	snaps, err := c.cs.ListSnapshots(c.ctx, nil)
	if err != nil {
		return nil, err
	}
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	zoneName := map[string]string{}
	for _, z := range zs {
		zoneName[z.cs.ID] = z.name
	}
	es := make([]entry, 0, len(snaps))
	for i := range snaps {
		s := &snaps[i]
		name := gceName(s.Name)
		v := &Snapshot{Kind: "compute#snapshot", ID: idOf("snapshot", s.ID), CreationTimestamp: csTime(s.Created), Name: name,
			Status: snapshotStatus(s.State), DiskSizeGb: int64(s.VirtualSize) >> 30, StorageBytes: int64(s.PhysicalSize),
			StorageBytesStatus: "UP_TO_DATE", SnapshotType: "STANDARD", LabelFingerprint: fingerprint(nil),
			SelfLink: c.link("global", "snapshots", name), SourceDiskID: strconv.FormatUint(idOf("disk", s.VolumeID), 10)}
		if z, ok := zoneName[s.ZoneID]; ok {
			v.SourceDisk = c.link("zones", z, "disks", gceName(s.VolumeName))
		}
		es = append(es, entry{scope: "global", name: name, created: v.CreationTimestamp, v: v})
	}
	return es, nil
}

// findSnapshot finds a snapshot by its GCE name.
func (c *call) findSnapshot(name string) (*csclient.Snapshot, error) {
	snaps, err := c.cs.ListSnapshots(c.ctx, nil)
	if err != nil {
		return nil, err
	}
	for i := range snaps {
		if gceName(snaps[i].Name) == name {
			return &snaps[i], nil
		}
	}
	return nil, errNotFound(c.snapshotPath(name))
}

func (g *Gateway) listSnapshots(c *call) (any, error) {
	es, err := c.snapshotEntries()
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#snapshotList", c.link("global", "snapshots"), es)
}

func (g *Gateway) getSnapshot(c *call) (any, error) {
	name := c.r.PathValue("name")
	es, err := c.snapshotEntries()
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.name == name {
			return e.v, nil
		}
	}
	return nil, errNotFound(c.snapshotPath(name))
}

func (g *Gateway) deleteSnapshot(c *call) (any, error) {
	name := c.r.PathValue("name")
	s, err := c.findSnapshot(name)
	if err != nil {
		return nil, err
	}
	res, err := c.cs.Async(c.ctx, "deleteSnapshot", csclient.Params("id", s.ID))
	if err != nil {
		return nil, err
	}
	return c.startOp(opScope{}, "delete", "global/snapshots/"+name, idOf("snapshot", s.ID), []string{res.JobID}, nil)
}

// snapshotInsert is the part of compute#snapshot an insert reads.
type snapshotInsert struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	SourceDisk  string `json:"sourceDisk"`
}

// createDiskSnapshot is disks.createSnapshot (gcloud compute disks snapshot).
func (g *Gateway) createDiskSnapshot(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	var in snapshotInsert
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	return c.snapshotDisk(z, c.r.PathValue("name"), in, opScope{zone: z.name})
}

// insertSnapshot is snapshots.insert (gcloud compute snapshots create).
func (g *Gateway) insertSnapshot(c *call) (any, error) {
	var in snapshotInsert
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	// sourceDisk: …/zones/Z/disks/D
	zone, disk := afterSegment(in.SourceDisk, "zones"), afterSegment(in.SourceDisk, "disks")
	if zone == "" || disk == "" {
		return nil, errInvalid("Invalid value for field 'resource.sourceDisk': '%s'. The URL is malformed.", in.SourceDisk)
	}
	z, err := c.zoneByName(zone)
	if err != nil {
		return nil, err
	}
	return c.snapshotDisk(z, disk, in, opScope{})
}

func (c *call) snapshotDisk(z zoneInfo, disk string, in snapshotInsert, scope opScope) (any, error) {
	if in.Name == "" || !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	v, err := c.findDisk(z, disk)
	if err != nil {
		return nil, err
	}
	if _, err := c.findSnapshot(in.Name); err == nil {
		return nil, errAlreadyExists(c.snapshotPath(in.Name))
	} else if toAPIError(err).Code != http.StatusNotFound {
		return nil, err
	}
	res, err := c.cs.Async(c.ctx, "createSnapshot", csclient.Params("volumeid", v.ID, "name", in.Name))
	if err != nil {
		return nil, err
	}
	target := "global/snapshots/" + in.Name
	if scope.zone != "" {
		target = "zones/" + z.name + "/disks/" + disk
	}
	return c.startOp(scope, "createSnapshot", target, idOf("disk", v.ID), []string{res.JobID}, nil)
}
