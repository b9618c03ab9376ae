package gce

import (
	"time"

	"github.com/stratus-cloud/stratus/internal/store"
)

// What the gateway keeps because CloudStack cannot hold it. Keys:
//
//	/gce/tokens/<sha256 of token>             tokenRecord
//	/gce/instances/<project>/<zone>/<name>    instanceMeta
//	/gce/firewalls/<project>/<name>           firewallMeta
//	/gce/projects/<project>                   projectMeta
//	/gce/operations/<project>/<name>          opRecord
//	/gce/instancetemplates/<project>/<name>   templateRecord
//	/gce/instancegroupmanagers/<project>/<zone>/<name>  groupRecord

// instanceMeta is what an instance has beyond its CloudStack VM.
type instanceMeta struct {
	VMID            string            `json:"vmId,omitempty"`
	Description     string            `json:"description,omitempty"`
	Items           []MetadataItem    `json:"items,omitempty"`
	Labels          map[string]string `json:"labels,omitempty"`
	Tags            []string          `json:"tags,omitempty"`
	CanIPForward    bool              `json:"canIpForward,omitempty"`
	DeletionProtect bool              `json:"deletionProtection,omitempty"`
	ExternalIP      bool              `json:"externalIp,omitempty"`
	NATIPID         string            `json:"natIpId,omitempty"`
	NATIP           string            `json:"natIp,omitempty"`
	// AccessConfigName is the name addAccessConfig gave the external
	// NAT ("" is "external-nat").
	AccessConfigName string           `json:"accessConfigName,omitempty"`
	ServiceAccounts  []ServiceAccount `json:"serviceAccounts,omitempty"`
	Scheduling       *Scheduling      `json:"scheduling,omitempty"`
	SourceImage      string           `json:"sourceImage,omitempty"`
	DiskSizeGb       int64            `json:"diskSizeGb,omitempty"`
	// MachineType is the GCE predefined type the instance was made with
	// ("n1-standard-1"), when that is not its offering's own name.
	MachineType string    `json:"machineType,omitempty"`
	Created     time.Time `json:"created"`
	LastStart   time.Time `json:"lastStart,omitzero"`
	LastStop    time.Time `json:"lastStop,omitzero"`
	// Suspended is set by instances.suspend (CloudStack has no suspend:
	// the VM is stopped) and cleared when the VM is started again.
	Suspended   bool      `json:"suspended,omitempty"`
	LastSuspend time.Time `json:"lastSuspend,omitzero"`
}

// firewallMeta is what a firewall has beyond its security group.
type firewallMeta struct {
	SGID         string         `json:"sgId,omitempty"`
	Description  string         `json:"description,omitempty"`
	Priority     int64          `json:"priority"`
	Direction    string         `json:"direction"`
	TargetTags   []string       `json:"targetTags,omitempty"`
	Disabled     bool           `json:"disabled,omitempty"`
	Logging      bool           `json:"logging,omitempty"`
	Allowed      []FirewallRule `json:"allowed,omitempty"`
	SourceRanges []string       `json:"sourceRanges,omitempty"`
	DestRanges   []string       `json:"destinationRanges,omitempty"`
	Created      time.Time      `json:"created"`
}

// natStep is where an external address's set-up stands.
type natStep struct {
	VMID   string `json:"vmId"`
	ZoneID string `json:"zoneId"`
	// Phase: 0 the VM is being deployed, 1 the address is being acquired.
	Phase int    `json:"phase"`
	IPID  string `json:"ipId,omitempty"`
}

// projectMeta is a project's common instance metadata; the ssh-keys item
// is mirrored into CloudStack SSH key pairs named in KeyPairs.
type projectMeta struct {
	Items    []MetadataItem `json:"items,omitempty"`
	KeyPairs []string       `json:"keyPairs,omitempty"`
}

// opRecord is an operation: the CloudStack jobs it waits for and, once
// they are done, its outcome.
type opRecord struct {
	Name        string    `json:"name"`
	ID          uint64    `json:"id"`
	Zone        string    `json:"zone,omitempty"`
	Region      string    `json:"region,omitempty"`
	Type        string    `json:"type"`
	Target      string    `json:"target"` // relative to the project: "zones/z/instances/x"
	TargetID    uint64    `json:"targetId,omitempty"`
	Jobs        []string  `json:"jobs,omitempty"`
	Status      string    `json:"status"`
	User        string    `json:"user,omitempty"`
	Insert      time.Time `json:"insert"`
	End         time.Time `json:"end,omitzero"`
	Error       *OpError  `json:"error,omitempty"`
	HTTPStatus  int       `json:"httpStatus,omitempty"`
	HTTPMessage string    `json:"httpMessage,omitempty"`
	// Forget is an instance metadata key (project/zone/name) deleted when
	// the operation succeeds (instance delete).
	Forget string `json:"forget,omitempty"`
	// CleanupVM is a VM destroyed when the operation fails (a failed
	// insert leaves nothing behind in GCE).
	CleanupVM string `json:"cleanupVm,omitempty"`
	// NAT, on an insert in an advanced zone that asked for an external
	// address, is the follow-up: acquire a public IP, then static NAT.
	NAT *natStep `json:"nat,omitempty"`
	// ReleaseIP is a public IP released when the operation succeeds
	// (instance delete).
	ReleaseIP string `json:"releaseIp,omitempty"`
}

func (g *Gateway) instanceMetas(project, zone string) store.Typed[instanceMeta] {
	p := "/gce/instances/" + project + "/"
	if zone != "" {
		p += zone + "/"
	}
	return store.Typed[instanceMeta]{S: g.st, Prefix: p}
}

func (g *Gateway) firewallMetas(project string) store.Typed[firewallMeta] {
	return store.Typed[firewallMeta]{S: g.st, Prefix: "/gce/firewalls/" + project + "/"}
}

func (g *Gateway) opsOf(project string) store.Typed[opRecord] {
	return store.Typed[opRecord]{S: g.st, Prefix: "/gce/operations/" + project + "/"}
}
