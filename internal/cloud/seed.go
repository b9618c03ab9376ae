package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/store"
)

// seed writes the data center description into an empty store, in one
// transaction.
func (s *Sim) seed(ctx context.Context) error {
	ix := s.ix
	dc := s.dc
	now := s.clock.Now().UTC()
	b := &batch{}

	root := &Domain{ID: newID(), Seq: ix.nextSeq(), Name: "ROOT", Path: "ROOT", Created: now}
	put(b, ix.domains, root)
	admin := &Account{ID: newID(), Seq: ix.nextSeq(), Name: "admin", Type: AccountRootAdmin, DomainID: root.ID, State: "enabled", Created: now}
	put(b, ix.accounts, admin)
	hash, err := hashPassword(dc.Admin.Password)
	if err != nil {
		return err
	}
	user := &User{ID: newID(), Seq: ix.nextSeq(), Username: dc.Admin.Username, AccountID: admin.ID, DomainID: root.ID,
		FirstName: "admin", LastName: "cloud", Email: "admin@stratus.local", PasswordHash: hash,
		APIKey: newSecret(64), SecretKey: newSecret(64), State: "enabled", Created: now}
	put(b, ix.users, user)
	owner := Owner{AccountID: admin.ID, DomainID: root.ID}
	put(b, ix.securityGroups, defaultSecurityGroup(ix, owner, now))

	offerings := map[string]*NetworkOffering{}
	for _, o := range dc.NetworkOfferings {
		no := &NetworkOffering{ID: newID(), Seq: ix.nextSeq(), Name: o.Name, DisplayText: orDefault(o.DisplayText, o.Name),
			GuestIPType: o.GuestIPType, Services: o.Services, SpecifyVLAN: o.SpecifyVLAN, SpecifyIPRanges: o.SpecifyIPRanges,
			State: orDefault(o.State, "Enabled"), IsDefault: o.IsDefault, Created: now, ForVPC: o.ForVPC}
		if !o.ForVPC {
			offerings[o.GuestIPType] = firstNonNil(offerings[o.GuestIPType], no)
		}
		put(b, ix.networkOfferings, no)
	}

	for _, z := range dc.Zones {
		zone := &Zone{ID: newID(), Seq: ix.nextSeq(), Name: z.Name, NetworkType: z.NetworkType, SecurityGroups: z.SecurityGroups,
			DNS1: z.DNS1, InternalDNS1: z.InternalDNS1, GuestCIDR: z.GuestCIDR}
		if from, to, ok := strings.Cut(z.VLAN, "-"); ok {
			zone.VLANFrom, _ = strconv.Atoi(from)
			zone.VLANTo, _ = strconv.Atoi(to)
		}
		if len(z.PublicIPRanges) > 0 {
			pub := &Network{ID: newID(), Seq: ix.nextSeq(), Name: "public-" + z.Name, ZoneID: zone.ID, Type: "Public",
				TrafficType: "Public", State: "Setup", System: true, Created: now, Owner: owner}
			for _, r := range z.PublicIPRanges {
				pub.Ranges = append(pub.Ranges, IPRange{Start: r.StartIP, End: r.EndIP, Gateway: r.Gateway, Netmask: r.Netmask, VLAN: r.VLAN})
			}
			pub.Gateway, pub.Netmask = z.PublicIPRanges[0].Gateway, z.PublicIPRanges[0].Netmask
			pub.CIDR = cidrOf(pub.Gateway, pub.Netmask)
			zone.PublicNetworkID = pub.ID
			put(b, ix.networks, pub)
		}
		if z.NetworkType == "Basic" {
			guest := &Network{ID: newID(), Seq: ix.nextSeq(), Name: "defaultGuestNetwork", DisplayText: "defaultGuestNetwork",
				ZoneID: zone.ID, Type: "Shared", TrafficType: "Guest", State: "Setup", Shared: true, Created: now, Owner: owner}
			if o := offerings["Shared"]; o != nil {
				guest.OfferingID = o.ID
			}
			for _, p := range z.Pods {
				for _, r := range p.GuestIPRanges {
					guest.Ranges = append(guest.Ranges, IPRange{Start: r.StartIP, End: r.EndIP, Gateway: r.Gateway, Netmask: r.Netmask})
					if guest.Gateway == "" {
						guest.Gateway, guest.Netmask = r.Gateway, r.Netmask
					}
				}
			}
			guest.CIDR = cidrOf(guest.Gateway, guest.Netmask)
			zone.GuestNetworkID = guest.ID
			put(b, ix.networks, guest)
		}
		put(b, ix.zones, zone)
		for _, p := range z.Pods {
			pod := &Pod{ID: newID(), Seq: ix.nextSeq(), Name: p.Name, ZoneID: zone.ID, Gateway: p.Gateway, Netmask: p.Netmask,
				StartIP: p.StartIP, EndIP: p.EndIP}
			put(b, ix.pods, pod)
			next, _ := parseIP(p.StartIP)
			for _, c := range p.Clusters {
				cl := &Cluster{ID: newID(), Seq: ix.nextSeq(), Name: c.Name, ZoneID: zone.ID, PodID: pod.ID}
				put(b, ix.clusters, cl)
				for _, h := range c.Hosts {
					n := max(h.Count, 1)
					for i := 0; i < n; i++ {
						name := h.Name
						if h.Count > 0 {
							name = fmt.Sprintf("%s%d", h.Name, i)
						}
						host := &Host{ID: newID(), Seq: ix.nextSeq(), Name: name, ZoneID: zone.ID, PodID: pod.ID, ClusterID: cl.ID,
							IP: formatIP(next), CPUs: h.CPUs, CPUSpeed: h.CPUSpeed, MemoryMB: h.Memory,
							State: HostState(orDefault(h.State, string(HostUp))), Created: now}
						next++
						put(b, ix.hosts, host)
					}
				}
			}
		}
	}
	for _, o := range dc.ServiceOfferings {
		put(b, ix.serviceOfferings, &ServiceOffering{ID: newID(), Seq: ix.nextSeq(), Name: o.Name, DisplayText: orDefault(o.DisplayText, o.Name),
			CPUs: o.CPUs, CPUSpeed: o.CPUSpeed, MemoryMB: o.Memory, HA: o.HA, RootDiskSize: o.RootDiskSize, Created: now})
	}
	for _, o := range dc.DiskOfferings {
		put(b, ix.diskOfferings, &DiskOffering{ID: newID(), Seq: ix.nextSeq(), Name: o.Name, DisplayText: orDefault(o.DisplayText, o.Name),
			SizeGB: o.Size, Custom: o.Custom, Created: now})
	}
	osIDs := map[string]string{}
	cats := map[string]string{}
	for _, o := range dc.OSTypes {
		if cats[o.Category] == "" {
			cats[o.Category] = newID()
		}
		t := &OSType{ID: newID(), Seq: ix.nextSeq(), Description: o.Description, Category: o.Category, CategoryID: cats[o.Category]}
		osIDs[o.Description] = t.ID
		put(b, ix.osTypes, t)
	}
	for _, t := range dc.Templates {
		put(b, ix.templates, &Template{ID: newID(), Seq: ix.nextSeq(), Name: t.Name, DisplayText: orDefault(t.DisplayText, t.Name),
			OSTypeID: osIDs[t.OSType], SizeGB: t.Size, Format: orDefault(t.Format, "QCOW2"), Featured: t.Featured, Public: true,
			PasswordEnabled: t.PasswordEnabled, Created: now, Owner: owner})
	}
	m, err := json.Marshal(meta{Datacenter: dc.Name, AdminUserID: user.ID})
	if err != nil {
		return err
	}
	b.ops = append(b.ops, store.Create(metaKey, m))
	return s.commit(ctx, b)
}

func defaultSecurityGroup(ix *index, o Owner, now timeT) *SecurityGroup {
	return &SecurityGroup{ID: newID(), Seq: ix.nextSeq(), Name: "default", Description: "Default Security Group",
		Ingress: []Rule{}, Egress: []Rule{}, Created: now, Owner: o}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func firstNonNil[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// cidrOf returns the CIDR of a gateway and netmask ("10.1.1.0/24").
func cidrOf(gateway, netmask string) string {
	g, err1 := parseIP(gateway)
	m, err2 := parseIP(netmask)
	if err1 != nil || err2 != nil {
		return ""
	}
	bits := 0
	for x := m; x&0x80000000 != 0; x <<= 1 {
		bits++
	}
	p := netip.PrefixFrom(netip.MustParseAddr(formatIP(g&m)), bits)
	return p.String()
}
