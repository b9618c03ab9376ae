package gce

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// insertInstance deploys a CloudStack VM: the zone, the offering for the
// machine type, the template for the boot disk's image, user-data as
// CloudStack user data, the project's SSH key pairs, the security groups
// of the firewalls that target the instance's tags, and the account's
// guest network in the zone (made on first use in an advanced zone).
func (g *Gateway) insertInstance(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	var in Instance
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if ref := c.r.URL.Query().Get("sourceInstanceTemplate"); ref != "" {
		_, tmpl, err := c.findTemplate(ref)
		if err != nil {
			return nil, err
		}
		in = overlayInstance(c.instanceFromTemplate(&tmpl.Properties, z.name, in.Name), &in)
	}
	p, err := c.planInstance(z, &in)
	if err != nil {
		return nil, err
	}
	if _, err := c.findVM(z, in.Name, false); err == nil {
		return nil, errAlreadyExists(c.instancePath(z.name, in.Name))
	} else if ae := new(apiError); !errors.As(err, &ae) || ae.Code != 404 {
		return nil, err
	}
	q, err := c.deployParams(p)
	if err != nil {
		return nil, err
	}
	return c.deployInstance(p, q)
}

// instancePlan is a checked instances.insert: what the request resolved to
// in CloudStack's terms.
type instancePlan struct {
	in        *Instance
	z         zoneInfo
	off       csclient.ServiceOffering
	askedType string // the machine type as the request named it
	im        imageInfo
	items     []MetadataItem
	tags      []string
	external  bool  // an access config asks for an external address
	sizeGb    int64 // the boot disk's size as asked (0: the image's)
	// network is the GCE network the instance joins; networkID its
	// CloudStack network in the zone ("" for default: guestNetwork's).
	network, networkID string
}

