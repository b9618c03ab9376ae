package cloud

import (
	"log/slog"
	"time"
)

// Kind names a kind of entity (as CloudStack names them in errors and tags).
type Kind string

// Entity kinds.
const (
	KindZone            Kind = "Zone"
	KindPod             Kind = "Pod"
	KindCluster         Kind = "Cluster"
	KindHost            Kind = "Host"
	KindServiceOffering Kind = "ServiceOffering"
	KindDiskOffering    Kind = "DiskOffering"
	KindNetworkOffering Kind = "NetworkOffering"
	KindTemplate        Kind = "Template"
	KindOSType          Kind = "OSType"
	KindDomain          Kind = "Domain"
	KindAccount         Kind = "Account"
	KindUser            Kind = "User"
	KindVM              Kind = "UserVm"
	KindVolume          Kind = "Volume"
	KindNetwork         Kind = "Network"
	KindPublicIP        Kind = "PublicIpAddress"
	KindSecurityGroup   Kind = "SecurityGroup"
	KindSSHKeyPair      Kind = "SSHKeyPair"
	KindJob             Kind = "AsyncJob"
	KindEvent           Kind = "Event"
	KindTag             Kind = "ResourceTag"
	KindMock            Kind = "SimulatorMock"
)

// Owner is who owns a resource.
type Owner struct {
	AccountID string `json:"accountId"`
	DomainID  string `json:"domainId"`
}

// Zone is an availability zone.
type Zone struct {
	ID             string `json:"id"`
	Seq            int64  `json:"seq"`
	Name           string `json:"name"`
	NetworkType    string `json:"networkType"`
	SecurityGroups bool   `json:"securityGroups"`
	DNS1           string `json:"dns1"`
	InternalDNS1   string `json:"internalDns1"`
	GuestCIDR      string `json:"guestCidr,omitempty"`
	// PublicNetworkID is the pool of public addresses (Advanced zones).
	PublicNetworkID string `json:"publicNetworkId,omitempty"`
	// GuestNetworkID is the shared guest network (Basic zones).
	GuestNetworkID string `json:"guestNetworkId,omitempty"`
	// VLANs is the guest VLAN range [from, to] (Advanced zones).
	VLANFrom int `json:"vlanFrom,omitempty"`
	VLANTo   int `json:"vlanTo,omitempty"`
}

// Pod is a pod of a zone.
type Pod struct {
	ID      string `json:"id"`
	Seq     int64  `json:"seq"`
	Name    string `json:"name"`
	ZoneID  string `json:"zoneId"`
	Gateway string `json:"gateway"`
	Netmask string `json:"netmask"`
	StartIP string `json:"startIp"`
	EndIP   string `json:"endIp"`
}

// Cluster is a cluster of hosts in a pod.
type Cluster struct {
	ID     string `json:"id"`
	Seq    int64  `json:"seq"`
	Name   string `json:"name"`
	ZoneID string `json:"zoneId"`
	PodID  string `json:"podId"`
}

// HostState is Up or Down.
type HostState string

// Host states.
const (
	HostUp   HostState = "Up"
	HostDown HostState = "Down"
)

// Host is a simulated hypervisor host with capacity. Used capacity is
// updated in the same transaction that places or removes a VM.
type Host struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq"`
	Name      string    `json:"name"`
	ZoneID    string    `json:"zoneId"`
	PodID     string    `json:"podId"`
	ClusterID string    `json:"clusterId"`
	IP        string    `json:"ip"`
	CPUs      int       `json:"cpus"`
	CPUSpeed  int       `json:"cpuSpeed"`
	MemoryMB  int64     `json:"memoryMb"`
	State     HostState `json:"state"`
	// DownByFault marks a host a PingCommand fault took down.
	DownByFault bool      `json:"downByFault,omitempty"`
	Created     time.Time `json:"created"`
	// UsedCPU is the MHz allocated to VMs; UsedMemoryMB their memory.
	UsedCPU      int64 `json:"usedCpu"`
	UsedMemoryMB int64 `json:"usedMemoryMb"`
	VMs          int   `json:"vms"`
}

// TotalCPU is the host's CPU capacity in MHz.
func (h *Host) TotalCPU() int64 { return int64(h.CPUs) * int64(h.CPUSpeed) }

// fits reports whether the host has room for a VM of offering o.
func (h *Host) fits(o *ServiceOffering) bool {
	return h.State == HostUp &&
		h.UsedCPU+o.cpuMHz() <= h.TotalCPU() &&
		h.UsedMemoryMB+int64(o.MemoryMB) <= h.MemoryMB
}

