package cloudstack

import (
	"strconv"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// dateLayout is CloudStack's response date format.
const dateLayout = "2006-01-02T15:04:05-0700"

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}

// ownerView is the account/domain fields most objects carry.
type ownerView struct {
	Account    string `json:"account,omitempty"`
	AccountID  string `json:"accountid,omitempty"`
	Domain     string `json:"domain,omitempty"`
	DomainID   string `json:"domainid,omitempty"`
	DomainPath string `json:"domainpath,omitempty"`
	// Project and ProjectID name the project whose account owns the
	// resource.
	Project   string `json:"project,omitempty"`
	ProjectID string `json:"projectid,omitempty"`
}

func owner(r cloud.Reader, o cloud.Owner) ownerView {
	v := ownerView{AccountID: o.AccountID, DomainID: o.DomainID}
	if a, ok := r.Account(o.AccountID); ok {
		v.Account = a.Name
	}
	if d, ok := r.Domain(o.DomainID); ok {
		v.Domain, v.DomainPath = d.Name, d.Path
	}
	if p, ok := r.ProjectOfAccount(o.AccountID); ok {
		v.Project, v.ProjectID = p.Name, p.ID
	}
	return v
}

type tagView struct {
	Key          string `json:"key"`
	Value        string `json:"value"`
	ResourceID   string `json:"resourceid"`
	ResourceType string `json:"resourcetype"`
	Account      string `json:"account,omitempty"`
	Domain       string `json:"domain,omitempty"`
	DomainID     string `json:"domainid,omitempty"`
	DomainPath   string `json:"domainpath,omitempty"`
}

func tagsOf(r cloud.Reader, id string) []tagView {
	ts := r.TagsOf(id)
	out := make([]tagView, 0, len(ts))
	for _, t := range ts {
		out = append(out, tagOf(r, t))
	}
	return out
}

func tagOf(r cloud.Reader, t *cloud.Tag) tagView {
	o := owner(r, t.Owner)
	return tagView{Key: t.Key, Value: t.Value, ResourceID: t.ResourceID, ResourceType: string(t.ResourceType),
		Account: o.Account, Domain: o.Domain, DomainID: o.DomainID, DomainPath: o.DomainPath}
}

type zoneView struct {
	ID                    string            `json:"id"`
	Name                  string            `json:"name"`
	Description           string            `json:"description,omitempty"`
	DNS1                  string            `json:"dns1,omitempty"`
	InternalDNS1          string            `json:"internaldns1,omitempty"`
	GuestCIDRAddress      string            `json:"guestcidraddress,omitempty"`
	NetworkType           string            `json:"networktype"`
	SecurityGroupsEnabled bool              `json:"securitygroupsenabled"`
	AllocationState       string            `json:"allocationstate"`
	ZoneToken             string            `json:"zonetoken"`
	DHCPProvider          string            `json:"dhcpprovider"`
	LocalStorageEnabled   bool              `json:"localstorageenabled"`
	Type                  string            `json:"type"`
	Tags                  []tagView         `json:"tags"`
	ResourceDetails       map[string]string `json:"resourcedetails,omitempty"`
	Capacity              []capacityView    `json:"capacity,omitempty"`
}

type capacityView struct {
	Type              int    `json:"type"`
	Name              string `json:"name"`
	CapacityTotal     int64  `json:"capacitytotal"`
	CapacityUsed      int64  `json:"capacityused"`
	CapacityAllocated int64  `json:"capacityallocated"`
	PercentUsed       string `json:"percentused"`
	ZoneID            string `json:"zoneid"`
	ZoneName          string `json:"zonename"`
}

func zoneOf(r cloud.Reader, z *cloud.Zone, caps *cloud.Capacity) zoneView {
	v := zoneView{ID: z.ID, Name: z.Name, DNS1: z.DNS1, InternalDNS1: z.InternalDNS1, GuestCIDRAddress: z.GuestCIDR,
		NetworkType: z.NetworkType, SecurityGroupsEnabled: z.SecurityGroups, AllocationState: "Enabled", ZoneToken: z.ID[:8],
		DHCPProvider: "VirtualRouter", Type: "Core", Tags: tagsOf(r, z.ID)}
	if z.SecurityGroups {
		v.DHCPProvider = "VirtualRouter"
	}
	if caps != nil {
		pct := func(u, t int64) string {
			if t == 0 {
				return "0"
			}
			return strconv.FormatFloat(float64(u)*100/float64(t), 'f', 2, 64)
		}
		v.Capacity = []capacityView{
			{Type: 0, Name: "MEMORY", CapacityTotal: caps.MemoryTotalMB << 20, CapacityUsed: caps.MemoryUsedMB << 20, CapacityAllocated: caps.MemoryUsedMB << 20, PercentUsed: pct(caps.MemoryUsedMB, caps.MemoryTotalMB), ZoneID: z.ID, ZoneName: z.Name},
			{Type: 1, Name: "CPU", CapacityTotal: caps.CPUTotalMHz, CapacityUsed: caps.CPUUsedMHz, CapacityAllocated: caps.CPUUsedMHz, PercentUsed: pct(caps.CPUUsedMHz, caps.CPUTotalMHz), ZoneID: z.ID, ZoneName: z.Name},
		}
	}
	return v
}

type podView struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	ZoneID          string   `json:"zoneid"`
	ZoneName        string   `json:"zonename"`
	Gateway         string   `json:"gateway"`
	Netmask         string   `json:"netmask"`
	StartIP         []string `json:"startip"`
	EndIP           []string `json:"endip"`
	AllocationState string   `json:"allocationstate"`
}

func podOf(r cloud.Reader, p *cloud.Pod) podView {
	v := podView{ID: p.ID, Name: p.Name, ZoneID: p.ZoneID, Gateway: p.Gateway, Netmask: p.Netmask,
		StartIP: []string{p.StartIP}, EndIP: []string{p.EndIP}, AllocationState: "Enabled"}
	if z, ok := r.Zone(p.ZoneID); ok {
		v.ZoneName = z.Name
	}
	return v
}

