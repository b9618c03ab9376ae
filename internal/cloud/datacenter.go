package cloud

import (
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"time"

	"sigs.k8s.io/yaml"
)

//go:embed default-datacenter.yaml
var defaultDatacenterYAML []byte

// DefaultDatacenterYAML returns the built-in data center description, the
// one `stratus datacenter example` prints for users to edit.
func DefaultDatacenterYAML() []byte { return append([]byte(nil), defaultDatacenterYAML...) }

// Datacenter is the description of a simulated data center: what exists on
// first start, and how the simulator behaves (timings, faults). It is read
// from YAML; field names are the YAML keys.
type Datacenter struct {
	// Name labels the description (for logs).
	Name string `json:"name,omitempty"`
	// Simulator holds behaviour: timings and standing faults.
	Simulator SimulatorSpec `json:"simulator"`
	// Admin is the root admin of domain ROOT.
	Admin AdminSpec `json:"admin"`
	// Zones are the availability zones, in listing order.
	Zones            []ZoneSpec            `json:"zones"`
	ServiceOfferings []ServiceOfferingSpec `json:"serviceOfferings"`
	DiskOfferings    []DiskOfferingSpec    `json:"diskOfferings"`
	NetworkOfferings []NetworkOfferingSpec `json:"networkOfferings"`
	OSTypes          []OSTypeSpec          `json:"osTypes"`
	Templates        []TemplateSpec        `json:"templates"`
	// Limits are the default resource limits of new accounts, by resource
	// name (user_vm, public_ip, volume, network, cpu, memory, …); -1 or
	// absent means unlimited.
	Limits map[string]int64 `json:"limits,omitempty"`
	// NodeGroups are the cluster autoscaler's groups of VMs that join the
	// cluster as nodes (internal/kube/cloudprovider; the
	// kube-system/stratus-autoscaler ConfigMap may add more or replace one
	// of the same name).
	NodeGroups []NodeGroupSpec `json:"nodeGroups,omitempty"`
}

// NodeGroupSpec is a node group: VMs named <name>-<random> of an offering
// and template in a zone, between min and max of them.
type NodeGroupSpec struct {
	Name     string `json:"name"`
	Zone     string `json:"zone"`     // a zone's name
	Offering string `json:"offering"` // a service offering's name
	Template string `json:"template"` // a template's name
	Min      int    `json:"min"`
	Max      int    `json:"max"`
	// SecurityGroups (names) for zones with security groups.
	SecurityGroups []string `json:"securityGroups,omitempty"`
}

// SimulatorSpec is simulated behaviour.
type SimulatorSpec struct {
	// Timings are how long each agent command takes; zero (the default)
	// answers at once.
	Timings Timings `json:"timings"`
	// Faults are standing fault rules, like configureSimulator calls made
	// at start.
	Faults []FaultSpec `json:"faults,omitempty"`
	// InstanceNameSuffix ends VM instance names (i-2-5-<suffix>); "VM" by default.
	InstanceNameSuffix string `json:"instanceNameSuffix,omitempty"`
	// Expiry is how long finished jobs, events and destroyed VMs are kept
	// (CloudStack's job.expire.minutes, event.purge.*, expunge.*).
	Expiry ExpirySpec `json:"expiry,omitzero"`
}

// Timings are the durations of simulated agent commands.
type Timings struct {
	Start   Duration `json:"start,omitempty"`
	Stop    Duration `json:"stop,omitempty"`
	Reboot  Duration `json:"reboot,omitempty"`
	Migrate Duration `json:"migrate,omitempty"`
	Expunge Duration `json:"expunge,omitempty"`
}

// Duration is a time.Duration written as "2s" in YAML.
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "2s", "150ms" or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v, err := time.ParseDuration(string(b[1 : len(b)-1]))
		if err != nil {
			return err
		}
		d.Duration = v
		return nil
	}
	var n int64
	if _, err := fmt.Sscan(string(b), &n); err != nil {
		return fmt.Errorf("duration %s: %w", b, err)
	}
	d.Duration = time.Duration(n)
	return nil
}

