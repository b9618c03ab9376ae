package gce

import (
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// diskName is a volume's GCE name: a root volume is named after its
// instance (GCE's boot disk naming), other volumes after themselves.
func diskName(v *csclient.Volume) string {
	if v.Type == "ROOT" && v.VMName != "" {
		return v.VMName
	}
	return gceName(v.Name)
}

func diskStatus(state string) string {
	switch state {
	case "Ready", "Allocated":
		return "READY"
	case "Creating", "Copying", "Uploaded", "UploadOp", "Migrating", "Snapshotting", "Resizing":
		return "CREATING"
	case "Destroy", "Expunging", "Expunged":
		return "DELETING"
	}
	return "READY"
}

func (c *call) renderDisk(z zoneInfo, v *csclient.Volume, images map[string]string) *Disk {
	d := &Disk{Kind: "compute#disk", ID: idOf("disk", v.ID), CreationTimestamp: csTime(v.Created), Name: diskName(v),
		SizeGb: int64(v.Size) >> 30, Zone: c.zoneLink(z.name), Status: diskStatus(v.State),
		Type: c.link("zones", z.name, "diskTypes", volumeDiskType(v)), PhysicalBlockSizeBytes: 4096,
		SelfLink: c.link("zones", z.name, "disks", diskName(v)), LabelFingerprint: fingerprint(nil)}
	if v.VirtualMachineID != "" && v.VMName != "" {
		d.Users = []string{c.link("zones", z.name, "instances", v.VMName)}
	}
	if v.TemplateID != "" {
		d.SourceImage = images[v.TemplateID]
	}
	return d
}

// diskEntries renders the volumes, of one zone or all.
func (c *call) diskEntries(only *zoneInfo) ([]entry, error) {
	q := csclient.Params()
	if only != nil {
		q.Set("zoneid", only.cs.ID)
	}
	vols, err := c.cs.ListVolumes(c.ctx, q)
	if err != nil {
		return nil, err
	}
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	byID := map[string]zoneInfo{}
	for _, z := range zs {
		byID[z.cs.ID] = z
	}
	images := map[string]string{}
	if cat, err := c.catalog(); err == nil {
		for _, im := range cat {
			images[im.t.ID] = c.linkIn(im.project, "global", "images", im.name)
		}
	}
	es := make([]entry, 0, len(vols))
	for i := range vols {
		v := &vols[i]
		z, ok := byID[v.ZoneID]
		if !ok || diskStatus(v.State) == "DELETING" {
			continue
		}
		d := c.renderDisk(z, v, images)
		es = append(es, entry{scope: "zones/" + z.name, name: d.Name, created: d.CreationTimestamp, v: d})
	}
	return es, nil
}

func (g *Gateway) listDisks(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	es, err := c.diskEntries(&z)
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#diskList", c.link("zones", z.name, "disks"), es)
}

func (g *Gateway) getDisk(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	name := c.r.PathValue("name")
	es, err := c.diskEntries(&z)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.name == name {
			return e.v, nil
		}
	}
	return nil, errNotFound("projects/" + c.project + "/zones/" + z.name + "/disks/" + name)
}

func (g *Gateway) aggregatedDisks(c *call) (any, error) {
	es, err := c.diskEntries(nil)
	if err != nil {
		return nil, err
	}
	zs, _ := c.zones()
	scopes := make([]string, len(zs))
	for i, z := range zs {
		scopes[i] = "zones/" + z.name
	}
	return c.aggregated("compute#diskAggregatedList", "disks", c.link("aggregated", "disks"), es, scopes)
}
