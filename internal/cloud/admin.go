package cloud

import (
	"context"
	"crypto/sha1"
	"fmt"
	"slices"
	"time"
)

// What root admins read about the data center: capacity by zone, pod and
// cluster (from the hosts, the IP ranges and the guest VLANs), alerts
// (a host going down raises one, as the real AlertManager does), the
// event types, and the virtual routers and system VMs a real zone runs.
// Routers and system VMs are not simulated machines: they are derived
// from the networks, VPCs and zones (one router per implemented isolated
// network or VPC, a secondary storage VM and a console proxy per zone),
// with ids stable across calls and restarts, and take no host capacity.

// KindAlert names alerts.
const KindAlert Kind = "Alert"

// Capacity types (CloudStack's Capacity.CAPACITY_TYPE_*).
const (
	CapacityMemory         = 0
	CapacityCPU            = 1
	CapacityPublicIP       = 4
	CapacityPrivateIP      = 5
	CapacityVLAN           = 7
	CapacityDirectPublicIP = 8
	CapacityCPUCore        = 90
)

// capacityNames are the names listCapacity shows.
var capacityNames = map[int]string{CapacityMemory: "MEMORY", CapacityCPU: "CPU", CapacityPublicIP: "VIRTUAL_NETWORK_PUBLIC_IP",
	CapacityPrivateIP: "PRIVATE_IP", CapacityVLAN: "VLAN", CapacityDirectPublicIP: "DIRECT_ATTACHED_PUBLIC_IP", CapacityCPUCore: "CPU_CORE"}

// CapacityEntry is one capacity of a zone (or of a pod or cluster).
type CapacityEntry struct {
	Type             int
	Name             string
	Total, Used      int64
	ZoneID           string
	PodID, ClusterID string
}

// CapacityScope narrows listCapacity.
type CapacityScope struct {
	ZoneID, PodID, ClusterID string
}

// Capacities computes the capacities in scope: per zone, or per pod or
// cluster when one is named (only memory and CPU are per host).
func (r Reader) Capacities(sc CapacityScope) []CapacityEntry {
	ix := r.ix
	var out []CapacityEntry
	for _, z := range ix.zones.all() {
		if sc.ZoneID != "" && z.ID != sc.ZoneID {
			continue
		}
		var mem, memUsed, cpu, cpuUsed, cores, coresUsed int64
		for _, h := range ix.hosts.all() {
			if h.ZoneID != z.ID || sc.PodID != "" && h.PodID != sc.PodID || sc.ClusterID != "" && h.ClusterID != sc.ClusterID {
				continue
			}
			mem, memUsed = mem+h.MemoryMB<<20, memUsed+h.UsedMemoryMB<<20
			cpu, cpuUsed = cpu+h.TotalCPU(), cpuUsed+h.UsedCPU
			cores += int64(h.CPUs)
		}
		for _, vm := range ix.vms.all() {
			if vm.ZoneID != z.ID || vm.HostID == "" || !vm.State.holdsCapacity() {
				continue
			}
			if h, ok := ix.hosts.get(vm.HostID); !ok || sc.PodID != "" && h.PodID != sc.PodID || sc.ClusterID != "" && h.ClusterID != sc.ClusterID {
				continue
			}
			if so, ok := ix.serviceOfferings.get(vm.ServiceOfferingID); ok {
				coresUsed += int64(so.CPUs)
			}
		}
		add := func(typ int, total, used int64) {
			out = append(out, CapacityEntry{Type: typ, Name: capacityNames[typ], Total: total, Used: used, ZoneID: z.ID, PodID: sc.PodID, ClusterID: sc.ClusterID})
		}
		add(CapacityMemory, mem, memUsed)
		add(CapacityCPU, cpu, cpuUsed)
		add(CapacityCPUCore, cores, coresUsed)
		if sc.PodID != "" || sc.ClusterID != "" {
			continue
		}
		if n, ok := ix.networks.get(z.PublicNetworkID); ok {
			total, used := ix.ipCount(n)
			add(CapacityPublicIP, total, used)
		}
		if n, ok := ix.networks.get(z.GuestNetworkID); ok {
			total, used := ix.ipCount(n)
			add(CapacityDirectPublicIP, total, used)
		}
		var private int64
		for _, p := range ix.pods.all() {
			if p.ZoneID == z.ID {
				s, err1 := parseIP(p.StartIP)
				e, err2 := parseIP(p.EndIP)
				if err1 == nil && err2 == nil && e >= s {
					private += int64(e) - int64(s) + 1
				}
			}
		}
		// the derived system VMs and routers each hold a private address
		add(CapacityPrivateIP, private, min(int64(len(ix.systemVMsOf(z))+len(ix.routersOf(z.ID))), private))
		if z.VLANTo > 0 {
			var used int64
			for _, n := range ix.networks.all() {
				if n.ZoneID == z.ID && n.VLAN != "" && !n.System && !n.Shared {
					used++
				}
			}
			add(CapacityVLAN, int64(z.VLANTo-z.VLANFrom+1), used)
		}
	}
	return out
}