type clusterView struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	PodID           string `json:"podid"`
	PodName         string `json:"podname"`
	ZoneID          string `json:"zoneid"`
	ZoneName        string `json:"zonename"`
	HypervisorType  string `json:"hypervisortype"`
	ClusterType     string `json:"clustertype"`
	AllocationState string `json:"allocationstate"`
	ManagedState    string `json:"managedstate"`
	Arch            string `json:"arch"`
}

func clusterOf(r cloud.Reader, c *cloud.Cluster) clusterView {
	v := clusterView{ID: c.ID, Name: c.Name, PodID: c.PodID, ZoneID: c.ZoneID, HypervisorType: "Simulator",
		ClusterType: "CloudManaged", AllocationState: "Enabled", ManagedState: "Managed", Arch: "x86_64"}
	if p, ok := r.Pod(c.PodID); ok {
		v.PodName = p.Name
	}
	if z, ok := r.Zone(c.ZoneID); ok {
		v.ZoneName = z.Name
	}
	return v
}

type hostView struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	State             string `json:"state"`
	ResourceState     string `json:"resourcestate"`
	Type              string `json:"type"`
	Hypervisor        string `json:"hypervisor"`
	IPAddress         string `json:"ipaddress"`
	ZoneID            string `json:"zoneid"`
	ZoneName          string `json:"zonename"`
	PodID             string `json:"podid"`
	PodName           string `json:"podname"`
	ClusterID         string `json:"clusterid"`
	ClusterName       string `json:"clustername"`
	ClusterType       string `json:"clustertype"`
	CPUNumber         int    `json:"cpunumber"`
	CPUSpeed          int64  `json:"cpuspeed"`
	CPUAllocated      string `json:"cpuallocated"`
	CPUAllocatedValue int64  `json:"cpuallocatedvalue"`
	MemoryTotal       int64  `json:"memorytotal"`
	MemoryAllocated   int64  `json:"memoryallocated"`
	MemoryUsed        int64  `json:"memoryused"`
	Version           string `json:"version"`
	Created           string `json:"created"`
	Arch              string `json:"arch"`
}

func hostOf(r cloud.Reader, h *cloud.Host) hostView {
	v := hostView{ID: h.ID, Name: h.Name, State: string(h.State), ResourceState: "Enabled", Type: "Routing", Hypervisor: "Simulator",
		IPAddress: h.IP, ZoneID: h.ZoneID, PodID: h.PodID, ClusterID: h.ClusterID, ClusterType: "CloudManaged",
		CPUNumber: h.CPUs, CPUSpeed: int64(h.CPUSpeed), CPUAllocatedValue: h.UsedCPU, MemoryTotal: h.MemoryMB << 20,
		MemoryAllocated: h.UsedMemoryMB << 20, MemoryUsed: h.UsedMemoryMB << 20, Version: version, Created: date(h.Created), Arch: "x86_64"}
	if total := h.TotalCPU(); total > 0 {
		v.CPUAllocated = strconv.FormatFloat(float64(h.UsedCPU)*100/float64(total), 'f', 2, 64) + "%"
	}
	if z, ok := r.Zone(h.ZoneID); ok {
		v.ZoneName = z.Name
	}
	if p, ok := r.Pod(h.PodID); ok {
		v.PodName = p.Name
	}
	if c, ok := r.Cluster(h.ClusterID); ok {
		v.ClusterName = c.Name
	}
	return v
}

type serviceOfferingView struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	DisplayText           string `json:"displaytext"`
	CPUNumber             int    `json:"cpunumber"`
	CPUSpeed              int    `json:"cpuspeed"`
	Memory                int    `json:"memory"`
	OfferHA               bool   `json:"offerha"`
	LimitCPUUse           bool   `json:"limitcpuuse"`
	IsSystem              bool   `json:"issystem"`
	IsCustomized          bool   `json:"iscustomized"`
	IsVolatile            bool   `json:"isvolatile"`
	DefaultUse            bool   `json:"defaultuse"`
	DynamicScalingEnabled bool   `json:"dynamicscalingenabled"`
	StorageType           string `json:"storagetype"`
	ProvisioningType      string `json:"provisioningtype"`
	CacheMode             string `json:"cachemode"`
	RootDiskSize          int64  `json:"rootdisksize,omitempty"`
	Created               string `json:"created"`
	State                 string `json:"state"`
	HasAnnotations        bool   `json:"hasannotations"`
}

func serviceOfferingOf(o *cloud.ServiceOffering) serviceOfferingView {
	return serviceOfferingView{ID: o.ID, Name: o.Name, DisplayText: o.DisplayText, CPUNumber: o.CPUs, CPUSpeed: o.CPUSpeed,
		Memory: o.MemoryMB, OfferHA: o.HA, DynamicScalingEnabled: true, StorageType: "shared", ProvisioningType: "thin",
		CacheMode: "none", RootDiskSize: o.RootDiskSize, Created: date(o.Created), State: "Active"}
}

type diskOfferingView struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	DisplayText      string `json:"displaytext"`
	DiskSize         int64  `json:"disksize"`
	IsCustomized     bool   `json:"iscustomized"`
	StorageType      string `json:"storagetype"`
	ProvisioningType string `json:"provisioningtype"`
	DisplayOffering  bool   `json:"displayoffering"`
	Created          string `json:"created"`
	State            string `json:"state"`
}

func diskOfferingOf(o *cloud.DiskOffering) diskOfferingView {
	return diskOfferingView{ID: o.ID, Name: o.Name, DisplayText: o.DisplayText, DiskSize: o.SizeGB, IsCustomized: o.Custom,
		StorageType: "shared", ProvisioningType: "thin", DisplayOffering: true, Created: date(o.Created), State: "Active"}
}

type serviceProviderView struct {
	Name string `json:"name"`
}

type networkServiceView struct {
	Name     string                `json:"name"`
	Provider []serviceProviderView `json:"provider"`
}

