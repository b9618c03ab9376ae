package gce

// The GCE v1 resources the gateway serves, as they go on the wire: field
// names as in the compute v1 discovery document, 64-bit integers as JSON
// strings, every field optional except where GCE always sends it.

// Zone is compute#zone.
type Zone struct {
	Kind                  string   `json:"kind"`
	ID                    uint64   `json:"id,string"`
	CreationTimestamp     string   `json:"creationTimestamp,omitempty"`
	Name                  string   `json:"name"`
	Description           string   `json:"description,omitempty"`
	Status                string   `json:"status"`
	Region                string   `json:"region"`
	SelfLink              string   `json:"selfLink"`
	AvailableCPUPlatforms []string `json:"availableCpuPlatforms,omitempty"`
	SupportsPzs           bool     `json:"supportsPzs"`
}

// Quota is one quota of a region or project.
type Quota struct {
	Metric string  `json:"metric"`
	Limit  float64 `json:"limit"`
	Usage  float64 `json:"usage"`
}

// Region is compute#region.
type Region struct {
	Kind              string   `json:"kind"`
	ID                uint64   `json:"id,string"`
	CreationTimestamp string   `json:"creationTimestamp,omitempty"`
	Name              string   `json:"name"`
	Description       string   `json:"description,omitempty"`
	Status            string   `json:"status"`
	Zones             []string `json:"zones"`
	Quotas            []Quota  `json:"quotas"`
	SelfLink          string   `json:"selfLink"`
	SupportsPzs       bool     `json:"supportsPzs"`
}

// MachineType is compute#machineType.
type MachineType struct {
	Kind                         string `json:"kind"`
	ID                           uint64 `json:"id,string"`
	CreationTimestamp            string `json:"creationTimestamp,omitempty"`
	Name                         string `json:"name"`
	Description                  string `json:"description"`
	GuestCPUs                    int64  `json:"guestCpus"`
	MemoryMb                     int64  `json:"memoryMb"`
	ImageSpaceGb                 int64  `json:"imageSpaceGb"`
	MaximumPersistentDisks       int64  `json:"maximumPersistentDisks"`
	MaximumPersistentDisksSizeGb int64  `json:"maximumPersistentDisksSizeGb,string"`
	Zone                         string `json:"zone"`
	SelfLink                     string `json:"selfLink"`
	IsSharedCPU                  bool   `json:"isSharedCpu"`
	// Deprecated is ACTIVE on every machine type: gcloud's machine-types
	// list filters on deprecated.state and warns when no resource has one.
	Deprecated *Deprecated `json:"deprecated,omitempty"`
}

// Deprecated is a resource's deprecation status.
type Deprecated struct {
	State       string `json:"state,omitempty"`
	Replacement string `json:"replacement,omitempty"`
}

// GuestOSFeature is one feature of an image.
type GuestOSFeature struct {
	Type string `json:"type"`
}