// ServiceOffering is a compute offering.
type ServiceOffering struct {
	ID           string    `json:"id"`
	Seq          int64     `json:"seq"`
	Name         string    `json:"name"`
	DisplayText  string    `json:"displayText"`
	CPUs         int       `json:"cpus"`
	CPUSpeed     int       `json:"cpuSpeed"`
	MemoryMB     int       `json:"memoryMb"`
	HA           bool      `json:"ha"`
	RootDiskSize int64     `json:"rootDiskSize"`
	Created      time.Time `json:"created"`
	// Removed is when deleteServiceOffering removed it: VMs keep it, no
	// new VM or change takes it, and lists no longer show it.
	Removed time.Time `json:"removed,omitzero"`
}

func (o *ServiceOffering) cpuMHz() int64 { return int64(o.CPUs) * int64(o.CPUSpeed) }

// DiskOffering is a disk offering.
type DiskOffering struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Name        string    `json:"name"`
	DisplayText string    `json:"displayText"`
	SizeGB      int64     `json:"sizeGb"`
	Custom      bool      `json:"custom"`
	Created     time.Time `json:"created"`
	// Removed is when deleteDiskOffering removed it (as ServiceOffering.Removed).
	Removed time.Time `json:"removed,omitzero"`
}

// NetworkOffering is a network offering.
type NetworkOffering struct {
	ID              string    `json:"id"`
	Seq             int64     `json:"seq"`
	Name            string    `json:"name"`
	DisplayText     string    `json:"displayText"`
	GuestIPType     string    `json:"guestIpType"`
	Services        []string  `json:"services"`
	SpecifyVLAN     bool      `json:"specifyVlan"`
	SpecifyIPRanges bool      `json:"specifyIpRanges"`
	State           string    `json:"state"`
	IsDefault       bool      `json:"isDefault"`
	Created         time.Time `json:"created"`
	// ForVPC marks an offering for VPC tiers (only).
	ForVPC bool `json:"forVpc,omitempty"`
	// What createNetworkOffering sets (zero on the data center's own
	// offerings, whose views derive them): Availability Required or
	// Optional, NoConserve (conserve mode off), the rates, the router's
	// service offering, egress allowed by default, persistence, tags.
	Availability      string `json:"availability,omitempty"`
	NoConserve        bool   `json:"noConserve,omitempty"`
	NetworkRate       *int   `json:"networkRate,omitempty"`
	MaxConnections    *int   `json:"maxConnections,omitempty"`
	ServiceOfferingID string `json:"serviceOfferingId,omitempty"`
	EgressAllow       bool   `json:"egressAllow,omitempty"`
	Persistent        bool   `json:"persistent,omitempty"`
	Tags              string `json:"tags,omitempty"`
}

// HasService reports whether the offering provides the named service.
func (o *NetworkOffering) HasService(name string) bool {
	for _, s := range o.Services {
		if s == name {
			return true
		}
	}
	return false
}

// OSType is a guest OS type.
type OSType struct {
	ID          string `json:"id"`
	Seq         int64  `json:"seq"`
	Description string `json:"description"`
	CategoryID  string `json:"categoryId"`
	Category    string `json:"category"`
}

// Template is a VM image, usable in every zone.
type Template struct {
	ID              string    `json:"id"`
	Seq             int64     `json:"seq"`
	Name            string    `json:"name"`
	DisplayText     string    `json:"displayText"`
	OSTypeID        string    `json:"osTypeId"`
	SizeGB          int64     `json:"sizeGb"`
	Format          string    `json:"format"`
	Featured        bool      `json:"featured"`
	Public          bool      `json:"public"`
	PasswordEnabled bool      `json:"passwordEnabled"`
	Created         time.Time `json:"created"`
	// Type is USER for templates users made (createTemplate), "" for the
	// data center's (BUILTIN).
	Type string `json:"type,omitempty"`
	// ZoneID is the zone of a template made from a volume or snapshot;
	// "" for a template of every zone.
	ZoneID string `json:"zoneId,omitempty"`
	// SourceID is the volume or snapshot a USER template was made from.
	SourceID string `json:"sourceId,omitempty"`
	// URL is where a registered template or ISO came from.
	URL         string `json:"url,omitempty"`
	Checksum    string `json:"checksum,omitempty"`
	Extractable bool   `json:"extractable,omitempty"`
	// NotBootable marks an ISO registered with bootable=false.
	NotBootable bool `json:"notBootable,omitempty"`
	Owner
}

// Domain is a CloudStack domain; Path is "ROOT" or "ROOT/sub".
type Domain struct {
	ID       string    `json:"id"`
	Seq      int64     `json:"seq"`
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	ParentID string    `json:"parentId,omitempty"`
	Level    int       `json:"level"`
	Created  time.Time `json:"created"`
}

// AccountType is CloudStack's account type number.
type AccountType int