type networkOfferingView struct {
	ID                   string               `json:"id"`
	Name                 string               `json:"name"`
	DisplayText          string               `json:"displaytext"`
	TrafficType          string               `json:"traffictype"`
	IsDefault            bool                 `json:"isdefault"`
	SpecifyVLAN          bool                 `json:"specifyvlan"`
	ConserveMode         bool                 `json:"conservemode"`
	SpecifyIPRanges      bool                 `json:"specifyipranges"`
	Availability         string               `json:"availability"`
	NetworkRate          int                  `json:"networkrate"`
	State                string               `json:"state"`
	GuestIPType          string               `json:"guestiptype"`
	ServiceOfferingID    string               `json:"serviceofferingid"`
	Service              []networkServiceView `json:"service"`
	ForVPC               bool                 `json:"forvpc"`
	IsPersistent         bool                 `json:"ispersistent"`
	EgressDefaultPolicy  bool                 `json:"egressdefaultpolicy"`
	SupportsPublicAccess bool                 `json:"supportspublicaccess"`
	Created              string               `json:"created"`
	MaxConnections       *int                 `json:"maxconnections,omitempty"`
	Tags                 string               `json:"tags,omitempty"`
}

func networkOfferingOf(o *cloud.NetworkOffering) networkOfferingView {
	v := networkOfferingView{ID: o.ID, Name: o.Name, DisplayText: o.DisplayText, TrafficType: "Guest", IsDefault: o.IsDefault,
		SpecifyVLAN: o.SpecifyVLAN, ConserveMode: true, SpecifyIPRanges: o.SpecifyIPRanges, Availability: "Optional",
		NetworkRate: 200, State: o.State, GuestIPType: o.GuestIPType, Service: []networkServiceView{}, Created: date(o.Created)}
	if o.HasService("SourceNat") {
		v.Availability = "Required"
	}
	if o.Availability != "" {
		v.Availability = o.Availability
	}
	if o.NetworkRate != nil {
		v.NetworkRate = *o.NetworkRate
	}
	v.ConserveMode, v.ServiceOfferingID, v.EgressDefaultPolicy, v.IsPersistent, v.Tags = !o.NoConserve, o.ServiceOfferingID, o.EgressAllow, o.Persistent, o.Tags
	v.MaxConnections = o.MaxConnections
	v.ForVPC = o.ForVPC
	for _, s := range o.Services {
		prov := "VirtualRouter"
		if o.ForVPC {
			prov = "VpcVirtualRouter"
		}
		if s == "SecurityGroup" {
			prov = "SecurityGroupProvider"
		}
		v.Service = append(v.Service, networkServiceView{Name: s, Provider: []serviceProviderView{{Name: prov}}})
	}
	return v
}

type osTypeView struct {
	ID             string `json:"id"`
	Description    string `json:"description"`
	Name           string `json:"name"`
	OSCategoryID   string `json:"oscategoryid"`
	OSCategoryName string `json:"oscategoryname"`
	IsUserDefined  bool   `json:"isuserdefined"`
	ForDisplay     bool   `json:"fordisplay"`
}

func osTypeOf(o *cloud.OSType) osTypeView {
	return osTypeView{ID: o.ID, Description: o.Description, Name: o.Description, OSCategoryID: o.CategoryID,
		OSCategoryName: o.Category, ForDisplay: true}
}

type templateView struct {
	ID                    string            `json:"id"`
	Name                  string            `json:"name"`
	DisplayText           string            `json:"displaytext"`
	IsPublic              bool              `json:"ispublic"`
	IsReady               bool              `json:"isready"`
	IsFeatured            bool              `json:"isfeatured"`
	IsExtractable         bool              `json:"isextractable"`
	PasswordEnabled       bool              `json:"passwordenabled"`
	SSHKeyEnabled         bool              `json:"sshkeyenabled"`
	Bootable              bool              `json:"bootable"`
	CrossZones            bool              `json:"crossZones"`
	IsDynamicallyScalable bool              `json:"isdynamicallyscalable"`
	DirectDownload        bool              `json:"directdownload"`
	RequiresHVM           bool              `json:"requireshvm"`
	DeployAsIs            bool              `json:"deployasis"`
	Format                string            `json:"format"`
	Hypervisor            string            `json:"hypervisor"`
	OSTypeID              string            `json:"ostypeid"`
	OSTypeName            string            `json:"ostypename"`
	Size                  int64             `json:"size"`
	PhysicalSize          int64             `json:"physicalsize"`
	Status                string            `json:"status"`
	Checksum              string            `json:"checksum,omitempty"`
	TemplateType          string            `json:"templatetype"`
	ZoneID                string            `json:"zoneid,omitempty"`
	ZoneName              string            `json:"zonename,omitempty"`
	Created               string            `json:"created"`
	Arch                  string            `json:"arch"`
	Details               map[string]string `json:"details,omitempty"`
	Tags                  []tagView         `json:"tags"`
	ownerView
}

func templateOf(r cloud.Reader, t *cloud.Template, z *cloud.Zone) templateView {
	v := templateView{ID: t.ID, Name: t.Name, DisplayText: t.DisplayText, IsPublic: t.Public, IsReady: true, IsFeatured: t.Featured,
		PasswordEnabled: t.PasswordEnabled, Bootable: true, Format: t.Format, Hypervisor: "Simulator", OSTypeID: t.OSTypeID,
		Size: t.SizeGB << 30, PhysicalSize: t.SizeGB << 30, Status: "Download Complete", TemplateType: "BUILTIN",
		Created: date(t.Created), Arch: "x86_64", Tags: tagsOf(r, t.ID), ownerView: owner(r, t.Owner)}
	if os, ok := r.OSType(t.OSTypeID); ok {
		v.OSTypeName = os.Description
	}
	if z != nil {
		v.ZoneID, v.ZoneName = z.ID, z.Name
	}
	if t.Type != "" {
		v.TemplateType, v.IsExtractable = t.Type, true
	}
	if t.URL != "" {
		// registered: extractable only when asked, and CROSS-zone when in every zone
		v.IsExtractable, v.CrossZones, v.Checksum = t.Extractable, t.ZoneID == "", t.Checksum
	}
	v.Bootable = !t.NotBootable
	return v
}