// Image is compute#image.
type Image struct {
	Kind              string            `json:"kind"`
	ID                uint64            `json:"id,string"`
	CreationTimestamp string            `json:"creationTimestamp,omitempty"`
	Name              string            `json:"name"`
	Description       string            `json:"description,omitempty"`
	SourceType        string            `json:"sourceType"`
	Status            string            `json:"status"`
	ArchiveSizeBytes  int64             `json:"archiveSizeBytes,string"`
	DiskSizeGb        int64             `json:"diskSizeGb,string"`
	Family            string            `json:"family,omitempty"`
	Architecture      string            `json:"architecture,omitempty"`
	Deprecated        *Deprecated       `json:"deprecated,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	LabelFingerprint  string            `json:"labelFingerprint,omitempty"`
	GuestOSFeatures   []GuestOSFeature  `json:"guestOsFeatures,omitempty"`
	StorageLocations  []string          `json:"storageLocations,omitempty"`
	SelfLink          string            `json:"selfLink"`
}

// ImageFamilyView is compute#imageFamilyView.
type ImageFamilyView struct {
	Image *Image `json:"image"`
}

// FirewallRule is one allowed or denied entry of a firewall.
type FirewallRule struct {
	IPProtocol string   `json:"IPProtocol"`
	Ports      []string `json:"ports,omitempty"`
}

// LogConfig is a firewall's logging setting.
type LogConfig struct {
	Enable bool `json:"enable"`
}

// Firewall is compute#firewall.
type Firewall struct {
	Kind                  string         `json:"kind,omitempty"`
	ID                    uint64         `json:"id,string,omitempty"`
	CreationTimestamp     string         `json:"creationTimestamp,omitempty"`
	Name                  string         `json:"name"`
	Description           string         `json:"description,omitempty"`
	Network               string         `json:"network,omitempty"`
	Priority              *int64         `json:"priority,omitempty"`
	SourceRanges          []string       `json:"sourceRanges,omitempty"`
	DestinationRanges     []string       `json:"destinationRanges,omitempty"`
	SourceTags            []string       `json:"sourceTags,omitempty"`
	TargetTags            []string       `json:"targetTags,omitempty"`
	SourceServiceAccounts []string       `json:"sourceServiceAccounts,omitempty"`
	TargetServiceAccounts []string       `json:"targetServiceAccounts,omitempty"`
	Allowed               []FirewallRule `json:"allowed,omitempty"`
	Denied                []FirewallRule `json:"denied,omitempty"`
	Direction             string         `json:"direction,omitempty"`
	LogConfig             *LogConfig     `json:"logConfig,omitempty"`
	Disabled              *bool          `json:"disabled,omitempty"`
	SelfLink              string         `json:"selfLink,omitempty"`
}

// Network is compute#network.
type Network struct {
	Kind                                  string         `json:"kind"`
	ID                                    uint64         `json:"id,string"`
	CreationTimestamp                     string         `json:"creationTimestamp,omitempty"`
	Name                                  string         `json:"name"`
	Description                           string         `json:"description,omitempty"`
	AutoCreateSubnetworks                 bool           `json:"autoCreateSubnetworks"`
	RoutingConfig                         *RoutingConfig `json:"routingConfig,omitempty"`
	NetworkFirewallPolicyEnforcementOrder string         `json:"networkFirewallPolicyEnforcementOrder,omitempty"`
	SelfLink                              string         `json:"selfLink"`
}

// RoutingConfig is a network's routing mode.
type RoutingConfig struct {
	RoutingMode string `json:"routingMode"`
}

// MetadataItem is one key/value of metadata.
type MetadataItem struct {
	Key   string  `json:"key"`
	Value *string `json:"value,omitempty"`
}

// Metadata is instance or project metadata.
type Metadata struct {
	Kind        string         `json:"kind,omitempty"`
	Fingerprint string         `json:"fingerprint,omitempty"`
	Items       []MetadataItem `json:"items,omitempty"`
}

// Tags are an instance's network tags.
type Tags struct {
	Items       []string `json:"items,omitempty"`
	Fingerprint string   `json:"fingerprint,omitempty"`
}

// AccessConfig is an external address of a network interface.
type AccessConfig struct {
	Kind        string `json:"kind,omitempty"`
	Name        string `json:"name,omitempty"`
	Type        string `json:"type,omitempty"`
	NatIP       string `json:"natIP,omitempty"`
	NetworkTier string `json:"networkTier,omitempty"`
}

// NetworkInterface is an instance's NIC.
type NetworkInterface struct {
	Kind          string         `json:"kind,omitempty"`
	Name          string         `json:"name,omitempty"`
	Network       string         `json:"network,omitempty"`
	Subnetwork    string         `json:"subnetwork,omitempty"`
	NetworkIP     string         `json:"networkIP,omitempty"`
	AccessConfigs []AccessConfig `json:"accessConfigs,omitempty"`
	Fingerprint   string         `json:"fingerprint,omitempty"`
	StackType     string         `json:"stackType,omitempty"`
}

// InitializeParams are a new boot disk's parameters.
type InitializeParams struct {
	DiskName    string            `json:"diskName,omitempty"`
	SourceImage string            `json:"sourceImage,omitempty"`
	DiskSizeGb  int64             `json:"diskSizeGb,omitempty,string"`
	DiskType    string            `json:"diskType,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// AttachedDisk is a disk of an instance.
type AttachedDisk struct {
	Kind             string            `json:"kind,omitempty"`
	Type             string            `json:"type,omitempty"`
	Mode             string            `json:"mode,omitempty"`
	Source           string            `json:"source,omitempty"`
	DeviceName       string            `json:"deviceName,omitempty"`
	Index            *int64            `json:"index,omitempty"`
	Boot             bool              `json:"boot,omitempty"`
	AutoDelete       bool              `json:"autoDelete,omitempty"`
	Interface        string            `json:"interface,omitempty"`
	DiskSizeGb       int64             `json:"diskSizeGb,omitempty,string"`
	InitializeParams *InitializeParams `json:"initializeParams,omitempty"`
	Licenses         []string          `json:"licenses,omitempty"`
	Architecture     string            `json:"architecture,omitempty"`
}

// ServiceAccount is an instance's service account.
type ServiceAccount struct {
	Email  string   `json:"email"`
	Scopes []string `json:"scopes,omitempty"`
}

// Scheduling is an instance's scheduling options. Preemptible is a
// pointer so that setScheduling can tell "false" from "not given".
type Scheduling struct {
	OnHostMaintenance         string            `json:"onHostMaintenance,omitempty"`
	AutomaticRestart          *bool             `json:"automaticRestart,omitempty"`
	Preemptible               *bool             `json:"preemptible,omitempty"`
	ProvisioningModel         string            `json:"provisioningModel,omitempty"`
	InstanceTerminationAction string            `json:"instanceTerminationAction,omitempty"`
	MinNodeCpus               int64             `json:"minNodeCpus,omitempty"`
	NodeAffinities            []NodeAffinity    `json:"nodeAffinities,omitempty"`
	MaxRunDuration            *Duration         `json:"maxRunDuration,omitempty"`
	TerminationTime           string            `json:"terminationTime,omitempty"`
	LocalSsdRecoveryTimeout   *Duration         `json:"localSsdRecoveryTimeout,omitempty"`
	GracefulShutdown          *GracefulShutdown `json:"gracefulShutdown,omitempty"`
}

// NodeAffinity is one sole-tenant node affinity of a scheduling.
type NodeAffinity struct {
	Key      string   `json:"key,omitempty"`
	Operator string   `json:"operator,omitempty"`
	Values   []string `json:"values,omitempty"`
}

// Duration is GCE's duration: seconds (an int64, as a string) and nanos.
type Duration struct {
	Seconds int64 `json:"seconds,string"`
	Nanos   int64 `json:"nanos,omitempty"`
}

// GracefulShutdown is a scheduling's graceful shutdown setting.
type GracefulShutdown struct {
	Enabled     *bool     `json:"enabled,omitempty"`
	MaxDuration *Duration `json:"maxDuration,omitempty"`
}

// Instance is compute#instance.
type Instance struct {
	Kind                   string             `json:"kind,omitempty"`
	ID                     uint64             `json:"id,string,omitempty"`
	CreationTimestamp      string             `json:"creationTimestamp,omitempty"`
	Name                   string             `json:"name"`
	Description            string             `json:"description,omitempty"`
	Tags                   *Tags              `json:"tags,omitempty"`
	MachineType            string             `json:"machineType,omitempty"`
	Status                 string             `json:"status,omitempty"`
	StatusMessage          string             `json:"statusMessage,omitempty"`
	Zone                   string             `json:"zone,omitempty"`
	CanIPForward           bool               `json:"canIpForward"`
	NetworkInterfaces      []NetworkInterface `json:"networkInterfaces,omitempty"`
	Disks                  []AttachedDisk     `json:"disks,omitempty"`
	Metadata               *Metadata          `json:"metadata,omitempty"`
	ServiceAccounts        []ServiceAccount   `json:"serviceAccounts,omitempty"`
	SelfLink               string             `json:"selfLink,omitempty"`
	Scheduling             *Scheduling        `json:"scheduling,omitempty"`
	CPUPlatform            string             `json:"cpuPlatform,omitempty"`
	Labels                 map[string]string  `json:"labels,omitempty"`
	LabelFingerprint       string             `json:"labelFingerprint,omitempty"`
	StartRestricted        bool               `json:"startRestricted"`
	DeletionProtection     bool               `json:"deletionProtection"`
	Fingerprint            string             `json:"fingerprint,omitempty"`
	LastStartTimestamp     string             `json:"lastStartTimestamp,omitempty"`
	LastStopTimestamp      string             `json:"lastStopTimestamp,omitempty"`
	LastSuspendedTimestamp string             `json:"lastSuspendedTimestamp,omitempty"`
	Hostname               string             `json:"hostname,omitempty"`
}

// Disk is compute#disk.
type Disk struct {
	Kind                   string            `json:"kind"`
	ID                     uint64            `json:"id,string"`
	CreationTimestamp      string            `json:"creationTimestamp,omitempty"`
	Name                   string            `json:"name"`
	Description            string            `json:"description,omitempty"`
	SizeGb                 int64             `json:"sizeGb,string"`
	Zone                   string            `json:"zone"`
	Status                 string            `json:"status"`
	SourceImage            string            `json:"sourceImage,omitempty"`
	Type                   string            `json:"type"`
	Users                  []string          `json:"users,omitempty"`
	Labels                 map[string]string `json:"labels,omitempty"`
	LabelFingerprint       string            `json:"labelFingerprint,omitempty"`
	PhysicalBlockSizeBytes int64             `json:"physicalBlockSizeBytes,string"`
	LastAttachTimestamp    string            `json:"lastAttachTimestamp,omitempty"`
	SelfLink               string            `json:"selfLink"`
}

// Project is compute#project.
type Project struct {
	Kind                   string    `json:"kind"`
	ID                     uint64    `json:"id,string"`
	CreationTimestamp      string    `json:"creationTimestamp,omitempty"`
	Name                   string    `json:"name"`
	Description            string    `json:"description,omitempty"`
	CommonInstanceMetadata *Metadata `json:"commonInstanceMetadata"`
	Quotas                 []Quota   `json:"quotas"`
	DefaultServiceAccount  string    `json:"defaultServiceAccount,omitempty"`
	DefaultNetworkTier     string    `json:"defaultNetworkTier,omitempty"`
	XpnProjectStatus       string    `json:"xpnProjectStatus,omitempty"`
	VMDNSSetting           string    `json:"vmDnsSetting,omitempty"`
	SelfLink               string    `json:"selfLink"`
}

// OpErrorItem is one error of a failed operation.
type OpErrorItem struct {
	Code     string `json:"code"`
	Location string `json:"location,omitempty"`
	Message  string `json:"message"`
}

// OpError is a failed operation's error.
type OpError struct {
	Errors []OpErrorItem `json:"errors"`
}

// Operation is compute#operation.
type Operation struct {
	Kind                string   `json:"kind"`
	ID                  uint64   `json:"id,string"`
	Name                string   `json:"name"`
	Zone                string   `json:"zone,omitempty"`
	Region              string   `json:"region,omitempty"`
	OperationType       string   `json:"operationType"`
	TargetLink          string   `json:"targetLink"`
	TargetID            uint64   `json:"targetId,string,omitempty"`
	Status              string   `json:"status"`
	StatusMessage       string   `json:"statusMessage,omitempty"`
	User                string   `json:"user,omitempty"`
	Progress            int      `json:"progress"`
	InsertTime          string   `json:"insertTime"`
	StartTime           string   `json:"startTime,omitempty"`
	EndTime             string   `json:"endTime,omitempty"`
	Error               *OpError `json:"error,omitempty"`
	HTTPErrorStatusCode int      `json:"httpErrorStatusCode,omitempty"`
	HTTPErrorMessage    string   `json:"httpErrorMessage,omitempty"`
	SelfLink            string   `json:"selfLink"`
}

// SerialPortOutput is compute#serialPortOutput.
type SerialPortOutput struct {
	Kind     string `json:"kind"`
	Contents string `json:"contents"`
	Port     int64  `json:"port"`
	Start    int64  `json:"start,string"`
	Next     int64  `json:"next,string"`
	SelfLink string `json:"selfLink"`
}

// Warning is a list or scope warning.
type Warning struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Data    []WarningData `json:"data,omitempty"`
}

// WarningData is one key/value of a warning.
type WarningData struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// List is any compute#xxxList.
type List struct {
	Kind          string   `json:"kind"`
	ID            string   `json:"id"`
	Items         []any    `json:"items"`
	NextPageToken string   `json:"nextPageToken,omitempty"`
	SelfLink      string   `json:"selfLink"`
	Warning       *Warning `json:"warning,omitempty"`
}

// AggregatedList is any compute#xxxAggregatedList; Items maps a scope
// ("zones/us-central1-a") to {"<resource plural>": […]} or a warning.
type AggregatedList struct {
	Kind          string         `json:"kind"`
	ID            string         `json:"id"`
	Items         map[string]any `json:"items"`
	NextPageToken string         `json:"nextPageToken,omitempty"`
	SelfLink      string         `json:"selfLink"`
	Unreachables  []string       `json:"unreachables,omitempty"`
}