// planInstance checks the request as GCE does, in its order, and resolves
// the machine type and boot image; it changes nothing.
func (c *call) planInstance(z zoneInfo, in *Instance) (*instancePlan, error) {
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	p := &instancePlan{in: in, z: z}
	var err error
	if p.off, p.askedType, err = c.resolveMachineType(z, in.MachineType); err != nil {
		return nil, err
	}
	boot, err := bootDisk(in.Disks)
	if err != nil {
		return nil, err
	}
	if p.im, err = c.resolveImage(boot.InitializeParams.SourceImage); err != nil {
		return nil, err
	}
	if p.sizeGb = boot.InitializeParams.DiskSizeGb; p.sizeGb == 0 {
		p.sizeGb = boot.DiskSizeGb
	}
	if len(in.NetworkInterfaces) > 1 {
		return nil, errUnsupported("More than one network interface")
	}
	p.network = defaultNetwork
	for i, ni := range in.NetworkInterfaces {
		if p.network, p.networkID, err = c.instanceNetwork(z, ni, "resource.networkInterfaces["+strconv.Itoa(i)+"]"); err != nil {
			return nil, err
		}
		p.external = p.external || len(ni.AccessConfigs) > 0
	}
	if in.Metadata != nil {
		p.items = in.Metadata.Items
	}
	if err := checkMetadata(p.items, "resource.metadata"); err != nil {
		return nil, err
	}
	if err := checkLabels(in.Labels, "resource.labels"); err != nil {
		return nil, err
	}
	if in.Tags != nil {
		p.tags = in.Tags.Items
	}
	if err := checkTags(p.tags, "resource.tags"); err != nil {
		return nil, err
	}
	if in.Scheduling != nil {
		if err := checkScheduling(in.Scheduling, "resource.scheduling"); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// bootDisk is the one boot disk of an insert, made from an image.
func bootDisk(disks []AttachedDisk) (*AttachedDisk, error) {
	var boot *AttachedDisk
	for i := range disks {
		d := &disks[i]
		if !d.Boot && (i != 0 || len(disks) != 1) {
			return nil, errUnsupported("Attaching additional disks")
		}
		if boot != nil {
			return nil, errInvalid("Invalid value for field 'resource.disks': more than one boot disk.")
		}
		boot = d
	}
	if boot == nil || boot.InitializeParams == nil || boot.InitializeParams.SourceImage == "" {
		if boot != nil && boot.Source != "" {
			return nil, errUnsupported("Booting from an existing disk")
		}
		return nil, errInvalid("Invalid value for field 'resource.disks': ''. A boot disk with 'initializeParams.sourceImage' is required.")
	}
	return boot, nil
}

// deployParams are deployVirtualMachine's parameters for a plan: user
// data, root disk size, the project's key pairs, the security groups of
// the instance's tags, and the guest network of an advanced zone.
func (c *call) deployParams(p *instancePlan) (url.Values, error) {
	z := p.z
	q := csclient.Params("zoneid", z.cs.ID, "serviceofferingid", p.off.ID, "templateid", p.im.t.ID,
		"name", p.in.Name, "displayname", p.in.Name, "startvm", "true")
	if ud, ok := itemValue(p.items, userDataKey); ok && ud != "" {
		q.Set("userdata", base64.StdEncoding.EncodeToString([]byte(ud)))
	}
	if p.sizeGb > 0 && p.sizeGb*gib > int64(p.im.t.Size) {
		q.Set("rootdisksize", strconv.FormatInt(p.sizeGb, 10))
	}
	pm, err := c.projectMeta()
	if err != nil {
		return nil, err
	}
	switch len(pm.KeyPairs) {
	case 0:
	case 1:
		q.Set("keypair", pm.KeyPairs[0])
	default:
		q.Set("keypairs", strings.Join(pm.KeyPairs, ","))
	}
	if z.cs.SecurityGroupsEnabled {
		sgs, err := c.groupsFor(p.tags)
		if err != nil {
			return nil, err
		}
		if len(sgs) > 0 {
			q.Set("securitygroupids", strings.Join(sgs, ","))
		}
	}
	if p.networkID != "" {
		q.Set("networkids", p.networkID)
	} else if z.cs.NetworkType != "Basic" {
		nid, err := c.guestNetwork(z)
		if err != nil {
			return nil, err
		}
		if nid != "" {
			q.Set("networkids", nid)
		}
	}
	return q, nil
}

const gib = 1 << 30

// deployInstance deploys the VM, records the instance's GCE-only fields,
// tags the VM with its GCE name and starts the insert operation.
func (c *call) deployInstance(p *instancePlan, q url.Values) (*Operation, error) {
	z, in := p.z, p.in
	size := p.sizeGb
	if size == 0 {
		size = max((int64(p.im.t.Size)+gib-1)/gib, 1)
	}
	meta := &instanceMeta{Description: in.Description, Items: p.items, Labels: in.Labels, Tags: p.tags,
		CanIPForward: in.CanIPForward, DeletionProtect: in.DeletionProtection, ExternalIP: p.external,
		ServiceAccounts: in.ServiceAccounts, Scheduling: in.Scheduling,
		SourceImage: c.linkIn(p.im.project, "global", "images", p.im.name), DiskSizeGb: size,
		Created: c.g.now(), LastStart: c.g.now(), MachineType: p.askedType}
	target := "zones/" + z.name + "/instances/" + in.Name
	res, err := c.cs.Async(c.ctx, "deployVirtualMachine", q)
	if err != nil {
		switch csclient.Code(err) {
		case 533, 534, 535, 532:
			// Out of room or over the limit: GCE reports that on the
			// operation, not on the call.
			return c.startOp(opScope{zone: z.name}, "insert", target, 0, nil, err)
		}
		return nil, err
	}
	meta.VMID = res.ID
	if _, err := c.g.instanceMetas(c.project, z.name).Put(c.ctx, in.Name, meta); err != nil {
		return nil, err
	}
	jobs := []string{res.JobID}
	// the VM carries its GCE name in CloudStack, for the CloudStack
	// clients that name it as GCE does (a joined node's gce:// provider id)
	tag, err := c.cs.Async(c.ctx, "createTags", csclient.Params("resourcetype", "UserVm", "resourceids", res.ID,
		"tags[0].key", csclient.GCEInstanceTag, "tags[0].value", c.project+"/"+z.name+"/"+in.Name))
	if err != nil {
		c.g.log.Warn("cannot tag the instance's VM with its GCE name", "vm", res.ID, "err", err)
	} else {
		jobs = append(jobs, tag.JobID)
	}
	return c.startOp(opScope{zone: z.name}, "insert", target, idOf("instance", res.ID), jobs, nil, func(r *opRecord) {
		r.CleanupVM = res.ID
		if p.external && z.cs.NetworkType != "Basic" {
			r.NAT = &natStep{VMID: res.ID, ZoneID: z.cs.ID}
		}
	})
}

// groupsFor returns the security groups an instance with these tags
// joins: every group except those whose firewall targets other tags.
func (c *call) groupsFor(tags []string) ([]string, error) {
	sgs, err := c.cs.ListSecurityGroups(c.ctx, nil)
	if err != nil {
		return nil, err
	}
	metas, _, err := c.g.firewallMetas(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	targets := map[string][]string{}
	for _, m := range metas {
		targets[m.Name] = m.Val.TargetTags
	}
	has := map[string]bool{}
	for _, t := range tags {
		has[t] = true
	}
	var ids []string
	for _, sg := range sgs {
		tt := targets[sg.Name]
		match := len(tt) == 0
		for _, t := range tt {
			match = match || has[t]
		}
		if match {
			ids = append(ids, sg.ID)
		}
	}
	return ids, nil
}

// guestNetwork returns the account's network for VMs in an advanced zone:
// one named "default" if there is one, else any usable one, else a new
// isolated network named "default" on an offering with source NAT.
func (c *call) guestNetwork(z zoneInfo) (string, error) {
	c.g.netMu.Lock()
	defer c.g.netMu.Unlock()
	nets, err := c.cs.ListNetworks(c.ctx, csclient.Params("zoneid", z.cs.ID))
	if err != nil {
		return "", err
	}
	var pick string
	for _, n := range nets {
		if n.Name == defaultNetwork {
			return n.ID, nil
		}
		if pick == "" && (n.Type == "Isolated" || n.Type == "Shared") && n.State != "Destroy" {
			pick = n.ID
		}
	}
	if pick != "" {
		return pick, nil
	}
	best, err := c.isolatedOffering(z)
	if err != nil {
		return "", err
	}
	if best == "" {
		// No offering to make one with: let CloudStack choose.
		return "", nil
	}
	n, err := c.cs.CreateNetwork(c.ctx, csclient.Params("name", defaultNetwork, "displaytext", "default network of GCE project "+c.project,
		"networkofferingid", best, "zoneid", z.cs.ID))
	if err != nil {
		return "", err
	}
	return n.ID, nil
}

// isolatedOffering is the network offering the gateway makes networks
// with in an advanced zone: an enabled isolated one with source NAT, the
// default one if several ("" when there is none). VPC tiers' offerings
// (forvpc) make no network outside a VPC, so they are not asked for.
func (c *call) isolatedOffering(z zoneInfo) (string, error) {
	offs, err := c.cs.ListNetworkOfferings(c.ctx, url.Values{"guestiptype": {"Isolated"}, "state": {"Enabled"}, "zoneid": {z.cs.ID}, "forvpc": {"false"}})
	if err != nil {
		return "", err
	}
	best := ""
	for _, o := range offs {
		snat := false
		for _, s := range o.Service {
			snat = snat || s.Name == "SourceNat"
		}
		if snat && (best == "" || bool(o.IsDefault)) {
			best = o.ID
		}
	}
	return best, nil
}

// instanceNetwork resolves a network interface's network (or, given only
// a subnetwork, the auto-mode network it belongs to) to the GCE network's
// name and, for a network other than default, its CloudStack network in
// the zone.
func (c *call) instanceNetwork(z zoneInfo, ni NetworkInterface, field string) (name, id string, err error) {
	name = lastSegment(ni.Network)
	if ni.Subnetwork != "" {
		sub := lastSegment(ni.Subnetwork)
		if r := afterSegment(relPath(ni.Subnetwork), "regions"); (r != "" && r != regionOf(z.name)) || (name != "" && name != sub) {
			return "", "", errInvalid("Invalid value for field '%s.subnetwork': '%s'. The referenced subnetwork resource cannot be found.", field, ni.Subnetwork)
		}
		name = sub
	}
	if name == "" || name == defaultNetwork {
		return defaultNetwork, "", nil
	}
	named, err := c.namedNetworks()
	if err != nil {
		return "", "", err
	}
	nets, ok := named[name]
	if !ok {
		if ni.Network == "" {
			return "", "", errInvalid("Invalid value for field '%s.subnetwork': '%s'. The referenced subnetwork resource cannot be found.", field, ni.Subnetwork)
		}
		return "", "", errInvalid("Invalid value for field '%s.network': '%s'. The referenced network resource cannot be found.", field, ni.Network)
	}
	for _, n := range nets {
		if n.ZoneID == z.cs.ID {
			return name, n.ID, nil
		}
	}
	return "", "", errInvalid("Invalid value for field '%s.network': '%s'. The network has no subnetwork in region '%s'.", field, ni.Network, regionOf(z.name))
}

// overlayInstance is an instance made from a template (base) with the
// fields the insert request sets laid over it, as GCE's
// sourceInstanceTemplate does.
func overlayInstance(base, in *Instance) Instance {
	out := *base
	out.Name = in.Name
	out.DeletionProtection = in.DeletionProtection
	out.CanIPForward = out.CanIPForward || in.CanIPForward
	if in.Description != "" {
		out.Description = in.Description
	}
	if in.MachineType != "" {
		out.MachineType = in.MachineType
	}
	if len(in.Disks) > 0 {
		out.Disks = in.Disks
	}
	if len(in.NetworkInterfaces) > 0 {
		out.NetworkInterfaces = in.NetworkInterfaces
	}
	if in.Metadata != nil {
		out.Metadata = in.Metadata
	}
	if in.Labels != nil {
		out.Labels = in.Labels
	}
	if in.Tags != nil {
		out.Tags = in.Tags
	}
	if in.Scheduling != nil {
		out.Scheduling = in.Scheduling
	}
	if in.ServiceAccounts != nil {
		out.ServiceAccounts = in.ServiceAccounts
	}
	return out
}