type nicView struct {
	ID               string   `json:"id"`
	NetworkID        string   `json:"networkid"`
	NetworkName      string   `json:"networkname"`
	Netmask          string   `json:"netmask"`
	Gateway          string   `json:"gateway"`
	IPAddress        string   `json:"ipaddress"`
	IsolationURI     string   `json:"isolationuri,omitempty"`
	BroadcastURI     string   `json:"broadcasturi,omitempty"`
	TrafficType      string   `json:"traffictype"`
	Type             string   `json:"type"`
	IsDefault        bool     `json:"isdefault"`
	MACAddress       string   `json:"macaddress"`
	DeviceID         string   `json:"deviceid"`
	SecondaryIP      []any    `json:"secondaryip"`
	ExtraDHCPOption  []string `json:"extradhcpoption"`
	VirtualMachineID string   `json:"virtualmachineid"`
}

type ruleView struct {
	RuleID            string    `json:"ruleid"`
	Protocol          string    `json:"protocol"`
	StartPort         int       `json:"startport,omitempty"`
	EndPort           int       `json:"endport,omitempty"`
	ICMPType          int       `json:"icmptype,omitempty"`
	ICMPCode          int       `json:"icmpcode,omitempty"`
	CIDR              string    `json:"cidr,omitempty"`
	Account           string    `json:"account,omitempty"`
	SecurityGroupName string    `json:"securitygroupname,omitempty"`
	Tags              []tagView `json:"tags"`
}

func rulesOf(rs []cloud.Rule) []ruleView {
	out := make([]ruleView, 0, len(rs))
	for _, x := range rs {
		rv := ruleView{RuleID: x.ID, Protocol: x.Protocol, CIDR: x.CIDR, Account: x.Account, SecurityGroupName: x.Group, Tags: []tagView{}}
		if x.Protocol == "icmp" {
			rv.ICMPType, rv.ICMPCode = x.ICMPType, x.ICMPCode
		} else {
			rv.StartPort, rv.EndPort = x.StartPort, x.EndPort
		}
		out = append(out, rv)
	}
	return out
}

type securityGroupView struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	Description         string     `json:"description"`
	IngressRule         []ruleView `json:"ingressrule"`
	EgressRule          []ruleView `json:"egressrule"`
	VirtualMachineCount int        `json:"virtualmachinecount"`
	VirtualMachineIDs   []string   `json:"virtualmachineids"`
	Tags                []tagView  `json:"tags"`
	ownerView
}

func securityGroupOf(r cloud.Reader, g *cloud.SecurityGroup, withVMs bool) securityGroupView {
	v := securityGroupView{ID: g.ID, Name: g.Name, Description: g.Description, IngressRule: rulesOf(g.Ingress),
		EgressRule: rulesOf(g.Egress), VirtualMachineIDs: []string{}, Tags: tagsOf(r, g.ID), ownerView: owner(r, g.Owner)}
	if withVMs {
		for _, vm := range r.VMsOf(g.AccountID) {
			for _, id := range vm.SecurityGroupIDs {
				if id == g.ID && vm.State != cloud.VMExpunging {
					v.VirtualMachineIDs = append(v.VirtualMachineIDs, vm.ID)
				}
			}
		}
		v.VirtualMachineCount = len(v.VirtualMachineIDs)
	}
	return v
}

