package cloudstack

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// This file renders the networking family's objects: rules, load
// balancers and their policies, NICs and their secondary addresses.

// portForwardingView is FirewallRuleResponse: ports are strings.
type portForwardingView struct {
	ID                        string    `json:"id"`
	PrivatePort               string    `json:"privateport"`
	PrivateEndPort            string    `json:"privateendport"`
	Protocol                  string    `json:"protocol"`
	PublicPort                string    `json:"publicport"`
	PublicEndPort             string    `json:"publicendport"`
	VirtualMachineID          string    `json:"virtualmachineid"`
	VirtualMachineName        string    `json:"virtualmachinename"`
	VirtualMachineDisplayName string    `json:"virtualmachinedisplayname"`
	IPAddressID               string    `json:"ipaddressid"`
	IPAddress                 string    `json:"ipaddress"`
	VMGuestIP                 string    `json:"vmguestip"`
	State                     string    `json:"state"`
	CIDRList                  string    `json:"cidrlist"`
	Tags                      []tagView `json:"tags"`
	NetworkID                 string    `json:"networkid"`
	ForDisplay                bool      `json:"fordisplay"`
}

// ipForwardingView is IpForwardingRuleResponse: start and end ports are
// numbers (libcloud reads startport and endport).
type ipForwardingView struct {
	ID                        string    `json:"id"`
	Protocol                  string    `json:"protocol"`
	VirtualMachineID          string    `json:"virtualmachineid"`
	VirtualMachineName        string    `json:"virtualmachinename"`
	VirtualMachineDisplayName string    `json:"virtualmachinedisplayname"`
	IPAddressID               string    `json:"ipaddressid"`
	IPAddress                 string    `json:"ipaddress"`
	StartPort                 int       `json:"startport"`
	EndPort                   int       `json:"endport"`
	State                     string    `json:"state"`
	CIDRList                  string    `json:"cidrlist"`
	Tags                      []tagView `json:"tags"`
	ForDisplay                bool      `json:"fordisplay"`
}

// firewallView is FirewallResponse (ingress and egress rules).
type firewallView struct {
	ID           string    `json:"id"`
	Protocol     string    `json:"protocol"`
	StartPort    *int      `json:"startport,omitempty"`
	EndPort      *int      `json:"endport,omitempty"`
	IPAddressID  string    `json:"ipaddressid,omitempty"`
	NetworkID    string    `json:"networkid"`
	IPAddress    string    `json:"ipaddress,omitempty"`
	State        string    `json:"state"`
	CIDRList     string    `json:"cidrlist"`
	DestCIDRList string    `json:"destcidrlist,omitempty"`
	ICMPType     *int      `json:"icmptype,omitempty"`
	ICMPCode     *int      `json:"icmpcode,omitempty"`
	TrafficType  string    `json:"traffictype"`
	Tags         []tagView `json:"tags"`
	ForDisplay   bool      `json:"fordisplay"`
}

// loadBalancerView is LoadBalancerResponse.
type loadBalancerView struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	PublicIPID  string    `json:"publicipid"`
	PublicIP    string    `json:"publicip"`
	PublicPort  string    `json:"publicport"`
	PrivatePort string    `json:"privateport"`
	Algorithm   string    `json:"algorithm"`
	NetworkID   string    `json:"networkid"`
	CIDRList    string    `json:"cidrlist"`
	Protocol    string    `json:"protocol"`
	State       string    `json:"state"`
	ZoneID      string    `json:"zoneid"`
	ZoneName    string    `json:"zonename"`
	Tags        []tagView `json:"tags"`
	ForDisplay  bool      `json:"fordisplay"`
	ownerView
}

type stickinessPolicyView struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	MethodName  string            `json:"methodname"`
	Params      map[string]string `json:"params"`
	State       string            `json:"state"`
	ForDisplay  bool              `json:"fordisplay"`
}

// stickinessPoliciesView is LBStickinessResponse: a rule with its policies.
type stickinessPoliciesView struct {
	LBRuleID         string                 `json:"lbruleid"`
	Name             string                 `json:"name"`
	Description      string                 `json:"description,omitempty"`
	State            string                 `json:"state"`
	ZoneID           string                 `json:"zoneid"`
	StickinessPolicy []stickinessPolicyView `json:"stickinesspolicy"`
	Account          string                 `json:"account,omitempty"`
	Domain           string                 `json:"domain,omitempty"`
	DomainID         string                 `json:"domainid,omitempty"`
}

type healthCheckPolicyView struct {
	ID                      string `json:"id"`
	Description             string `json:"description,omitempty"`
	PingPath                string `json:"pingpath"`
	ResponseTime            int    `json:"responsetime"`
	HealthCheckInterval     int    `json:"healthcheckinterval"`
	HealthCheckThreshold    int    `json:"healthcheckthresshold"`
	UnhealthCheckThresshold int    `json:"unhealthcheckthresshold"`
	State                   string `json:"state"`
	ForDisplay              bool   `json:"fordisplay"`
}