// Account types.
const (
	AccountUser        AccountType = 0
	AccountRootAdmin   AccountType = 1
	AccountDomainAdmin AccountType = 2
)

// Account is an account in a domain.
type Account struct {
	ID       string      `json:"id"`
	Seq      int64       `json:"seq"`
	Name     string      `json:"name"`
	Type     AccountType `json:"type"`
	DomainID string      `json:"domainId"`
	State    string      `json:"state"`
	Created  time.Time   `json:"created"`
	// Limits override the data center's default limits, by resource.
	Limits map[Resource]int64 `json:"limits,omitempty"`
}

// User is a user of an account. PasswordHash is salted PBKDF2; the secret
// key is kept as is because request signatures are checked with it.
type User struct {
	ID           string    `json:"id"`
	Seq          int64     `json:"seq"`
	Username     string    `json:"username"`
	AccountID    string    `json:"accountId"`
	DomainID     string    `json:"domainId"`
	FirstName    string    `json:"firstName"`
	LastName     string    `json:"lastName"`
	Email        string    `json:"email"`
	Timezone     string    `json:"timezone,omitempty"`
	PasswordHash string    `json:"passwordHash"`
	APIKey       string    `json:"apiKey,omitempty"`
	SecretKey    string    `json:"secretKey,omitempty"`
	State        string    `json:"state"`
	Created      time.Time `json:"created"`
}

// LogValue keeps secrets (password hash, API and secret keys) out of logs:
// slog's text and JSON handlers both log a User as its id and name only.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", u.ID), slog.String("username", u.Username))
}

// String names the user without its secrets, for fmt.
func (u User) String() string { return "user " + u.Username + " (" + u.ID + ")" }

// NIC is a VM's network interface.
type NIC struct {
	ID        string `json:"id"`
	NetworkID string `json:"networkId"`
	IP        string `json:"ip"`
	Netmask   string `json:"netmask"`
	Gateway   string `json:"gateway"`
	MAC       string `json:"mac"`
	Default   bool   `json:"default"`
}

// VM is a user virtual machine.
type VM struct {
	ID                string  `json:"id"`
	Seq               int64   `json:"seq"`
	Name              string  `json:"name"`
	DisplayName       string  `json:"displayName"`
	InstanceName      string  `json:"instanceName"`
	Group             string  `json:"group,omitempty"`
	State             VMState `json:"state"`
	ZoneID            string  `json:"zoneId"`
	HostID            string  `json:"hostId,omitempty"`
	LastHostID        string  `json:"lastHostId,omitempty"`
	ServiceOfferingID string  `json:"serviceOfferingId"`
	TemplateID        string  `json:"templateId"`
	// ISOID is the ISO in the VM's CD-ROM (attachIso), if any.
	ISOID            string            `json:"isoId,omitempty"`
	UserData         string            `json:"userData,omitempty"`
	KeyPairs         []string          `json:"keyPairs,omitempty"`
	SecurityGroupIDs []string          `json:"securityGroupIds,omitempty"`
	NICs             []NIC             `json:"nics"`
	RootVolumeID     string            `json:"rootVolumeId"`
	HA               bool              `json:"ha"`
	Password         string            `json:"password,omitempty"`
	Details          map[string]string `json:"details,omitempty"`
	Created          time.Time         `json:"created"`
	// UserID is the user who deployed the VM.
	UserID string `json:"userId,omitempty"`
	// JobID is the async job working on the VM, if any.
	JobID string `json:"jobId,omitempty"`
	// Destroyed is when the VM was destroyed (kept Destroyed, not
	// expunged); the expunge sweep counts expunge.delay from it.
	Destroyed time.Time `json:"destroyed,omitzero"`
	// MigrateToHostID is the destination of a migration in progress (the
	// VM is Migrating and holds capacity on both hosts); HostID stays the
	// source until the migration completes.
	MigrateToHostID string `json:"migrateToHostId,omitempty"`
	// AffinityGroupIDs are the VM's affinity groups (placement honours them).
	AffinityGroupIDs []string `json:"affinityGroupIds,omitempty"`
	// GroupID is the instance group the VM is in (Group is its name).
	GroupID string `json:"groupId,omitempty"`
	// EncryptedPassword is the VM's password encrypted with its first key
	// pair's public key, for getVMPassword (CloudStack's Encrypted.Password
	// detail). Password, by contrast, is set only on the copy of a VM a
	// job answers with (a new password is shown once); stored VMs never
	// hold it.
	EncryptedPassword string `json:"encryptedPassword,omitempty"`
	Owner
}