// vmView is a virtual machine as listVirtualMachines shows it.
type vmView struct {
	ID                    string              `json:"id"`
	Name                  string              `json:"name"`
	DisplayName           string              `json:"displayname"`
	InstanceName          string              `json:"instancename,omitempty"`
	UserID                string              `json:"userid,omitempty"`
	Username              string              `json:"username,omitempty"`
	Created               string              `json:"created"`
	LastUpdated           string              `json:"lastupdated,omitempty"`
	State                 string              `json:"state"`
	HAEnable              bool                `json:"haenable"`
	Group                 string              `json:"group,omitempty"`
	GroupID               string              `json:"groupid,omitempty"`
	ZoneID                string              `json:"zoneid"`
	ZoneName              string              `json:"zonename"`
	HostID                string              `json:"hostid,omitempty"`
	HostName              string              `json:"hostname,omitempty"`
	TemplateID            string              `json:"templateid"`
	TemplateName          string              `json:"templatename"`
	TemplateDisplayText   string              `json:"templatedisplaytext"`
	TemplateType          string              `json:"templatetype"`
	TemplateFormat        string              `json:"templateformat"`
	ISOID                 string              `json:"isoid,omitempty"`
	ISOName               string              `json:"isoname,omitempty"`
	ISODisplayText        string              `json:"isodisplaytext,omitempty"`
	PasswordEnabled       bool                `json:"passwordenabled"`
	Password              string              `json:"password,omitempty"`
	ServiceOfferingID     string              `json:"serviceofferingid"`
	ServiceOfferingName   string              `json:"serviceofferingname"`
	CPUNumber             int                 `json:"cpunumber"`
	CPUSpeed              int                 `json:"cpuspeed"`
	Memory                int                 `json:"memory"`
	CPUUsed               string              `json:"cpuused,omitempty"`
	NetworkKbsRead        int64               `json:"networkkbsread"`
	NetworkKbsWrite       int64               `json:"networkkbswrite"`
	DiskKbsRead           int64               `json:"diskkbsread"`
	DiskKbsWrite          int64               `json:"diskkbswrite"`
	DiskIORead            int64               `json:"diskioread"`
	DiskIOWrite           int64               `json:"diskiowrite"`
	MemoryKbs             int64               `json:"memorykbs"`
	GuestOSID             string              `json:"guestosid"`
	OSTypeID              string              `json:"ostypeid"`
	OSDisplayName         string              `json:"osdisplayname"`
	RootDeviceID          int64               `json:"rootdeviceid"`
	RootDeviceType        string              `json:"rootdevicetype"`
	SecurityGroup         []securityGroupView `json:"securitygroup"`
	Nic                   []nicView           `json:"nic"`
	Hypervisor            string              `json:"hypervisor"`
	PublicIP              string              `json:"publicip,omitempty"`
	PublicIPID            string              `json:"publicipid,omitempty"`
	KeyPair               string              `json:"keypair,omitempty"`
	KeyPairs              string              `json:"keypairs,omitempty"`
	UserData              string              `json:"userdata,omitempty"`
	Details               map[string]string   `json:"details"`
	AffinityGroup         []any               `json:"affinitygroup"`
	DisplayVM             bool                `json:"displayvm"`
	IsDynamicallyScalable bool                `json:"isdynamicallyscalable"`
	DeleteProtection      bool                `json:"deleteprotection"`
	BootMode              string              `json:"bootmode"`
	BootType              string              `json:"boottype"`
	Arch                  string              `json:"arch"`
	Tags                  []tagView           `json:"tags"`
	JobID                 string              `json:"jobid,omitempty"`
	JobStatus             int                 `json:"jobstatus,omitempty"`
	ownerView
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func vmOf(r cloud.Reader, vm *cloud.VM, withUserData bool) vmView {
	v := vmView{ID: vm.ID, Name: vm.Name, DisplayName: vm.DisplayName, InstanceName: vm.InstanceName, Created: date(vm.Created),
		State: string(vm.State), HAEnable: vm.HA, Group: vm.Group, GroupID: vm.GroupID, Password: vm.Password, ZoneID: vm.ZoneID, HostID: vm.HostID,
		TemplateID: vm.TemplateID, TemplateType: "USER", ServiceOfferingID: vm.ServiceOfferingID, RootDeviceType: "ROOT",
		SecurityGroup: []securityGroupView{}, Nic: make([]nicView, 0, len(vm.NICs)), Hypervisor: "Simulator",
		KeyPairs: joinComma(vm.KeyPairs), Details: map[string]string{}, AffinityGroup: []any{}, DisplayVM: true,
		BootMode: "legacy", BootType: "BIOS", Arch: "x86_64", Tags: tagsOf(r, vm.ID), ownerView: owner(r, vm.Owner)}
	if len(vm.KeyPairs) > 0 {
		v.KeyPair = vm.KeyPairs[0]
	}
	for k, d := range vm.Details {
		v.Details[k] = d
	}
	if withUserData {
		v.UserData = vm.UserData
	}
	if vm.State == cloud.VMRunning {
		v.CPUUsed = "10%"
	}
	if vm.JobID != "" {
		v.JobID = vm.JobID
	}
	if z, ok := r.Zone(vm.ZoneID); ok {
		v.ZoneName = z.Name
	}
	if h, ok := r.Host(vm.HostID); ok && vm.HostID != "" {
		v.HostName = h.Name
	}
	if iso, ok := r.Template(vm.ISOID); ok && vm.ISOID != "" {
		v.ISOID, v.ISOName, v.ISODisplayText = iso.ID, iso.Name, iso.DisplayText
	}
	if t, ok := r.Template(vm.TemplateID); ok {
		v.TemplateName, v.TemplateDisplayText, v.TemplateFormat, v.PasswordEnabled = t.Name, t.DisplayText, t.Format, t.PasswordEnabled
		v.GuestOSID, v.OSTypeID = t.OSTypeID, t.OSTypeID
		if os, ok := r.OSType(t.OSTypeID); ok {
			v.OSDisplayName = os.Description
		}
	}
	if so, ok := r.ServiceOffering(vm.ServiceOfferingID); ok {
		v.ServiceOfferingName, v.CPUNumber, v.CPUSpeed, v.Memory = so.Name, so.CPUs, so.CPUSpeed, so.MemoryMB
	}
	if u, ok := r.User(vm.UserID); ok {
		v.UserID, v.Username = u.ID, u.Username
	}
	for _, id := range vm.SecurityGroupIDs {
		if g, ok := r.SecurityGroup(id); ok {
			v.SecurityGroup = append(v.SecurityGroup, securityGroupOf(r, g, false))
		}
	}
	for i, n := range vm.NICs {
		v.Nic = append(v.Nic, nicOf(r, vm, i, n))
	}
	if ip, ok := r.StaticNATOf(vm.ID); ok {
		v.PublicIP, v.PublicIPID = ip.Address, ip.ID
	}
	for _, id := range vm.AffinityGroupIDs {
		if g, ok := r.AffinityGroup(id); ok {
			v.AffinityGroup = append(v.AffinityGroup, affinityGroupOf(r, g))
		}
	}
	return v
}

type volumeView struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Type             string    `json:"type"`
	State            string    `json:"state"`
	Size             int64     `json:"size"`
	VirtualSize      int64     `json:"virtualsize"`
	PhysicalSize     int64     `json:"physicalsize,omitempty"`
	VirtualMachineID string    `json:"virtualmachineid,omitempty"`
	VMName           string    `json:"vmname,omitempty"`
	VMDisplayName    string    `json:"vmdisplayname,omitempty"`
	VMState          string    `json:"vmstate,omitempty"`
	VMType           string    `json:"vmtype,omitempty"`
	DeviceID         *int64    `json:"deviceid,omitempty"`
	Attached         string    `json:"attached,omitempty"`
	ZoneID           string    `json:"zoneid"`
	ZoneName         string    `json:"zonename"`
	TemplateID       string    `json:"templateid,omitempty"`
	TemplateName     string    `json:"templatename,omitempty"`
	DiskOfferingID   string    `json:"diskofferingid,omitempty"`
	DiskOfferingName string    `json:"diskofferingname,omitempty"`
	DiskOfferingText string    `json:"diskofferingdisplaytext,omitempty"`
	ServiceOffering  string    `json:"serviceofferingid,omitempty"`
	SnapshotID       string    `json:"snapshotid,omitempty"`
	StorageType      string    `json:"storagetype"`
	Storage          string    `json:"storage,omitempty"`
	StorageID        string    `json:"storageid,omitempty"`
	Hypervisor       string    `json:"hypervisor"`
	ProvisioningType string    `json:"provisioningtype"`
	Created          string    `json:"created"`
	Destroyed        bool      `json:"destroyed"`
	IsExtractable    bool      `json:"isextractable"`
	DisplayVolume    bool      `json:"displayvolume"`
	QuiesceVM        bool      `json:"quiescevm"`
	SupportsSnapshot bool      `json:"supportsstoragesnapshot"`
	DeleteProtection bool      `json:"deleteprotection"`
	Tags             []tagView `json:"tags"`
	ownerView
}

// primaryStorageID is the id the simulator's one primary storage pool
// goes by (Storage "PS0").
const primaryStorageID = "ps0-0000-0000-0000-000000000000"

