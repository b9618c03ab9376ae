package csclient

import "encoding/json"

// The structs below hold only the fields stratus's clients read.

// Zone is a listZones item.
type Zone struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	Description           string `json:"description"`
	NetworkType           string `json:"networktype"`
	AllocationState       string `json:"allocationstate"`
	SecurityGroupsEnabled Bool   `json:"securitygroupsenabled"`
	GuestCIDRAddress      string `json:"guestcidraddress"` // an Advanced zone's guest CIDR
}

// ServiceOffering is a listServiceOfferings item.
type ServiceOffering struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayText string `json:"displaytext"`
	CPUNumber   Int    `json:"cpunumber"`
	CPUSpeed    Int    `json:"cpuspeed"`
	Memory      Int    `json:"memory"`
	ZoneID      string `json:"zoneid"`
	Created     string `json:"created"`
	IsSystem    Bool   `json:"issystem"`
	LimitCPUUse Bool   `json:"limitcpuuse"`
	Customized  Bool   `json:"iscustomized"`
}

// Template is a listTemplates item.
type Template struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayText string `json:"displaytext"`
	Account     string `json:"account"`
	DomainID    string `json:"domainid"`
	Created     string `json:"created"`
	IsReady     Bool   `json:"isready"`
	IsPublic    Bool   `json:"ispublic"`
	IsFeatured  Bool   `json:"isfeatured"`
	OSTypeName  string `json:"ostypename"`
	OSTypeID    string `json:"ostypeid"`
	Size        Int    `json:"size"`
	Status      string `json:"status"`
	ZoneID      string `json:"zoneid"`
	Format      string `json:"format"`
	Tags        []Tag  `json:"tags"`
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Nic is a VM's network interface.
type Nic struct {
	ID          string `json:"id"`
	NetworkID   string `json:"networkid"`
	NetworkName string `json:"networkname"`
	IPAddress   string `json:"ipaddress"`
	MACAddress  string `json:"macaddress"`
	IsDefault   Bool   `json:"isdefault"`
	Type        string `json:"type"`
	Gateway     string `json:"gateway"`
	Netmask     string `json:"netmask"`
}

// SGRef is a security group a VM belongs to.
type SGRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// VirtualMachine is a listVirtualMachines item.
type VirtualMachine struct {
	ID                  string  `json:"id"`
	Name                string  `json:"name"`
	DisplayName         string  `json:"displayname"`
	Account             string  `json:"account"`
	State               string  `json:"state"`
	Created             string  `json:"created"`
	ZoneID              string  `json:"zoneid"`
	ZoneName            string  `json:"zonename"`
	HostName            string  `json:"hostname"`
	TemplateID          string  `json:"templateid"`
	TemplateName        string  `json:"templatename"`
	ServiceOfferingID   string  `json:"serviceofferingid"`
	ServiceOfferingName string  `json:"serviceofferingname"`
	CPUNumber           Int     `json:"cpunumber"`
	Memory              Int     `json:"memory"`
	CPUUsed             string  `json:"cpuused"` // "10%"
	InstanceName        string  `json:"instancename"`
	PublicIP            string  `json:"publicip"`
	KeyPairs            string  `json:"keypairs"`
	UserData            *string `json:"userdata"`
	OSDisplayName       string  `json:"osdisplayname"`
	Hypervisor          string  `json:"hypervisor"`
	Nic                 []Nic   `json:"nic"`
	SecurityGroup       []SGRef `json:"securitygroup"`
	Tags                []Tag   `json:"tags"`
}

// GCEInstanceTag is the resource tag the GCE gateway puts on a VM it
// deploys: "project/zone/name", the instance's GCE name. The cloud-init
// follower makes a joined VM's provider id of it (gce://project/zone/name).
const GCEInstanceTag = "gce-instance"

// TagValue returns the value of the tag with key k ("" when absent).
func TagValue(tags []Tag, k string) string {
	for _, t := range tags {
		if t.Key == k {
			return t.Value
		}
	}
	return ""
}

// Rule is a security group rule.
type Rule struct {
	RuleID    string `json:"ruleid"`
	Protocol  string `json:"protocol"`
	StartPort *Int   `json:"startport"`
	EndPort   *Int   `json:"endport"`
	ICMPType  *Int   `json:"icmptype"`
	ICMPCode  *Int   `json:"icmpcode"`
	CIDR      string `json:"cidr"`
	// SecurityGroupName and Account name the source group of a rule that
	// allows a group rather than a CIDR.
	SecurityGroupName string `json:"securitygroupname"`
	Account           string `json:"account"`
}

// SecurityGroup is a listSecurityGroups item.
type SecurityGroup struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Account     string `json:"account"`
	IngressRule []Rule `json:"ingressrule"`
	EgressRule  []Rule `json:"egressrule"`
	VMCount     Int    `json:"virtualmachinecount"`
}

// SSHKeyPair is a listSSHKeyPairs item.
type SSHKeyPair struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	Account     string `json:"account"`
	Domain      string `json:"domain"`
}