// Volume is a disk; the simulator makes one ROOT volume per VM.
type Volume struct {
	ID             string    `json:"id"`
	Seq            int64     `json:"seq"`
	Name           string    `json:"name"`
	Type           string    `json:"type"`
	VMID           string    `json:"vmId,omitempty"`
	ZoneID         string    `json:"zoneId"`
	SizeGB         int64     `json:"sizeGb"`
	DiskOfferingID string    `json:"diskOfferingId,omitempty"`
	TemplateID     string    `json:"templateId,omitempty"`
	State          string    `json:"state"`
	Created        time.Time `json:"created"`
	// DeviceID is a data disk's slot on its VM (1, 2, 4, …: 3 is the
	// CD-ROM's); 0 with a VM is the root disk, or a deploy-time data disk
	// from before device ids were recorded (device 1).
	DeviceID int64 `json:"deviceId,omitempty"`
	// SnapshotID is the snapshot the volume was created from.
	SnapshotID string `json:"snapshotId,omitempty"`
	// Attached is when the volume was last attached to its VM.
	Attached time.Time `json:"attached,omitzero"`
	Owner
}

// Network is a guest network (or a zone's public pool, which is not listed).
type Network struct {
	ID          string `json:"id"`
	Seq         int64  `json:"seq"`
	Name        string `json:"name"`
	DisplayText string `json:"displayText"`
	ZoneID      string `json:"zoneId"`
	OfferingID  string `json:"offeringId,omitempty"`
	Type        string `json:"type"`
	TrafficType string `json:"trafficType"`
	Gateway     string `json:"gateway"`
	Netmask     string `json:"netmask"`
	CIDR        string `json:"cidr"`
	// Ranges are the assignable addresses, [start, end] inclusive.
	Ranges  []IPRange `json:"ranges"`
	VLAN    string    `json:"vlan,omitempty"`
	State   string    `json:"state"`
	System  bool      `json:"system"`
	Shared  bool      `json:"shared"`
	Created time.Time `json:"created"`
	// VPCID is the VPC of a tier, ACLID its network ACL list.
	VPCID string `json:"vpcId,omitempty"`
	ACLID string `json:"aclId,omitempty"`
	Owner
}

// IPRange is an inclusive range of IPv4 addresses.
type IPRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
	// Gateway and Netmask of the range (public ranges carry their own).
	Gateway string `json:"gateway,omitempty"`
	Netmask string `json:"netmask,omitempty"`
	VLAN    string `json:"vlan,omitempty"`
}

// PublicIP is an allocated public address.
type PublicIP struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq"`
	Address   string    `json:"address"`
	ZoneID    string    `json:"zoneId"`
	NetworkID string    `json:"networkId,omitempty"`
	SourceNAT bool      `json:"sourceNat"`
	StaticNAT bool      `json:"staticNat"`
	VMID      string    `json:"vmId,omitempty"`
	VMIP      string    `json:"vmIp,omitempty"`
	VLAN      string    `json:"vlan,omitempty"`
	State     string    `json:"state"`
	Allocated time.Time `json:"allocated"`
	// VPCID is the VPC an address belongs to (its source NAT address, or
	// one acquired with vpcid).
	VPCID string `json:"vpcId,omitempty"`
	// Hidden: updateIpAddress fordisplay=false.
	Hidden bool `json:"hidden,omitempty"`
	Owner
}

// Rule is one security group rule.
type Rule struct {
	ID        string `json:"id"`
	Protocol  string `json:"protocol"`
	StartPort int    `json:"startPort"`
	EndPort   int    `json:"endPort"`
	ICMPType  int    `json:"icmpType"`
	ICMPCode  int    `json:"icmpCode"`
	CIDR      string `json:"cidr,omitempty"`
	Account   string `json:"account,omitempty"`
	Group     string `json:"group,omitempty"`
}

// SecurityGroup is a security group with its rules.
type SecurityGroup struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Ingress     []Rule    `json:"ingress"`
	Egress      []Rule    `json:"egress"`
	Created     time.Time `json:"created"`
	Owner
}

// SSHKeyPair is a registered public key.
type SSHKeyPair struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"`
	PublicKey   string    `json:"publicKey"`
	Created     time.Time `json:"created"`
	Owner
}

// Tag is a resource tag.
type Tag struct {
	ID           string `json:"id"`
	Seq          int64  `json:"seq"`
	ResourceType Kind   `json:"resourceType"`
	ResourceID   string `json:"resourceId"`
	Key          string `json:"key"`
	Value        string `json:"value"`
	Owner
}

// Event is an entry of listEvents.
type Event struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Type        string    `json:"type"`
	Level       string    `json:"level"`
	State       string    `json:"state"`
	Description string    `json:"description"`
	UserID      string    `json:"userId,omitempty"`
	ResourceID  string    `json:"resourceId,omitempty"`
	Kind        Kind      `json:"kind,omitempty"`
	Created     time.Time `json:"created"`
	Owner
}