func volumeOf(r cloud.Reader, v *cloud.Volume) volumeView {
	out := volumeView{ID: v.ID, Name: v.Name, Type: v.Type, State: v.State, Size: v.SizeGB << 30, VirtualSize: v.SizeGB << 30,
		VirtualMachineID: v.VMID, ZoneID: v.ZoneID, TemplateID: v.TemplateID, StorageType: "shared", Hypervisor: "Simulator",
		ProvisioningType: "thin", Created: date(v.Created), DisplayVolume: true, IsExtractable: v.Type == "DATADISK",
		SnapshotID: v.SnapshotID, Tags: tagsOf(r, v.ID), ownerView: owner(r, v.Owner)}
	if v.State != cloud.VolumeAllocated {
		out.Storage, out.StorageID, out.PhysicalSize = "PS0", primaryStorageID, v.SizeGB<<30
	}
	if v.VMID != "" {
		d := cloud.DeviceOf(v)
		out.DeviceID = &d
		if !v.Attached.IsZero() {
			out.Attached = date(v.Attached)
		}
	}
	if z, ok := r.Zone(v.ZoneID); ok {
		out.ZoneName = z.Name
	}
	if vm, ok := r.VM(v.VMID); ok {
		out.VMName, out.VMDisplayName, out.VMState, out.VMType = vm.Name, vm.DisplayName, string(vm.State), "User"
		if v.Type == "ROOT" {
			out.ServiceOffering = vm.ServiceOfferingID
		}
	}
	if t, ok := r.Template(v.TemplateID); ok {
		out.TemplateName = t.Name
	}
	if o, ok := r.DiskOffering(v.DiskOfferingID); ok {
		out.DiskOfferingID, out.DiskOfferingName, out.DiskOfferingText = o.ID, o.Name, o.DisplayText
	}
	return out
}

type networkView struct {
	ID                          string               `json:"id"`
	Name                        string               `json:"name"`
	DisplayText                 string               `json:"displaytext"`
	BroadcastDomainType         string               `json:"broadcastdomaintype"`
	TrafficType                 string               `json:"traffictype"`
	Gateway                     string               `json:"gateway,omitempty"`
	Netmask                     string               `json:"netmask,omitempty"`
	CIDR                        string               `json:"cidr,omitempty"`
	ZoneID                      string               `json:"zoneid"`
	ZoneName                    string               `json:"zonename"`
	NetworkOfferingID           string               `json:"networkofferingid"`
	NetworkOfferingName         string               `json:"networkofferingname"`
	NetworkOfferingDisplayText  string               `json:"networkofferingdisplaytext"`
	NetworkOfferingAvailability string               `json:"networkofferingavailability"`
	IsSystem                    bool                 `json:"issystem"`
	State                       string               `json:"state"`
	Related                     string               `json:"related"`
	BroadcastURI                string               `json:"broadcasturi,omitempty"`
	DNS1                        string               `json:"dns1,omitempty"`
	Type                        string               `json:"type"`
	VLAN                        string               `json:"vlan,omitempty"`
	ACLType                     string               `json:"acltype"`
	Service                     []networkServiceView `json:"service"`
	CanUseForDeploy             bool                 `json:"canusefordeploy"`
	IsPersistent                bool                 `json:"ispersistent"`
	IsDefault                   bool                 `json:"isdefault"`
	DisplayNetwork              bool                 `json:"displaynetwork"`
	SpecifyIPRanges             bool                 `json:"specifyipranges"`
	RestartRequired             bool                 `json:"restartrequired"`
	RedundantRouter             bool                 `json:"redundantrouter"`
	EgressDefaultPolicy         bool                 `json:"egressdefaultpolicy"`
	Created                     string               `json:"created"`
	Tags                        []tagView            `json:"tags"`
	VPCID                       string               `json:"vpcid,omitempty"`
	VPCName                     string               `json:"vpcname,omitempty"`
	ACLID                       string               `json:"aclid,omitempty"`
	ACLName                     string               `json:"aclname,omitempty"`
	ownerView
}

func networkOf(r cloud.Reader, n *cloud.Network) networkView {
	v := networkView{ID: n.ID, Name: n.Name, DisplayText: n.DisplayText, BroadcastDomainType: "Vlan", TrafficType: n.TrafficType,
		Gateway: n.Gateway, Netmask: n.Netmask, CIDR: n.CIDR, ZoneID: n.ZoneID, NetworkOfferingID: n.OfferingID, State: n.State,
		Related: n.ID, BroadcastURI: n.VLAN, Type: n.Type, VLAN: n.VLAN, ACLType: "Account", Service: []networkServiceView{},
		CanUseForDeploy: true, DisplayNetwork: true, EgressDefaultPolicy: true, Created: date(n.Created), Tags: tagsOf(r, n.ID),
		ownerView: owner(r, n.Owner)}
	if n.Shared {
		v.ACLType, v.BroadcastDomainType, v.IsDefault = "Domain", "Native", true
	}
	if z, ok := r.Zone(n.ZoneID); ok {
		v.ZoneName, v.DNS1 = z.Name, z.DNS1
	}
	if o, ok := r.NetworkOffering(n.OfferingID); ok {
		ov := networkOfferingOf(o)
		v.NetworkOfferingName, v.NetworkOfferingDisplayText, v.NetworkOfferingAvailability = o.Name, o.DisplayText, ov.Availability
		v.Service, v.SpecifyIPRanges = ov.Service, o.SpecifyIPRanges
	}
	if vpc, ok := r.VPC(n.VPCID); ok {
		v.VPCID, v.VPCName = vpc.ID, vpc.Name
		if l, ok := r.NetworkACLList(n.ACLID); ok {
			v.ACLID, v.ACLName = l.ID, l.Name
		}
	}
	return v
}