// healthCheckPoliciesView is LBHealthCheckResponse.
type healthCheckPoliciesView struct {
	LBRuleID          string                  `json:"lbruleid"`
	ZoneID            string                  `json:"zoneid"`
	HealthCheckPolicy []healthCheckPolicyView `json:"healthcheckpolicy"`
	Account           string                  `json:"account,omitempty"`
	Domain            string                  `json:"domain,omitempty"`
	DomainID          string                  `json:"domainid,omitempty"`
}

// listedNICView is a NIC as listNics shows it: the VM's NIC view plus the
// static NAT address.
type listedNICView struct {
	nicView
	PublicIP   string `json:"publicip,omitempty"`
	PublicIPID string `json:"publicipid,omitempty"`
}

type secondaryIPView struct {
	ID               string `json:"id"`
	IPAddress        string `json:"ipaddress"`
	NicID            string `json:"nicid"`
	NetworkID        string `json:"networkid"`
	VirtualMachineID string `json:"virtualmachineid"`
}

// ruleVM names the VM of a rule.
func ruleVM(r cloud.Reader, id string) (name, display string) {
	if vm, ok := r.VM(id); ok {
		return vm.Name, vm.DisplayName
	}
	return "", ""
}

func ipAddressOf(r cloud.Reader, id string) string {
	if ip, ok := r.PublicIP(id); ok {
		return ip.Address
	}
	return ""
}

func portForwardingOf(r cloud.Reader, x *cloud.NetRule) portForwardingView {
	v := portForwardingView{ID: x.ID, PrivatePort: strconv.Itoa(x.PrivatePort), PrivateEndPort: strconv.Itoa(x.PrivateEndPort),
		Protocol: x.Protocol, PublicPort: strconv.Itoa(x.StartPort), PublicEndPort: strconv.Itoa(x.EndPort), VirtualMachineID: x.VMID,
		IPAddressID: x.PublicIPID, IPAddress: ipAddressOf(r, x.PublicIPID), VMGuestIP: x.VMIP, State: x.State,
		CIDRList: strings.Join(x.CIDRs, ","), Tags: tagsOf(r, x.ID), NetworkID: x.NetworkID, ForDisplay: x.Display}
	v.VirtualMachineName, v.VirtualMachineDisplayName = ruleVM(r, x.VMID)
	return v
}

func ipForwardingOf(r cloud.Reader, x *cloud.NetRule) ipForwardingView {
	v := ipForwardingView{ID: x.ID, Protocol: x.Protocol, VirtualMachineID: x.VMID, IPAddressID: x.PublicIPID,
		IPAddress: ipAddressOf(r, x.PublicIPID), StartPort: x.StartPort, EndPort: x.EndPort, State: x.State,
		CIDRList: strings.Join(x.CIDRs, ","), Tags: tagsOf(r, x.ID), ForDisplay: x.Display}
	v.VirtualMachineName, v.VirtualMachineDisplayName = ruleVM(r, x.VMID)
	return v
}

func firewallOf(r cloud.Reader, x *cloud.NetRule) firewallView {
	v := firewallView{ID: x.ID, Protocol: x.Protocol, IPAddressID: x.PublicIPID, NetworkID: x.NetworkID,
		IPAddress: ipAddressOf(r, x.PublicIPID), State: x.State, CIDRList: strings.Join(x.CIDRs, ","),
		DestCIDRList: strings.Join(x.DestCIDRs, ","), ICMPType: x.ICMPType, ICMPCode: x.ICMPCode, TrafficType: x.Traffic,
		Tags: tagsOf(r, x.ID), ForDisplay: x.Display}
	if x.HasPorts() {
		start, end := x.StartPort, x.EndPort
		v.StartPort, v.EndPort = &start, &end
	}
	return v
}

func loadBalancerOf(r cloud.Reader, x *cloud.NetRule) loadBalancerView {
	v := loadBalancerView{ID: x.ID, Name: x.Name, Description: x.Description, PublicIPID: x.PublicIPID,
		PublicIP: ipAddressOf(r, x.PublicIPID), PublicPort: strconv.Itoa(x.StartPort), PrivatePort: strconv.Itoa(x.PrivatePort),
		Algorithm: x.Algorithm, NetworkID: x.NetworkID, CIDRList: strings.Join(x.CIDRs, ","), Protocol: x.Protocol,
		State: x.State, Tags: tagsOf(r, x.ID), ForDisplay: x.Display, ownerView: owner(r, x.Owner)}
	if ip, ok := r.PublicIP(x.PublicIPID); ok {
		v.ZoneID = ip.ZoneID
		if z, ok := r.Zone(ip.ZoneID); ok {
			v.ZoneName = z.Name
		}
	}
	return v
}