// Alert is an alert the management server raised.
type Alert struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Type        int       `json:"type"`
	Name        string    `json:"name"`
	Subject     string    `json:"subject"`
	ZoneID      string    `json:"zoneId,omitempty"`
	PodID       string    `json:"podId,omitempty"`
	ClusterID   string    `json:"clusterId,omitempty"`
	Created     time.Time `json:"created"`
	Archived    bool      `json:"archived,omitempty"`
	LastUpdated time.Time `json:"lastUpdated"`
}

// AlertType is a kind of alert.
type AlertType struct {
	Type int
	Name string
}

// alertTypes are the real server's default alert types.
var alertTypes = []AlertType{{0, "ALERT.MEMORY"}, {1, "ALERT.CPU"}, {2, "ALERT.STORAGE"}, {3, "ALERT.STORAGE.ALLOCATED"},
	{4, "ALERT.NETWORK.PUBLICIP"}, {5, "ALERT.NETWORK.PRIVATEIP"}, {6, "ALERT.STORAGE.SECONDARY"}, {7, "ALERT.COMPUTE.HOST"},
	{8, "ALERT.USERVM"}, {9, "ALERT.SERVICE.DOMAINROUTER"}, {10, "ALERT.SERVICE.CONSOLEPROXY"}, {11, "ALERT.NETWORK.ROUTING"},
	{12, "ALERT.STORAGE.MISC"}, {13, "ALERT.USAGE"}, {14, "ALERT.MANAGEMENT"}, {15, "ALERT.NETWORK.DOMAINROUTERMIGRATE"},
	{16, "ALERT.SERVICE.CONSOLEPROXYMIGRATE"}, {17, "ALERT.USERVM.MIGRATE"}, {18, "ALERT.NETWORK.VLAN"}, {19, "ALERT.SERVICE.SSVM"},
	{20, "ALERT.USAGE.RESULT"}, {21, "ALERT.STORAGE.DELETE"}, {22, "ALERT.RESOURCE.COUNT"}, {23, "ALERT.USAGE.SANITY"},
	{24, "ALERT.NETWORK.DIRECTPUBLICIP"}, {25, "ALERT.STORAGE.LOCAL"}, {26, "ALERT.RESOURCE.EXCEED"}, {27, "ALERT.TYPE.SYNC"},
	{28, "ALERT.UPLOAD.FAILED"}}

// AlertTypes lists the alert types.
func AlertTypes() []AlertType { return alertTypes }

func alertName(typ int) string {
	for _, t := range alertTypes {
		if t.Type == typ {
			return t.Name
		}
	}
	return ""
}