type publicIPView struct {
	ID                        string    `json:"id"`
	IPAddress                 string    `json:"ipaddress"`
	Allocated                 string    `json:"allocated"`
	ZoneID                    string    `json:"zoneid"`
	ZoneName                  string    `json:"zonename"`
	IsSourceNAT               bool      `json:"issourcenat"`
	IsStaticNAT               bool      `json:"isstaticnat"`
	IsSystem                  bool      `json:"issystem"`
	ForVirtualNetwork         bool      `json:"forvirtualnetwork"`
	IsPortable                bool      `json:"isportable"`
	ForDisplay                bool      `json:"fordisplay"`
	HasRules                  bool      `json:"hasrules"`
	VLANName                  string    `json:"vlanname,omitempty"`
	AssociatedNetworkID       string    `json:"associatednetworkid,omitempty"`
	AssociatedNetworkName     string    `json:"associatednetworkname,omitempty"`
	NetworkID                 string    `json:"networkid,omitempty"`
	State                     string    `json:"state"`
	VirtualMachineID          string    `json:"virtualmachineid,omitempty"`
	VirtualMachineName        string    `json:"virtualmachinename,omitempty"`
	VirtualMachineDisplayName string    `json:"virtualmachinedisplayname,omitempty"`
	VMIPAddress               string    `json:"vmipaddress,omitempty"`
	Tags                      []tagView `json:"tags"`
	VPCID                     string    `json:"vpcid,omitempty"`
	VPCName                   string    `json:"vpcname,omitempty"`
	ownerView
}

func publicIPOf(r cloud.Reader, p *cloud.PublicIP) publicIPView {
	v := publicIPView{ID: p.ID, IPAddress: p.Address, Allocated: date(p.Allocated), ZoneID: p.ZoneID, IsSourceNAT: p.SourceNAT,
		IsStaticNAT: p.StaticNAT, ForVirtualNetwork: true, ForDisplay: !p.Hidden, VLANName: p.VLAN, AssociatedNetworkID: p.NetworkID,
		State: p.State, VirtualMachineID: p.VMID, VMIPAddress: p.VMIP, Tags: tagsOf(r, p.ID), ownerView: owner(r, p.Owner)}
	if vpc, ok := r.VPC(p.VPCID); ok {
		v.VPCID, v.VPCName = vpc.ID, vpc.Name
	}
	if z, ok := r.Zone(p.ZoneID); ok {
		v.ZoneName = z.Name
		v.NetworkID = z.PublicNetworkID
	}
	if n, ok := r.Network(p.NetworkID); ok {
		v.AssociatedNetworkName = n.Name
	}
	if vm, ok := r.VM(p.VMID); ok {
		v.VirtualMachineName, v.VirtualMachineDisplayName = vm.Name, vm.DisplayName
	}
	return v
}

type keyPairView struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Fingerprint    string `json:"fingerprint"`
	PrivateKey     string `json:"privatekey,omitempty"`
	HasAnnotations bool   `json:"hasannotations"`
	ownerView
}

func keyPairOf(r cloud.Reader, k *cloud.SSHKeyPair) keyPairView {
	return keyPairView{ID: k.ID, Name: k.Name, Fingerprint: k.Fingerprint, ownerView: owner(r, k.Owner)}
}

type userView struct {
	ID           string `json:"id"`
	Username     string `json:"username"`
	FirstName    string `json:"firstname"`
	LastName     string `json:"lastname"`
	Email        string `json:"email"`
	Created      string `json:"created"`
	State        string `json:"state"`
	Account      string `json:"account"`
	AccountID    string `json:"accountid"`
	AccountType  int    `json:"accounttype"`
	RoleType     string `json:"roletype"`
	RoleName     string `json:"rolename"`
	Domain       string `json:"domain"`
	DomainID     string `json:"domainid"`
	Timezone     string `json:"timezone,omitempty"`
	APIKey       string `json:"apikey,omitempty"`
	IsDefault    bool   `json:"isdefault"`
	Is2FAEnabled bool   `json:"is2faenabled"`
	UserSource   string `json:"usersource"`
}

func roleOf(t cloud.AccountType) (string, string) {
	switch t {
	case cloud.AccountRootAdmin:
		return "Admin", "Root Admin"
	case cloud.AccountDomainAdmin:
		return "DomainAdmin", "Domain Admin"
	}
	return "User", "User"
}

func userOf(r cloud.Reader, u *cloud.User, isDefault bool) userView {
	v := userView{ID: u.ID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		Created: date(u.Created), State: u.State, AccountID: u.AccountID, DomainID: u.DomainID, Timezone: u.Timezone,
		APIKey: u.APIKey, IsDefault: isDefault, UserSource: "native"}
	if a, ok := r.Account(u.AccountID); ok {
		v.Account, v.AccountType = a.Name, int(a.Type)
		v.RoleType, v.RoleName = roleOf(a.Type)
	}
	if d, ok := r.Domain(u.DomainID); ok {
		v.Domain = d.Name
	}
	return v
}

type accountView struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	AccountType int        `json:"accounttype"`
	RoleType    string     `json:"roletype"`
	RoleName    string     `json:"rolename"`
	Domain      string     `json:"domain"`
	DomainID    string     `json:"domainid"`
	DomainPath  string     `json:"domainpath"`
	State       string     `json:"state"`
	Created     string     `json:"created"`
	IsDefault   bool       `json:"isdefault"`
	User        []userView `json:"user"`
	usageView
	Groups []string `json:"groups"`
}

// usageView is what an account (or a project's account) uses of its
// limits, as accounts and projects show it.
type usageView struct {
	VMTotal                 int64  `json:"vmtotal"`
	VMLimit                 string `json:"vmlimit"`
	VMAvailable             string `json:"vmavailable"`
	VMRunning               int    `json:"vmrunning"`
	VMStopped               int    `json:"vmstopped"`
	IPTotal                 int64  `json:"iptotal"`
	IPLimit                 string `json:"iplimit"`
	IPAvailable             string `json:"ipavailable"`
	VolumeTotal             int64  `json:"volumetotal"`
	VolumeLimit             string `json:"volumelimit"`
	VolumeAvailable         string `json:"volumeavailable"`
	SnapshotTotal           int64  `json:"snapshottotal"`
	SnapshotLimit           string `json:"snapshotlimit"`
	SnapshotAvailable       string `json:"snapshotavailable"`
	TemplateTotal           int64  `json:"templatetotal"`
	TemplateLimit           string `json:"templatelimit"`
	TemplateAvailable       string `json:"templateavailable"`
	NetworkTotal            int64  `json:"networktotal"`
	NetworkLimit            string `json:"networklimit"`
	NetworkAvailable        string `json:"networkavailable"`
	VPCTotal                int64  `json:"vpctotal"`
	VPCLimit                string `json:"vpclimit"`
	VPCAvailable            string `json:"vpcavailable"`
	CPUTotal                int64  `json:"cputotal"`
	CPULimit                string `json:"cpulimit"`
	CPUAvailable            string `json:"cpuavailable"`
	MemoryTotal             int64  `json:"memorytotal"`
	MemoryLimit             string `json:"memorylimit"`
	MemoryAvailable         string `json:"memoryavailable"`
	PrimaryStorageTotal     int64  `json:"primarystoragetotal"`
	PrimaryStorageLimit     string `json:"primarystoragelimit"`
	PrimaryStorageAvailable string `json:"primarystorageavailable"`
}

