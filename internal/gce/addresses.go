package gce

import (
	"net/http"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Addresses are CloudStack public IP addresses of the account's network in
// a zone of the region, named by a tag (addressTag) since CloudStack's
// addresses have no names: only tagged ones are the project's reserved
// addresses (source NAT and ephemeral addresses are not listed, as GCE
// lists no ephemeral ones).

// addressTag is the CloudStack tag that holds an address's GCE name.
const addressTag = "gce-address"

// Address is compute#address.
type Address struct {
	Kind              string   `json:"kind"`
	ID                uint64   `json:"id,string"`
	CreationTimestamp string   `json:"creationTimestamp,omitempty"`
	Name              string   `json:"name"`
	Description       string   `json:"description,omitempty"`
	Address           string   `json:"address"`
	Status            string   `json:"status"`
	Region            string   `json:"region"`
	Users             []string `json:"users,omitempty"`
	NetworkTier       string   `json:"networkTier"`
	AddressType       string   `json:"addressType"`
	IPVersion         string   `json:"ipVersion,omitempty"`
	LabelFingerprint  string   `json:"labelFingerprint"`
	SelfLink          string   `json:"selfLink"`
}

func (c *call) addressPath(region, name string) string {
	return "projects/" + c.project + "/regions/" + region + "/addresses/" + name
}

// addressName is a public address's GCE name ("" when it has none).
func addressName(ip *csclient.PublicIP) string {
	for _, t := range ip.Tags {
		if t.Key == addressTag {
			return t.Value
		}
	}
	return ""
}

// addressEntries renders the named addresses, of one region or all.
func (c *call) addressEntries(region string) ([]entry, map[string]*csclient.PublicIP, error) {
	ips, err := c.cs.ListPublicIPs(c.ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	zs, err := c.zones()
	if err != nil {
		return nil, nil, err
	}
	zoneOf := map[string]string{}
	for _, z := range zs {
		zoneOf[z.cs.ID] = z.name
	}
	var es []entry
	byName := map[string]*csclient.PublicIP{}
	for i := range ips {
		ip := &ips[i]
		name, z := addressName(ip), zoneOf[ip.ZoneID]
		if name == "" || z == "" || (region != "" && regionOf(z) != region) {
			continue
		}
		r := regionOf(z)
		a := &Address{Kind: "compute#address", ID: idOf("address", ip.ID), CreationTimestamp: csTime(ip.Allocated), Name: name,
			Address: ip.IPAddress, Status: "RESERVED", Region: c.regionLink(r), NetworkTier: "PREMIUM", AddressType: "EXTERNAL",
			IPVersion: "IPV4", LabelFingerprint: fingerprint(nil), SelfLink: c.link("regions", r, "addresses", name)}
		if ip.VirtualMachineName != "" {
			a.Status, a.Users = "IN_USE", []string{c.link("zones", z, "instances", ip.VirtualMachineName)}
		}
		byName[r+"/"+name] = ip
		es = append(es, entry{scope: "regions/" + r, name: name, created: a.CreationTimestamp, v: a})
	}
	return es, byName, nil
}

// regionZone is the zone of a region whose addresses can be reserved (an
// Advanced zone: Basic zones have no public addresses).
func (c *call) regionZone(region string) (zoneInfo, error) {
	zs, err := c.zones()
	if err != nil {
		return zoneInfo{}, err
	}
	found := false
	for _, z := range zs {
		if regionOf(z.name) != region {
			continue
		}
		found = true
		if z.cs.NetworkType != "Basic" {
			return z, nil
		}
	}
	if !found {
		return zoneInfo{}, errNotFound("projects/" + c.project + "/regions/" + region)
	}
	return zoneInfo{}, errUnsupported("Reserving an external address in a region of CloudStack Basic zones")
}

func (g *Gateway) listAddresses(c *call) (any, error) {
	region := c.r.PathValue("region")
	if _, err := c.regionZone(region); err != nil && toAPIError(err).Code == http.StatusNotFound {
		return nil, err
	}
	es, _, err := c.addressEntries(region)
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#addressList", c.link("regions", region, "addresses"), es)
}

func (g *Gateway) getAddress(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	es, _, err := c.addressEntries(region)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.name == name {
			return e.v, nil
		}
	}
	return nil, errNotFound(c.addressPath(region, name))
}

func (g *Gateway) aggregatedAddresses(c *call) (any, error) {
	es, _, err := c.addressEntries("")
	if err != nil {
		return nil, err
	}
	zs, _ := c.zones()
	seen := map[string]bool{}
	var scopes []string
	for _, z := range zs {
		if r := "regions/" + regionOf(z.name); !seen[r] {
			seen[r] = true
			scopes = append(scopes, r)
		}
	}
	return c.aggregated("compute#addressAggregatedList", "addresses", c.link("aggregated", "addresses"), es, scopes)
}

// addressInsert is the part of compute#address an insert reads.
type addressInsert struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Address     string `json:"address"`
	AddressType string `json:"addressType"`
}

func (g *Gateway) insertAddress(c *call) (any, error) {
	region := c.r.PathValue("region")
	var in addressInsert
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	if in.AddressType == "INTERNAL" {
		return nil, errUnsupported("Reserving an internal address")
	}
	z, err := c.regionZone(region)
	if err != nil {
		return nil, err
	}
	_, byName, err := c.addressEntries(region)
	if err != nil {
		return nil, err
	}
	if _, ok := byName[region+"/"+in.Name]; ok {
		return nil, errAlreadyExists(c.addressPath(region, in.Name))
	}
	nid, err := c.guestNetwork(z)
	if err != nil {
		return nil, err
	}
	res, err := c.cs.Async(c.ctx, "associateIpAddress", csclient.Params("zoneid", z.cs.ID, "networkid", nid, "ipaddress", in.Address))
	if err != nil {
		return nil, err
	}
	tag, err := c.cs.Async(c.ctx, "createTags", csclient.Params("resourcetype", "PublicIpAddress", "resourceids", res.ID,
		"tags[0].key", addressTag, "tags[0].value", in.Name))
	if err != nil {
		return nil, err
	}
	return c.startOp(opScope{region: region}, "insert", "regions/"+region+"/addresses/"+in.Name, idOf("address", res.ID), []string{res.JobID, tag.JobID}, nil)
}

func (g *Gateway) deleteAddress(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	_, byName, err := c.addressEntries(region)
	if err != nil {
		return nil, err
	}
	ip, ok := byName[region+"/"+name]
	if !ok {
		return nil, errNotFound(c.addressPath(region, name))
	}
	if ip.VirtualMachineName != "" {
		return nil, &apiError{Code: http.StatusBadRequest, Reason: "resourceInUseByAnotherResource",
			Message: "The address resource '" + c.addressPath(region, name) + "' is already being used by '" + c.instancePath(zoneOfID(c, ip.ZoneID), ip.VirtualMachineName) + "'"}
	}
	res, err := c.cs.Async(c.ctx, "disassociateIpAddress", csclient.Params("id", ip.ID))
	if err != nil {
		return nil, err
	}
	return c.startOp(opScope{region: region}, "delete", "regions/"+region+"/addresses/"+name, idOf("address", ip.ID), []string{res.JobID}, nil)
}

// zoneOfID is the GCE name of a CloudStack zone id.
func zoneOfID(c *call, id string) string {
	zs, _ := c.zones()
	for _, z := range zs {
		if z.cs.ID == id {
			return z.name
		}
	}
	return ""
}