func lbZone(r cloud.Reader, x *cloud.NetRule) string {
	if ip, ok := r.PublicIP(x.PublicIPID); ok {
		return ip.ZoneID
	}
	return ""
}

func stickinessOf(r cloud.Reader, x *cloud.NetRule, only string) stickinessPoliciesView {
	o := owner(r, x.Owner)
	v := stickinessPoliciesView{LBRuleID: x.ID, Name: x.Name, Description: x.Description, State: x.State, ZoneID: lbZone(r, x),
		StickinessPolicy: []stickinessPolicyView{}, Account: o.Account, Domain: o.Domain, DomainID: o.DomainID}
	for _, p := range x.Stickiness {
		if only != "" && p.ID != only {
			continue
		}
		params := map[string]string{}
		for k, val := range p.Params {
			params[k] = val
		}
		v.StickinessPolicy = append(v.StickinessPolicy, stickinessPolicyView{ID: p.ID, Name: p.Name, Description: p.Description,
			MethodName: p.Method, Params: params, State: p.State, ForDisplay: p.Display})
	}
	return v
}

func healthChecksOf(r cloud.Reader, x *cloud.NetRule, only string) healthCheckPoliciesView {
	o := owner(r, x.Owner)
	v := healthCheckPoliciesView{LBRuleID: x.ID, ZoneID: lbZone(r, x), HealthCheckPolicy: []healthCheckPolicyView{},
		Account: o.Account, Domain: o.Domain, DomainID: o.DomainID}
	for _, p := range x.HealthChecks {
		if only != "" && p.ID != only {
			continue
		}
		v.HealthCheckPolicy = append(v.HealthCheckPolicy, healthCheckPolicyView{ID: p.ID, Description: p.Description,
			PingPath: p.PingPath, ResponseTime: p.ResponseTime, HealthCheckInterval: p.Interval, HealthCheckThreshold: p.HealthyThreshold,
			UnhealthCheckThresshold: p.UnhealthyThreshold, State: p.State, ForDisplay: p.Display})
	}
	return v
}

// ruleObject renders a rule under the key its create command's job
// result uses.
func ruleObject(r cloud.Reader, x *cloud.NetRule) Object {
	switch x.Purpose {
	case cloud.PurposePortForwarding:
		return Object{Key: "portforwardingrule", Obj: portForwardingOf(r, x)}
	case cloud.PurposeStaticNAT:
		return Object{Key: "ipforwardingrule", Obj: ipForwardingOf(r, x)}
	case cloud.PurposeLoadBalancing:
		return Object{Key: "loadbalancer", Obj: loadBalancerOf(r, x)}
	}
	return Object{Key: "firewallrule", Obj: firewallOf(r, x)}
}

// networkJobResult renders the job results of the networking family (nil
// for other kinds).
func networkJobResult(r cloud.Reader, j *cloud.Job) any {
	switch j.ResultKind {
	case cloud.KindFirewallRule, cloud.KindLBStickinessPolicy, cloud.KindLBHealthCheckPolicy:
		var x cloud.NetRule
		if json.Unmarshal(j.Result, &x) != nil {
			return nil
		}
		switch j.ResultKind {
		case cloud.KindLBStickinessPolicy:
			return Object{Key: "stickinesspolicies", Obj: stickinessOf(r, &x, "")}
		case cloud.KindLBHealthCheckPolicy:
			return Object{Key: "healthcheckpolicies", Obj: healthChecksOf(r, &x, "")}
		}
		return ruleObject(r, &x)
	case cloud.KindNetwork:
		var n cloud.Network
		if json.Unmarshal(j.Result, &n) != nil {
			return nil
		}
		return Object{Key: "network", Obj: networkOf(r, &n)}
	case cloud.KindSecondaryIP:
		var s cloud.SecondaryIP
		if json.Unmarshal(j.Result, &s) != nil {
			return nil
		}
		return Object{Key: "nicsecondaryip", Obj: secondaryIPOf(&s)}
	}
	return nil
}

func secondaryIPOf(s *cloud.SecondaryIP) secondaryIPView {
	return secondaryIPView{ID: s.ID, IPAddress: s.IP, NicID: s.NICID, NetworkID: s.NetworkID, VirtualMachineID: s.VMID}
}

// secondaryIPsOf renders a NIC's secondary addresses as the VM's nic and
// listNics show them ({id, ipaddress}).
func secondaryIPsOf(r cloud.Reader, nicID string) []any {
	secs := r.SecondaryIPsOf(nicID)
	out := make([]any, 0, len(secs))
	for _, s := range secs {
		out = append(out, struct {
			ID        string `json:"id"`
			IPAddress string `json:"ipaddress"`
		}{s.ID, s.IP})
	}
	return out
}
