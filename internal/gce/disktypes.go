package gce

import (
	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Disk types: GCE's persistent disk types, the same in every zone. The
// simulator has one storage pool, so a type changes nothing but what the
// disk says it is: the type a disk was made with is kept in its volume's
// gce-disk-type tag (none: pd-standard).

// DiskType is compute#diskType.
type DiskType struct {
	Kind              string `json:"kind"`
	ID                uint64 `json:"id,string"`
	CreationTimestamp string `json:"creationTimestamp"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	ValidDiskSize     string `json:"validDiskSize"`
	Zone              string `json:"zone"`
	DefaultDiskSizeGb int64  `json:"defaultDiskSizeGb,string"`
	SelfLink          string `json:"selfLink"`
}

// diskTypes are the types offered, with GCE's descriptions and sizes.
var diskTypes = []struct{ name, desc, sizes string }{
	{"pd-balanced", "Balanced Persistent Disk", "10GB-65536GB"},
	{"pd-extreme", "Extreme Persistent Disk", "500GB-65536GB"},
	{"pd-ssd", "SSD Persistent Disk", "10GB-65536GB"},
	{"pd-standard", "Standard Persistent Disk", "10GB-65536GB"},
}

// tagDiskType keeps a disk's type on its volume.
const tagDiskType = "gce-disk-type"

func knownDiskType(name string) bool {
	for _, t := range diskTypes {
		if t.name == name {
			return true
		}
	}
	return false
}

// volumeDiskType is the type a volume's disk was made with.
func volumeDiskType(v *csclient.Volume) string {
	for _, t := range v.Tags {
		if t.Key == tagDiskType && knownDiskType(t.Value) {
			return t.Value
		}
	}
	return "pd-standard"
}

func (c *call) diskTypeEntries(z zoneInfo) []entry {
	es := make([]entry, 0, len(diskTypes))
	for _, t := range diskTypes {
		v := &DiskType{Kind: "compute#diskType", ID: idOf("diskType", z.name+"/"+t.name), CreationTimestamp: "1969-12-31T16:00:00.000-08:00",
			Name: t.name, Description: t.desc, ValidDiskSize: t.sizes, Zone: c.zoneLink(z.name), DefaultDiskSizeGb: defaultDiskSizeGb,
			SelfLink: c.link("zones", z.name, "diskTypes", t.name)}
		if t.name == "pd-extreme" {
			v.DefaultDiskSizeGb = 1000
		}
		es = append(es, entry{scope: "zones/" + z.name, name: t.name, created: v.CreationTimestamp, v: v})
	}
	return es
}

func (g *Gateway) listDiskTypes(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	es := c.diskTypeEntries(z)
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#diskTypeList", c.link("zones", z.name, "diskTypes"), es)
}

func (g *Gateway) getDiskType(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	name := c.r.PathValue("name")
	for _, e := range c.diskTypeEntries(z) {
		if e.name == name {
			return e.v, nil
		}
	}
	return nil, errNotFound("projects/" + c.project + "/zones/" + z.name + "/diskTypes/" + name)
}

func (g *Gateway) aggregatedDiskTypes(c *call) (any, error) {
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	var es []entry
	scopes := make([]string, 0, len(zs))
	for _, z := range zs {
		es = append(es, c.diskTypeEntries(z)...)
		scopes = append(scopes, "zones/"+z.name)
	}
	return c.aggregated("compute#diskTypeAggregatedList", "diskTypes", c.link("aggregated", "diskTypes"), es, scopes)
}

// diskTypeOf reads a disk insert's type (a name or a URL ending in
// diskTypes/NAME), "" for the default.
func diskTypeOf(ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	name := lastSegment(ref)
	if !knownDiskType(name) {
		return "", errInvalid("Invalid value for field 'resource.type': '%s'. Disk type '%s' is not valid: use one of pd-balanced, pd-extreme, pd-ssd, pd-standard.", ref, name)
	}
	return name, nil
}