// alertHostDown adds to b the alert the real server raises when a host
// goes down.
func (ix *index) alertHostDown(b *batch, s *Sim, h *Host) {
	z, _ := ix.zones.get(h.ZoneID)
	p, _ := ix.pods.get(h.PodID)
	subject := fmt.Sprintf("Host is down, name: %s (id:%s), availability zone: %s, pod: %s", h.Name, h.ID, nameOf(z), podName(p))
	now := s.clock.Now().UTC()
	put(b, ix.alerts, &Alert{ID: newID(), Seq: ix.nextSeq(), Type: 7, Name: alertName(7), Subject: subject, ZoneID: h.ZoneID,
		PodID: h.PodID, ClusterID: h.ClusterID, Created: now, LastUpdated: now})
}

func nameOf(z *Zone) string {
	if z == nil {
		return ""
	}
	return z.Name
}

func podName(p *Pod) string {
	if p == nil {
		return ""
	}
	return p.Name
}

// Alerts returns every alert in creation order.
func (r Reader) Alerts() []*Alert { return r.ix.alerts.all() }

// RemoveAlerts archives (archive) or deletes the alerts ids names, or, with
// no ids, those of type typ (-1: any) raised between from and to (zero:
// open). Root admins only.
func (s *Sim) RemoveAlerts(ctx context.Context, c Caller, archive bool, ids []string, typ int, from, to time.Time) error {
	if !c.IsRootAdmin() {
		return Denied("Account %s does not have permission to remove alerts", c.Account.Name)
	}
	if len(ids) == 0 && typ < 0 && from.IsZero() && to.IsZero() {
		return Invalid("Either ids, type, startdate or enddate must be specified")
	}
	return s.write(func(ix *index) error {
		b := &batch{}
		for _, a := range ix.alerts.all() {
			match := slices.Contains(ids, a.ID)
			if len(ids) == 0 {
				match = (typ < 0 || a.Type == typ) && (from.IsZero() || !a.Created.Before(from)) && (to.IsZero() || !a.Created.After(to))
			}
			if !match || archive && a.Archived {
				continue
			}
			if archive {
				n := *a
				n.Archived = true
				put(b, ix.alerts, &n)
			} else {
				del(b, ix.alerts, a.ID)
			}
		}
		return s.commit(ctx, b)
	})
}

