package gce

import (
	"sort"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// zoneInfo is a CloudStack zone with its GCE name.
type zoneInfo struct {
	cs   csclient.Zone
	name string
}

// zones lists CloudStack's zones under their GCE names, sorted; it is
// asked once per request.
func (c *call) zones() ([]zoneInfo, error) {
	if c.zoneCache != nil {
		return c.zoneCache, nil
	}
	zs, err := c.cs.ListZones(c.ctx)
	if err != nil {
		return nil, err
	}
	out := make([]zoneInfo, 0, len(zs))
	for _, z := range zs {
		out = append(out, zoneInfo{cs: z, name: zoneName(z.Name)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	c.zoneCache = out
	return out, nil
}

// zoneByName finds a zone by GCE name or answers notFound.
func (c *call) zoneByName(name string) (zoneInfo, error) {
	zs, err := c.zones()
	if err != nil {
		return zoneInfo{}, err
	}
	for _, z := range zs {
		if z.name == name {
			return z, nil
		}
	}
	return zoneInfo{}, errNotFound("projects/" + c.project + "/zones/" + name)
}

// regionZones returns a region's zones or answers notFound.
func (c *call) regionZones(region string) ([]zoneInfo, error) {
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	var out []zoneInfo
	for _, z := range zs {
		if regionOf(z.name) == region {
			out = append(out, z)
		}
	}
	if len(out) == 0 {
		return nil, errNotFound("projects/" + c.project + "/regions/" + region)
	}
	return out, nil
}

func (c *call) renderZone(z zoneInfo) *Zone {
	status := "UP"
	if z.cs.AllocationState != "" && z.cs.AllocationState != "Enabled" {
		status = "DOWN"
	}
	desc := z.cs.Description
	if desc == "" {
		desc = z.cs.Name
	}
	return &Zone{Kind: "compute#zone", ID: idOf("zone", z.cs.ID), Name: z.name, Description: desc, Status: status,
		Region: c.regionLink(regionOf(z.name)), SelfLink: c.zoneLink(z.name),
		AvailableCPUPlatforms: []string{"CloudStack " + z.cs.NetworkType}}
}

func (g *Gateway) listZones(c *call) (any, error) {
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	es := make([]entry, len(zs))
	for i, z := range zs {
		es[i] = entry{name: z.name, v: c.renderZone(z)}
	}
	return c.list("compute#zoneList", c.link("zones"), es)
}

func (g *Gateway) getZone(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	return c.renderZone(z), nil
}

// account returns the token's CloudStack account (limits and totals).
func (c *call) account() (*csclient.Account, error) {
	as, err := c.cs.ListAccounts(c.ctx, csclient.Params("id", c.tok.AccountID))
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].ID == c.tok.AccountID || (c.tok.AccountID == "" && as[i].Name == c.tok.Account) {
			return &as[i], nil
		}
	}
	if len(as) == 1 {
		return &as[0], nil
	}
	return &csclient.Account{}, nil
}

// unlimited is the quota limit shown for CloudStack's "Unlimited" (-1).
const unlimited = 1e6

func quota(metric string, limit, usage csclient.Int) Quota {
	l := float64(limit)
	if limit < 0 {
		l = unlimited
	}
	return Quota{Metric: metric, Limit: l, Usage: float64(max(usage, 0))}
}

func regionQuotas(a *csclient.Account) []Quota {
	return []Quota{
		quota("CPUS", a.CPULimit, a.CPUTotal),
		quota("DISKS_TOTAL_GB", a.PrimaryStorageLimit, a.PrimaryStorageTotal),
		quota("INSTANCES", a.VMLimit, a.VMTotal),
		quota("IN_USE_ADDRESSES", a.IPLimit, a.IPTotal),
		quota("STATIC_ADDRESSES", a.IPLimit, a.IPTotal),
		quota("SSD_TOTAL_GB", 0, 0),
	}
}

func (c *call) renderRegion(name string, zs []zoneInfo, a *csclient.Account) *Region {
	r := &Region{Kind: "compute#region", ID: idOf("region", name), Name: name, Description: name, Status: "UP",
		SelfLink: c.regionLink(name), Quotas: regionQuotas(a)}
	for _, z := range zs {
		r.Zones = append(r.Zones, c.zoneLink(z.name))
	}
	return r
}

func (g *Gateway) listRegions(c *call) (any, error) {
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	a, err := c.account()
	if err != nil {
		return nil, err
	}
	byRegion := map[string][]zoneInfo{}
	for _, z := range zs {
		byRegion[regionOf(z.name)] = append(byRegion[regionOf(z.name)], z)
	}
	es := make([]entry, 0, len(byRegion))
	for name, rz := range byRegion {
		es = append(es, entry{name: name, v: c.renderRegion(name, rz, a)})
	}
	return c.list("compute#regionList", c.link("regions"), es)
}

func (g *Gateway) getRegion(c *call) (any, error) {
	name := c.r.PathValue("region")
	rz, err := c.regionZones(name)
	if err != nil {
		return nil, err
	}
	a, err := c.account()
	if err != nil {
		return nil, err
	}
	return c.renderRegion(name, rz, a), nil
}