// Volume is a listVolumes item.
type Volume struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	ZoneID           string `json:"zoneid"`
	ZoneName         string `json:"zonename"`
	Type             string `json:"type"`
	Size             Int    `json:"size"`
	State            string `json:"state"`
	Created          string `json:"created"`
	VirtualMachineID string `json:"virtualmachineid"`
	VMName           string `json:"vmname"`
	DeviceID         *Int   `json:"deviceid"`
	TemplateID       string `json:"templateid"`
	TemplateName     string `json:"templatename"`
	DiskOfferingName string `json:"diskofferingname"`
	DiskOfferingID   string `json:"diskofferingid"`
	SnapshotID       string `json:"snapshotid"`
	Attached         string `json:"attached"`
	StorageType      string `json:"storagetype"`
	Tags             []Tag  `json:"tags"`
}

// Account is a listAccounts item, with the limits and totals that become
// GCE quotas.
type Account struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	AccountType         Int    `json:"accounttype"`
	DomainID            string `json:"domainid"`
	Domain              string `json:"domain"`
	Created             string `json:"created"`
	State               string `json:"state"`
	CPULimit            Int    `json:"cpulimit"`
	CPUTotal            Int    `json:"cputotal"`
	MemoryLimit         Int    `json:"memorylimit"`
	MemoryTotal         Int    `json:"memorytotal"`
	VMLimit             Int    `json:"vmlimit"`
	VMTotal             Int    `json:"vmtotal"`
	VolumeLimit         Int    `json:"volumelimit"`
	VolumeTotal         Int    `json:"volumetotal"`
	IPLimit             Int    `json:"iplimit"`
	IPTotal             Int    `json:"iptotal"`
	NetworkLimit        Int    `json:"networklimit"`
	NetworkTotal        Int    `json:"networktotal"`
	PrimaryStorageLimit Int    `json:"primarystoragelimit"`
	PrimaryStorageTotal Int    `json:"primarystoragetotal"`
	SnapshotLimit       Int    `json:"snapshotlimit"`
	SnapshotTotal       Int    `json:"snapshottotal"`
	TemplateLimit       Int    `json:"templatelimit"`
	TemplateTotal       Int    `json:"templatetotal"`
	User                []User `json:"user"`
}

// User is a listUsers item.
type User struct {
	ID        string `json:"id"`
	Username  string `json:"username"`
	Email     string `json:"email"`
	Account   string `json:"account"`
	AccountID string `json:"accountid"`
	Domain    string `json:"domain"`
	DomainID  string `json:"domainid"`
	APIKey    string `json:"apikey"`
}

// Network is a listNetworks item.
type Network struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	ZoneID          string `json:"zoneid"`
	Type            string `json:"type"`
	State           string `json:"state"`
	CIDR            string `json:"cidr"`
	Gateway         string `json:"gateway"`
	CanUseForDeploy Bool   `json:"canusefordeploy"`
	IsDefault       Bool   `json:"isdefault"`
	Created         string `json:"created"`
	VPCID           string `json:"vpcid"` // a VPC tier's VPC
}

// NetworkOffering is a listNetworkOfferings item.
type NetworkOffering struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	GuestIPType string `json:"guestiptype"`
	State       string `json:"state"`
	IsDefault   Bool   `json:"isdefault"`
	Service     []struct {
		Name string `json:"name"`
	} `json:"service"`
}

// Job is a queryAsyncJobResult answer.
type Job struct {
	JobID         string          `json:"jobid"`
	JobStatus     Int             `json:"jobstatus"`
	JobResultCode Int             `json:"jobresultcode"`
	JobResultType string          `json:"jobresulttype"`
	JobResult     json.RawMessage `json:"jobresult"`
	Created       string          `json:"created"`
	Completed     string          `json:"completed"`
}

// Job states.
const (
	JobPending   = 0
	JobSucceeded = 1
	JobFailed    = 2
)

// Failure returns the errorcode and errortext of a failed job.
func (j *Job) Failure() (code int, text string) {
	var e struct {
		ErrorCode Int    `json:"errorcode"`
		ErrorText string `json:"errortext"`
	}
	if len(j.JobResult) > 0 && j.JobResult[0] == '{' {
		_ = json.Unmarshal(j.JobResult, &e)
	} else if len(j.JobResult) > 0 {
		_ = json.Unmarshal(j.JobResult, &e.ErrorText)
	}
	code = int(e.ErrorCode)
	if code == 0 {
		code = int(j.JobResultCode)
	}
	if e.ErrorText == "" {
		e.ErrorText = "CloudStack job failed"
	}
	return code, e.ErrorText
}

// AsyncResult is what an async command answers at once.
type AsyncResult struct {
	ID    string `json:"id"`
	JobID string `json:"jobid"`
}

// LoadBalancerRule is a listLoadBalancerRules item.
type LoadBalancerRule struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	PublicIPID  string `json:"publicipid"`
	PublicIP    string `json:"publicip"`
	PublicPort  Int    `json:"publicport"`
	PrivatePort Int    `json:"privateport"`
	Protocol    string `json:"protocol"`
	NetworkID   string `json:"networkid"`
	ZoneID      string `json:"zoneid"`
	State       string `json:"state"`
}

// PublicIPAddress is a listPublicIpAddresses item.
type PublicIPAddress struct {
	ID        string `json:"id"`
	IPAddress string `json:"ipaddress"`
	NetworkID string `json:"associatednetworkid"`
	ZoneID    string `json:"zoneid"`
}