// eventTypes are the event types listEventTypes shows: those the
// simulator records, and the real server's other common ones.
var eventTypes = []string{
	"ACCOUNT.CREATE", "ACCOUNT.DELETE", "ACCOUNT.DISABLE", "ACCOUNT.ENABLE", "ACCOUNT.UPDATE",
	"AG.CREATE", "AG.DELETE", "AG.UPDATE.VM",
	"CONFIGURATION.VALUE.EDIT",
	"DISK.OFFERING.CREATE", "DISK.OFFERING.DELETE", "DISK.OFFERING.EDIT",
	"DOMAIN.CREATE", "DOMAIN.DELETE", "DOMAIN.UPDATE",
	"FIREWALL.CLOSE", "FIREWALL.EGRESS.CLOSE", "FIREWALL.EGRESS.OPEN", "FIREWALL.OPEN",
	"HA.VM.RESTART", "HOST.STATE",
	"ISO.ATTACH", "ISO.CREATE", "ISO.DELETE", "ISO.DETACH",
	"LB.ASSIGN.TO.RULE", "LB.CREATE", "LB.DELETE", "LB.HEALTHCHECKPOLICY.CREATE", "LB.HEALTHCHECKPOLICY.DELETE",
	"LB.REMOVE.FROM.RULE", "LB.STICKINESSPOLICY.CREATE", "LB.STICKINESSPOLICY.DELETE", "LB.UPDATE",
	"NET.IPASSIGN", "NET.IPRELEASE", "NET.RULEADD", "NET.RULEDELETE", "NET.RULEMODIFY", "NET.RULE",
	"NETWORK.ACL.CREATE", "NETWORK.ACL.DELETE", "NETWORK.ACL.ITEM.CREATE", "NETWORK.ACL.ITEM.DELETE", "NETWORK.ACL.ITEM.UPDATE", "NETWORK.ACL.REPLACE",
	"NETWORK.CREATE", "NETWORK.DELETE", "NETWORK.RESTART", "NETWORK.UPDATE",
	"NIC.CREATE", "NIC.DELETE", "NIC.SECONDARY.IP.ASSIGN", "NIC.SECONDARY.IP.UNASSIGN", "NIC.UPDATE",
	"PROJECT.ACCOUNT.ADD", "PROJECT.ACCOUNT.REMOVE", "PROJECT.ACTIVATE", "PROJECT.CREATE", "PROJECT.DELETE",
	"PROJECT.INVITATION.CREATE", "PROJECT.INVITATION.REMOVE", "PROJECT.INVITATION.UPDATE", "PROJECT.SUSPEND", "PROJECT.UPDATE",
	"REGISTER.SSH.KEYPAIR", "CREATE_TAGS", "DELETE_TAGS",
	"SERVICE.OFFERING.CREATE", "SERVICE.OFFERING.DELETE", "SERVICE.OFFERING.EDIT",
	"SG.AUTH.EGRESS", "SG.AUTH.INGRESS", "SG.CREATE", "SG.DELETE", "SG.REVOKE.EGRESS", "SG.REVOKE.INGRESS",
	"SNAPSHOT.CREATE", "SNAPSHOT.DELETE", "SNAPSHOT.REVERT",
	"SNAPSHOTPOLICY.CREATE", "SNAPSHOTPOLICY.DELETE", "SNAPSHOTPOLICY.UPDATE",
	"STATICNAT.DISABLE", "STATICNAT.ENABLE",
	"TEMPLATE.CREATE", "TEMPLATE.DELETE", "TEMPLATE.UPDATE", "TEMPLATE.COPY", "TEMPLATE.EXTRACT",
	"USER.CREATE", "USER.DELETE", "USER.DISABLE", "USER.ENABLE", "USER.LOCK", "USER.LOGIN", "USER.LOGOUT", "USER.UPDATE",
	"VM.CREATE", "VM.DESTROY", "VM.EXPUNGE", "VM.MIGRATE", "VM.REBOOT", "VM.RECOVER", "VM.RESETPASSWORD", "VM.RESTORE",
	"VM.START", "VM.STOP", "VM.UPDATE", "VM.UPGRADE",
	"VMSNAPSHOT.CREATE", "VMSNAPSHOT.DELETE", "VMSNAPSHOT.REVERTTO",
	"VOLUME.ATTACH", "VOLUME.CREATE", "VOLUME.DELETE", "VOLUME.DETACH", "VOLUME.MIGRATE", "VOLUME.RESIZE", "VOLUME.SYNC",
	"VPC.CREATE", "VPC.DELETE", "VPC.RESTART", "VPC.UPDATE",
	"VPN.REMOTE.ACCESS.CREATE", "VPN.REMOTE.ACCESS.DESTROY", "VPN.USER.ADD", "VPN.USER.REMOVE",
}

// EventTypes lists the event types, sorted.
func EventTypes() []string {
	out := slices.Clone(eventTypes)
	slices.Sort(out)
	return slices.Compact(out)
}

// SystemVM is a router or system VM as the API shows it: derived, not
// simulated.
type SystemVM struct {
	ID, Name, Role string // Role: VIRTUAL_ROUTER, secondarystoragevm, consoleproxy
	ZoneID         string
	PodID, HostID  string
	State          string
	Created        time.Time
	// NetworkID and VPCID are what a router serves; GuestIP its address
	// there and PublicIP its source NAT address.
	NetworkID, VPCID  string
	GuestIP, PublicIP string
	Owner
}

