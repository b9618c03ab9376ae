package gce

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// offerings lists the service offerings that can be machine types (not
// system offerings, not customized ones with no fixed size), sorted by
// size.
func (c *call) offerings() ([]csclient.ServiceOffering, error) {
	all, err := c.cs.ListServiceOfferings(c.ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, o := range all {
		if bool(o.IsSystem) || o.CPUNumber <= 0 || o.Memory <= 0 {
			continue
		}
		out = append(out, o)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].CPUNumber != out[j].CPUNumber {
			return out[i].CPUNumber < out[j].CPUNumber
		}
		return out[i].Memory < out[j].Memory
	})
	return out, nil
}

// inZone reports whether an offering may be used in a zone (an empty
// zone list means every zone).
func inZone(zoneIDs, zoneID string) bool {
	if zoneIDs == "" {
		return true
	}
	for _, z := range strings.Split(zoneIDs, ",") {
		if strings.TrimSpace(z) == zoneID {
			return true
		}
	}
	return false
}

func (c *call) renderMachineType(o csclient.ServiceOffering, zone string) *MachineType {
	name := gceName(o.Name)
	desc := o.DisplayText
	if desc == "" {
		desc = o.Name
	}
	return &MachineType{Kind: "compute#machineType", ID: idOf("machineType", o.ID), CreationTimestamp: csTime(o.Created),
		Name: name, Description: desc, GuestCPUs: int64(o.CPUNumber), MemoryMb: int64(o.Memory),
		ImageSpaceGb: 10, MaximumPersistentDisks: 128, MaximumPersistentDisksSizeGb: 263168,
		Zone: zone, SelfLink: c.link("zones", zone, "machineTypes", name), Deprecated: &Deprecated{State: "ACTIVE"}}
}

// listedPredefined are the GCE predefined machine types a zone lists beside
// its offerings (any other predefined or custom name can still be asked
// for and described): the shared-core ones and the common standard sizes.
var listedPredefined = []string{"f1-micro", "g1-small", "e2-micro", "e2-small", "e2-medium",
	"e2-standard-2", "e2-standard-4", "e2-standard-8", "n1-standard-1", "n1-standard-2", "n1-standard-4",
	"n1-standard-8", "n2-standard-2", "n2-standard-4", "n2-standard-8"}

func (c *call) machineTypeEntries(z zoneInfo, os []csclient.ServiceOffering) []entry {
	var es []entry
	seen := map[string]bool{}
	var usable []csclient.ServiceOffering
	for _, o := range os {
		if !inZone(o.ZoneID, z.cs.ID) || seen[gceName(o.Name)] {
			continue
		}
		seen[gceName(o.Name)] = true
		usable = append(usable, o)
		es = append(es, entry{scope: "zones/" + z.name, name: gceName(o.Name), created: csTime(o.Created), v: c.renderMachineType(o, z.name)})
	}
	for _, name := range listedPredefined {
		if seen[name] {
			continue
		}
		if off, ok := mapOffering(name, usable); ok {
			mt := c.renderPredefined(name, off, z.name)
			es = append(es, entry{scope: "zones/" + z.name, name: name, created: mt.CreationTimestamp, v: mt})
		}
	}
	return es
}

func (g *Gateway) listMachineTypes(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	os, err := c.offerings()
	if err != nil {
		return nil, err
	}
	es := c.machineTypeEntries(z, os)
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#machineTypeList", c.link("zones", z.name, "machineTypes"), es)
}

func (g *Gateway) getMachineType(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	name := c.r.PathValue("name")
	os, err := c.offerings()
	if err != nil {
		return nil, err
	}
	var usable []csclient.ServiceOffering
	for _, o := range os {
		if !inZone(o.ZoneID, z.cs.ID) {
			continue
		}
		if gceName(o.Name) == name {
			return c.renderMachineType(o, z.name), nil
		}
		usable = append(usable, o)
	}
	// A GCE predefined type (gcloud's default n1-standard-1) is as real
	// here as the offerings: instances can be made with it and keep it.
	if off, ok := mapOffering(name, usable); ok {
		return c.renderPredefined(name, off, z.name), nil
	}
	return nil, errNotFound("projects/" + c.project + "/zones/" + z.name + "/machineTypes/" + name)
}

func (g *Gateway) aggregatedMachineTypes(c *call) (any, error) {
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	os, err := c.offerings()
	if err != nil {
		return nil, err
	}
	var es []entry
	scopes := make([]string, 0, len(zs))
	for _, z := range zs {
		es = append(es, c.machineTypeEntries(z, os)...)
		scopes = append(scopes, "zones/"+z.name)
	}
	return c.aggregated("compute#machineTypeAggregatedList", "machineTypes", c.link("aggregated", "machineTypes"), es, scopes)
}