func usageOf(r cloud.Reader, a *cloud.Account) usageView {
	var v usageView
	use := r.Usage(a.ID)
	for _, vm := range r.VMsOf(a.ID) {
		switch vm.State {
		case cloud.VMRunning:
			v.VMRunning++
		case cloud.VMStopped:
			v.VMStopped++
		}
	}
	set := func(res cloud.Resource, total *int64, lim, avail *string) {
		*total = use[res]
		*lim, *avail = limitStrings(r.LimitOf(a, res), *total)
	}
	set(cloud.ResUserVM, &v.VMTotal, &v.VMLimit, &v.VMAvailable)
	set(cloud.ResPublicIP, &v.IPTotal, &v.IPLimit, &v.IPAvailable)
	set(cloud.ResVolume, &v.VolumeTotal, &v.VolumeLimit, &v.VolumeAvailable)
	set(cloud.ResSnapshot, &v.SnapshotTotal, &v.SnapshotLimit, &v.SnapshotAvailable)
	set(cloud.ResTemplate, &v.TemplateTotal, &v.TemplateLimit, &v.TemplateAvailable)
	set(cloud.ResNetwork, &v.NetworkTotal, &v.NetworkLimit, &v.NetworkAvailable)
	set(cloud.ResVPC, &v.VPCTotal, &v.VPCLimit, &v.VPCAvailable)
	set(cloud.ResCPU, &v.CPUTotal, &v.CPULimit, &v.CPUAvailable)
	set(cloud.ResMemory, &v.MemoryTotal, &v.MemoryLimit, &v.MemoryAvailable)
	set(cloud.ResPrimaryStorage, &v.PrimaryStorageTotal, &v.PrimaryStorageLimit, &v.PrimaryStorageAvailable)
	return v
}

func limitStrings(lim, used int64) (string, string) {
	if lim < 0 {
		return "Unlimited", "Unlimited"
	}
	return strconv.FormatInt(lim, 10), strconv.FormatInt(max(lim-used, 0), 10)
}

func accountOf(r cloud.Reader, a *cloud.Account, isDefault bool) accountView {
	v := accountView{ID: a.ID, Name: a.Name, AccountType: int(a.Type), DomainID: a.DomainID, State: a.State,
		Created: date(a.Created), IsDefault: isDefault, User: []userView{}, Groups: []string{}}
	v.RoleType, v.RoleName = roleOf(a.Type)
	if d, ok := r.Domain(a.DomainID); ok {
		v.Domain, v.DomainPath = d.Name, d.Path
	}
	for _, u := range r.Users() {
		if u.AccountID == a.ID {
			v.User = append(v.User, userOf(r, u, isDefault))
		}
	}
	v.usageView = usageOf(r, a)
	return v
}

type domainView struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Path             string `json:"path"`
	Level            int    `json:"level"`
	ParentDomainID   string `json:"parentdomainid,omitempty"`
	ParentDomainName string `json:"parentdomainname,omitempty"`
	HasChild         bool   `json:"haschild"`
	State            string `json:"state"`
	Created          string `json:"created"`
}

func domainOf(r cloud.Reader, d *cloud.Domain) domainView {
	v := domainView{ID: d.ID, Name: d.Name, Path: d.Path, Level: d.Level, ParentDomainID: d.ParentID, State: "Active", Created: date(d.Created)}
	if p, ok := r.Domain(d.ParentID); ok {
		v.ParentDomainName = p.Name
	}
	for _, x := range r.Domains() {
		if x.ParentID == d.ID {
			v.HasChild = true
			break
		}
	}
	return v
}

type eventView struct {
	ID           string `json:"id"`
	Type         string `json:"type"`
	Level        string `json:"level"`
	Description  string `json:"description"`
	State        string `json:"state"`
	Created      string `json:"created"`
	Username     string `json:"username,omitempty"`
	ResourceID   string `json:"resourceid,omitempty"`
	ResourceType string `json:"resourcetype,omitempty"`
	Archived     bool   `json:"archived"`
	ownerView
}

func eventOf(r cloud.Reader, e *cloud.Event) eventView {
	v := eventView{ID: e.ID, Type: e.Type, Level: e.Level, Description: e.Description, State: e.State, Created: date(e.Created),
		ResourceID: e.ResourceID, ResourceType: string(e.Kind), ownerView: owner(r, e.Owner)}
	if u, ok := r.User(e.UserID); ok {
		v.Username = u.Username
	}
	return v
}

type resourceLimitView struct {
	ResourceType     string `json:"resourcetype"`
	ResourceTypeName string `json:"resourcetypename"`
	Max              int64  `json:"max"`
	ownerView
}

type userKeysView struct {
	APIKey    string `json:"apikey"`
	SecretKey string `json:"secretkey"`
}

type mockView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Count     int    `json:"count,omitempty"`
	ZoneID    string `json:"zoneid,omitempty"`
	PodID     string `json:"podid,omitempty"`
	ClusterID string `json:"clusterid,omitempty"`
	HostID    string `json:"hostid,omitempty"`
	Value     string `json:"value,omitempty"`
	Active    bool   `json:"active"`
}

func mockOf(m *cloud.Mock) mockView {
	return mockView{ID: m.ID, Name: m.Command, Count: m.Count, ZoneID: m.ZoneID, PodID: m.PodID, ClusterID: m.ClusterID,
		HostID: m.HostID, Value: m.Value, Active: m.Active}
}