// derivedID is a stable UUID-shaped id for a derived machine.
func derivedID(kind, of string) string {
	h := sha1.Sum([]byte(kind + "/" + of))
	h[6] = h[6]&0x0f | 0x50 // version 5, name-based
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// hostIn picks the first Up host of a zone (where derived machines run).
func (ix *index) hostIn(zoneID string) *Host {
	for _, h := range ix.hosts.all() {
		if h.ZoneID == zoneID && h.State == HostUp {
			return h
		}
	}
	return nil
}

// systemVMsOf derives a zone's secondary storage VM and console proxy.
func (ix *index) systemVMsOf(z *Zone) []SystemVM {
	h := ix.hostIn(z.ID)
	state, host, pod := "Running", "", ""
	if h == nil {
		state = "Stopped"
	} else {
		host, pod = h.ID, h.PodID
	}
	// they belong to the system (shown as the admin's) and came with the
	// data center
	admin, created := Owner{}, time.Time{}
	if u, ok := ix.users.get(ix.meta.AdminUserID); ok {
		admin, created = Owner{AccountID: u.AccountID, DomainID: u.DomainID}, u.Created
	}
	var out []SystemVM
	for i, role := range []string{"secondarystoragevm", "consoleproxy"} {
		prefix := []string{"s", "v"}[i]
		out = append(out, SystemVM{ID: derivedID(role, z.ID), Name: fmt.Sprintf("%s-%d-VM", prefix, z.Seq*2+int64(i)+1), Role: role,
			ZoneID: z.ID, PodID: pod, HostID: host, State: state, Created: created, Owner: admin})
	}
	return out
}

// routersOf derives the virtual routers of a zone ("" for all): one per
// implemented isolated network outside a VPC, one per VPC.
func (ix *index) routersOf(zoneID string) []SystemVM {
	var out []SystemVM
	for _, n := range ix.networks.all() {
		if n.System || n.Shared || n.VPCID != "" || n.Type != "Isolated" || n.State != "Implemented" || zoneID != "" && n.ZoneID != zoneID {
			continue
		}
		r := SystemVM{ID: derivedID("router", n.ID), Name: fmt.Sprintf("r-%d-VM", n.Seq), Role: "VIRTUAL_ROUTER", ZoneID: n.ZoneID,
			State: "Running", Created: n.Created, NetworkID: n.ID, GuestIP: n.Gateway, Owner: n.Owner}
		for _, p := range ix.publicIPs.all() {
			if p.NetworkID == n.ID && p.SourceNAT {
				r.PublicIP = p.Address
			}
		}
		out = append(out, ix.placeDerived(r))
	}
	for _, v := range ix.vpcs.all() {
		if zoneID != "" && v.ZoneID != zoneID {
			continue
		}
		r := SystemVM{ID: derivedID("router", v.ID), Name: fmt.Sprintf("r-%d-VM", v.Seq), Role: "VIRTUAL_ROUTER", ZoneID: v.ZoneID,
			State: "Running", Created: v.Created, VPCID: v.ID, Owner: v.Owner}
		for _, p := range ix.publicIPs.all() {
			if p.VPCID == v.ID && p.SourceNAT {
				r.PublicIP = p.Address
			}
		}
		out = append(out, ix.placeDerived(r))
	}
	return out
}

func (ix *index) placeDerived(r SystemVM) SystemVM {
	if h := ix.hostIn(r.ZoneID); h != nil {
		r.HostID, r.PodID = h.ID, h.PodID
	} else {
		r.State = "Stopped"
	}
	return r
}

// Routers returns the derived virtual routers c may see (their owners').
func (r Reader) Routers(c Caller) []SystemVM {
	var out []SystemVM
	for _, x := range r.ix.routersOf("") {
		if r.ix.canAccess(c, x.Owner) {
			out = append(out, x)
		}
	}
	return out
}

// SystemVMs returns the derived system VMs of every zone.
func (r Reader) SystemVMs() []SystemVM {
	var out []SystemVM
	for _, z := range r.ix.zones.all() {
		out = append(out, r.ix.systemVMsOf(z)...)
	}
	return out
}