// predefinedRE reads GCE's predefined and custom machine type names.
var predefinedRE = regexp.MustCompile(`^(?:([a-z][a-z0-9]*)-)?(standard|highmem|highcpu|custom)-(\d+)(?:-(\d+))?$`)

// predefinedSize returns the vCPUs and memory (MiB) of a GCE machine type
// name, for names that are not offerings (gcloud's default n1-standard-1).
func predefinedSize(name string) (cpus, memMB int64, ok bool) {
	switch name {
	case "f1-micro":
		return 1, 614, true
	case "g1-small":
		return 1, 1740, true
	case "e2-micro":
		return 2, 1024, true
	case "e2-small":
		return 2, 2048, true
	case "e2-medium":
		return 2, 4096, true
	}
	m := predefinedRE.FindStringSubmatch(name)
	if m == nil {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(m[3], 10, 64)
	if err != nil || n <= 0 || n > 1024 {
		return 0, 0, false
	}
	family := m[1]
	switch m[2] {
	case "custom":
		mem, err := strconv.ParseInt(m[4], 10, 64)
		if err != nil || mem <= 0 {
			return 0, 0, false
		}
		return n, mem, true
	case "standard":
		if family == "n1" {
			return n, n * 3840, true
		}
		return n, n * 4096, true
	case "highmem":
		if family == "n1" {
			return n, n * 6656, true
		}
		return n, n * 8192, true
	case "highcpu":
		if family == "n1" {
			return n, n * 922, true
		}
		return n, n * 1024, true
	}
	return 0, 0, false
}

// resolveMachineType finds the offering for an instance's machineType
// (a URL or partial path): an offering of that name in the zone, else,
// for a GCE predefined type, the offering it maps to (mapOffering). asked
// is the predefined type's name in that case (the instance keeps it as
// its machine type), "" when the offering is named directly.
func (c *call) resolveMachineType(z zoneInfo, ref string) (off csclient.ServiceOffering, asked string, err error) {
	name := lastSegment(ref)
	if ref == "" || (strings.Contains(ref, "/") && !strings.Contains(ref, "machineTypes/")) {
		return off, "", errInvalid("Invalid value for field 'resource.machineType': '%s'. Invalid machine type.", ref)
	}
	if zz := afterSegment(relPath(ref), "zones"); zz != "" && zz != z.name {
		return off, "", errInvalid("Invalid value for field 'resource.machineType': '%s'. Machine type must be in the instance's zone.", ref)
	}
	os, err := c.offerings()
	if err != nil {
		return off, "", err
	}
	var usable []csclient.ServiceOffering
	for _, o := range os {
		if !inZone(o.ZoneID, z.cs.ID) {
			continue
		}
		if gceName(o.Name) == name {
			return o, "", nil
		}
		usable = append(usable, o)
	}
	off, ok := mapOffering(name, usable)
	if !ok {
		return off, "", errInvalid("Invalid value for field 'resource.machineType': '%s'. Machine type with name '%s' does not exist in zone '%s'.", ref, name, z.name)
	}
	return off, name, nil
}

// mapOffering maps a GCE predefined machine type to the smallest usable
// offering at least that big (or the biggest there is).
func mapOffering(name string, usable []csclient.ServiceOffering) (csclient.ServiceOffering, bool) {
	cpus, mem, ok := predefinedSize(name)
	if !ok || len(usable) == 0 {
		return csclient.ServiceOffering{}, false
	}
	for _, o := range usable {
		if int64(o.CPUNumber) >= cpus && int64(o.Memory) >= mem {
			return o, true
		}
	}
	return usable[len(usable)-1], true
}

// renderPredefined renders a GCE predefined machine type with GCE's own
// size; its description names the offering its instances run on.
func (c *call) renderPredefined(name string, off csclient.ServiceOffering, zone string) *MachineType {
	cpus, mem, _ := predefinedSize(name)
	return &MachineType{Kind: "compute#machineType", ID: idOf("machineType", "predefined/"+name), CreationTimestamp: csTime(off.Created),
		Name: name, Description: fmt.Sprintf("%d vCPU%s, %s RAM; runs on the CloudStack offering %s", cpus, plural(cpus), memGB(mem), off.Name),
		GuestCPUs: cpus, MemoryMb: mem, IsSharedCPU: sharedCore[name],
		ImageSpaceGb: 10, MaximumPersistentDisks: 128, MaximumPersistentDisksSizeGb: 263168,
		Zone: zone, SelfLink: c.link("zones", zone, "machineTypes", name), Deprecated: &Deprecated{State: "ACTIVE"}}
}

// sharedCore are GCE's shared-core machine types.
var sharedCore = map[string]bool{"f1-micro": true, "g1-small": true, "e2-micro": true, "e2-small": true, "e2-medium": true}

func plural(n int64) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// memGB writes MiB as GCE's descriptions do ("3.75 GB").
func memGB(mb int64) string {
	return strconv.FormatFloat(float64(mb)/1024, 'f', -1, 64) + " GB"
}