// FaultSpec is a standing fault: which agent command, where, what happens.
type FaultSpec struct {
	// Command is the agent command's name: StartCommand, StopCommand,
	// RebootCommand, MigrateCommand, CreateCommand, PingCommand.
	Command string `json:"command"`
	// Value is configureSimulator's value: "result:fail", "result:fault",
	// "wait:5000" (milliseconds).
	Value string `json:"value"`
	// Count caps how many times the fault fires; 0 means always.
	Count int `json:"count,omitempty"`
	// Zone, Pod, Cluster, Host name where the fault applies (empty: anywhere).
	Zone    string `json:"zone,omitempty"`
	Pod     string `json:"pod,omitempty"`
	Cluster string `json:"cluster,omitempty"`
	Host    string `json:"host,omitempty"`
}

// AdminSpec is the root admin's login.
type AdminSpec struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// ZoneSpec describes a zone.
type ZoneSpec struct {
	Name string `json:"name"`
	// NetworkType is Basic or Advanced.
	NetworkType string `json:"networkType"`
	// SecurityGroups enables security groups (Basic zones).
	SecurityGroups bool   `json:"securityGroups,omitempty"`
	DNS1           string `json:"dns1,omitempty"`
	InternalDNS1   string `json:"internalDns1,omitempty"`
	// GuestCIDR is the default CIDR of isolated guest networks (Advanced).
	GuestCIDR string `json:"guestCidr,omitempty"`
	// VLAN is the guest VLAN range, "100-200" (Advanced).
	VLAN string `json:"vlan,omitempty"`
	// PublicIPRanges are the zone's public addresses (Advanced).
	PublicIPRanges []IPRangeSpec `json:"publicIpRanges,omitempty"`
	Pods           []PodSpec     `json:"pods"`
}

// IPRangeSpec is a range of addresses with its gateway and netmask.
type IPRangeSpec struct {
	Gateway string `json:"gateway"`
	Netmask string `json:"netmask"`
	StartIP string `json:"startIp"`
	EndIP   string `json:"endIp"`
	VLAN    string `json:"vlan,omitempty"`
}

// PodSpec describes a pod.
type PodSpec struct {
	Name    string `json:"name"`
	Gateway string `json:"gateway"`
	Netmask string `json:"netmask"`
	StartIP string `json:"startIp"`
	EndIP   string `json:"endIp"`
	// GuestIPRanges are the guest addresses of a Basic zone's pod.
	GuestIPRanges []IPRangeSpec `json:"guestIpRanges,omitempty"`
	Clusters      []ClusterSpec `json:"clusters"`
}

// ClusterSpec describes a cluster.
type ClusterSpec struct {
	Name  string     `json:"name"`
	Hosts []HostSpec `json:"hosts"`
}

// HostSpec describes one host, or Count identical hosts named Name-0,
// Name-1, ….
type HostSpec struct {
	Name string `json:"name"`
	// Count makes this many hosts; 0 or 1 means one, named Name.
	Count int `json:"count,omitempty"`
	// CPUs is the number of cores; CPUSpeed their speed in MHz.
	CPUs     int `json:"cpus"`
	CPUSpeed int `json:"cpuSpeed"`
	// Memory in MiB.
	Memory int64 `json:"memory"`
	// State is Up (default) or Down.
	State string `json:"state,omitempty"`
}

// ServiceOfferingSpec describes a compute offering.
type ServiceOfferingSpec struct {
	Name        string `json:"name"`
	DisplayText string `json:"displayText,omitempty"`
	CPUs        int    `json:"cpus"`
	CPUSpeed    int    `json:"cpuSpeed"`
	// Memory in MiB.
	Memory int `json:"memory"`
	// HA restarts the VM on another host when its host goes down.
	HA bool `json:"ha,omitempty"`
	// RootDiskSize in GiB (0: the template's size).
	RootDiskSize int64 `json:"rootDiskSize,omitempty"`
}

// DiskOfferingSpec describes a disk offering.
type DiskOfferingSpec struct {
	Name        string `json:"name"`
	DisplayText string `json:"displayText,omitempty"`
	// Size in GiB; 0 with Custom means the user chooses.
	Size   int64 `json:"size"`
	Custom bool  `json:"custom,omitempty"`
}

// NetworkOfferingSpec describes a network offering.
type NetworkOfferingSpec struct {
	Name        string `json:"name"`
	DisplayText string `json:"displayText,omitempty"`
	// GuestIPType is Isolated, Shared or L2.
	GuestIPType string `json:"guestIpType"`
	// Services the offering provides (Dhcp, Dns, SourceNat, StaticNat,
	// Firewall, SecurityGroup, UserData, …).
	Services []string `json:"services,omitempty"`
	// SpecifyVLAN and SpecifyIPRanges as in CloudStack.
	SpecifyVLAN     bool   `json:"specifyVlan,omitempty"`
	SpecifyIPRanges bool   `json:"specifyIpRanges,omitempty"`
	State           string `json:"state,omitempty"`
	IsDefault       bool   `json:"isDefault,omitempty"`
	// ForVPC makes an offering for VPC tiers (Isolated only).
	ForVPC bool `json:"forVpc,omitempty"`
}

// OSTypeSpec is a guest OS type.
type OSTypeSpec struct {
	Description string `json:"description"`
	Category    string `json:"category"`
}

// TemplateSpec is a template available in every zone.
type TemplateSpec struct {
	Name        string `json:"name"`
	DisplayText string `json:"displayText,omitempty"`
	// OSType is the description of one of OSTypes.
	OSType string `json:"osType"`
	// Size in GiB.
	Size            int64  `json:"size"`
	Format          string `json:"format,omitempty"`
	Featured        bool   `json:"featured,omitempty"`
	PasswordEnabled bool   `json:"passwordEnabled,omitempty"`
}

// LoadDatacenter reads a data center description from path, or the
// built-in default when path is "".
func LoadDatacenter(path string) (*Datacenter, error) {
	b := defaultDatacenterYAML
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("datacenter: %w", err)
		}
	}
	dc, err := ParseDatacenter(b)
	if err != nil {
		if path == "" {
			path = "built-in default"
		}
		return nil, fmt.Errorf("datacenter %s: %w", path, err)
	}
	return dc, nil
}

// ParseDatacenter decodes and checks a YAML data center description.
func ParseDatacenter(b []byte) (*Datacenter, error) {
	dc := new(Datacenter)
	if err := yaml.UnmarshalStrict(b, dc); err != nil {
		return nil, err
	}
	if err := dc.Validate(); err != nil {
		return nil, err
	}
	return dc, nil
}

// Validate checks that the description is complete and consistent.
func (dc *Datacenter) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if dc.Admin.Username == "" || dc.Admin.Password == "" {
		bad("admin: username and password are required")
	}
	if err := dc.Simulator.Expiry.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(dc.Zones) == 0 {
		bad("zones: at least one zone is required")
	}
	seen := map[string]bool{}
	for _, z := range dc.Zones {
		if z.Name == "" || seen[z.Name] {
			bad("zone %q: names must be set and unique", z.Name)
		}
		seen[z.Name] = true
		switch z.NetworkType {
		case "Basic", "Advanced":
		default:
			bad("zone %q: networkType must be Basic or Advanced", z.Name)
		}
		if z.NetworkType == "Advanced" {
			if _, err := netip.ParsePrefix(z.GuestCIDR); err != nil {
				bad("zone %q: guestCidr: %v", z.Name, err)
			}
		}
		for _, r := range z.PublicIPRanges {
			if err := r.check(); err != nil {
				bad("zone %q: public range: %v", z.Name, err)
			}
		}
		if len(z.Pods) == 0 {
			bad("zone %q: at least one pod is required", z.Name)
		}
		guest := 0
		for _, p := range z.Pods {
			guest += len(p.GuestIPRanges)
			for _, r := range p.GuestIPRanges {
				if err := r.check(); err != nil {
					bad("pod %q: guest range: %v", p.Name, err)
				}
			}
			for _, c := range p.Clusters {
				for _, h := range c.Hosts {
					if h.CPUs <= 0 || h.CPUSpeed <= 0 || h.Memory <= 0 {
						bad("host %q: cpus, cpuSpeed and memory must be positive", h.Name)
					}
					if h.State != "" && h.State != "Up" && h.State != "Down" {
						bad("host %q: state must be Up or Down", h.Name)
					}
				}
			}
		}
		if z.NetworkType == "Basic" && guest == 0 {
			bad("zone %q: a Basic zone needs guestIpRanges in a pod", z.Name)
		}
	}
	if len(dc.ServiceOfferings) == 0 {
		bad("serviceOfferings: at least one is required")
	}
	for _, o := range dc.ServiceOfferings {
		if o.CPUs <= 0 || o.CPUSpeed <= 0 || o.Memory <= 0 {
			bad("service offering %q: cpus, cpuSpeed and memory must be positive", o.Name)
		}
	}
	os := map[string]bool{}
	for _, o := range dc.OSTypes {
		os[o.Description] = true
	}
	for _, t := range dc.Templates {
		if !os[t.OSType] {
			bad("template %q: osType %q is not in osTypes", t.Name, t.OSType)
		}
	}
	for _, n := range dc.NetworkOfferings {
		switch n.GuestIPType {
		case "Isolated", "Shared", "L2":
		default:
			bad("network offering %q: guestIpType must be Isolated, Shared or L2", n.Name)
		}
		if n.ForVPC && n.GuestIPType != "Isolated" {
			bad("network offering %q: forVpc needs guestIpType Isolated", n.Name)
		}
	}
	for _, f := range dc.Simulator.Faults {
		if _, err := parseFaultValue(f.Value); err != nil {
			bad("fault %s: %v", f.Command, err)
		}
	}
	for name := range dc.Limits {
		if _, ok := resourceByName(name); !ok {
			bad("limits: unknown resource %q", name)
		}
	}
	dc.validateNodeGroups(seen, bad)
	return errors.Join(errs...)
}

// validateNodeGroups checks that each node group names a zone, offering
// and template of the description, with 0 ≤ min ≤ max ≥ 1.
func (dc *Datacenter) validateNodeGroups(zones map[string]bool, bad func(string, ...any)) {
	offerings, templates, names := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, o := range dc.ServiceOfferings {
		offerings[o.Name] = true
	}
	for _, t := range dc.Templates {
		templates[t.Name] = true
	}
	for _, g := range dc.NodeGroups {
		if !nodeGroupName.MatchString(g.Name) || names[g.Name] {
			bad("node group %q: names must be unique lower-case DNS labels of at most 53 characters", g.Name)
		}
		names[g.Name] = true
		if !zones[g.Zone] {
			bad("node group %q: zone %q is not in zones", g.Name, g.Zone)
		}
		if !offerings[g.Offering] {
			bad("node group %q: offering %q is not in serviceOfferings", g.Name, g.Offering)
		}
		if !templates[g.Template] {
			bad("node group %q: template %q is not in templates", g.Name, g.Template)
		}
		if g.Min < 0 || g.Max < 1 || g.Min > g.Max {
			bad("node group %q: want 0 <= min <= max and max >= 1 (min %d, max %d)", g.Name, g.Min, g.Max)
		}
	}
}

// nodeGroupName leaves room in a 63-character label for "-" and 8 hex
// digits (the VMs' names).
var nodeGroupName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,51}[a-z0-9])?$`)

func (r IPRangeSpec) check() error {
	s, err := netip.ParseAddr(r.StartIP)
	if err != nil {
		return err
	}
	e, err := netip.ParseAddr(r.EndIP)
	if err != nil {
		return err
	}
	if !s.Is4() || !e.Is4() || e.Less(s) {
		return fmt.Errorf("%s-%s is not an IPv4 range", r.StartIP, r.EndIP)
	}
	if _, err := netip.ParseAddr(r.Gateway); err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if _, err := netip.ParseAddr(r.Netmask); err != nil {
		return fmt.Errorf("netmask: %w", err)
	}
	return nil
}
