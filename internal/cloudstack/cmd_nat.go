package cloudstack

import (
	"strconv"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// The rules on public addresses and guest networks: port forwarding, IP
// forwarding (static NAT rules), ingress and egress firewall rules.

var (
	pCIDRList     = p("cidrlist:list", "the source CIDR list to allow traffic from; all other CIDRs will be blocked. Multiple entries must be separated by a single comma character (,).")
	pForDisplay   = p("fordisplay:boolean", "an optional field, whether to the display the rule to the end user or not")
	pOpenFirewall = p("openfirewall:boolean", "if true, firewall rule for source/end public port is automatically created; if false - firewall rule has to be created explicitly. If not specified 1) defaulted to false when PF rule is being created for VPC guest network 2) in all other cases defaulted to true")
	pListDisplay  = p("fordisplay:boolean", "list resources by display flag; only ROOT admin is eligible to pass this parameter")
	pRuleID       = p("id:uuid:FirewallRule", "Lists rule with the specified ID.")
	pStartPort    = p("startport:integer", "the starting port of firewall rule")
	pEndPort      = p("endport:integer", "the ending port of firewall rule")
	pICMPType     = p("icmptype:integer", "type of the ICMP message being sent")
	pICMPCode     = p("icmpcode:integer", "error code for this icmp message")
	pRuleType     = p("type:string", "type of firewallrule: system/user")
)

func natCommands() []*command {
	return []*command{
		{Name: "createPortForwardingRule", Async: true, Desc: "Creates a port forwarding rule", Resp: "portforwardingrule", RespOf: portForwardingView{},
			Params: []param{p("ipaddressid*:uuid:PublicIpAddress", "the IP address id of the port forwarding rule"),
				p("privateport*:integer", "the starting port of port forwarding rule's private port range"),
				p("privateendport:integer", "the ending port of port forwarding rule's private port range"),
				p("protocol*:string", "the protocol for the port forwarding rule. Valid values are TCP or UDP."),
				p("publicport*:integer", "the starting port of port forwarding rule's public port range"),
				p("publicendport:integer", "the ending port of port forwarding rule's private port range"),
				p("virtualmachineid*:uuid:UserVm", "the ID of the virtual machine for the port forwarding rule"),
				pCIDRList, pOpenFirewall, pForDisplay,
				p("networkid:uuid:Network", "the network of the virtual machine the port forwarding rule will be created for. Required when public IP address is not associated with any guest network yet (VPC case)."),
				p("vmguestip:string", "VM guest nic secondary IP address for the port forwarding rule")},
			Run: func(rq *request) (any, error) {
				return rq.createRule(cloud.NetRuleSpec{Purpose: cloud.PurposePortForwarding, PublicIPID: rq.str("ipaddressid"),
					NetworkID: rq.str("networkid"), VMID: rq.str("virtualmachineid"), VMIP: rq.str("vmguestip"), Protocol: rq.str("protocol"),
					StartPort: rq.port("publicport"), EndPort: rq.port("publicendport"), PrivatePort: rq.port("privateport"),
					PrivateEndPort: rq.port("privateendport"), CIDRs: rq.p.List("cidrlist"), OpenFirewall: rq.boolean("openfirewall", true)})
			}},
		{Name: "updatePortForwardingRule", Async: true, Desc: "Updates a port forwarding rule. Only the private port and the virtual machine can be updated.",
			Resp: "portforwardingrule", RespOf: portForwardingView{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the port forwarding rule"),
				p("privateport:integer", "the private start port of the port forwarding rule"),
				p("privateendport:integer", "the private end port of the port forwarding rule"),
				p("virtualmachineid:uuid:UserVm", "the ID of the virtual machine for the port forwarding rule"),
				p("vmguestip:string", "VM guest nic Secondary ip address for the port forwarding rule"),
				p("cidrlist:list", "the source CIDR list to allow traffic from; all other CIDRs will be blocked. Multiple entries must be separated by a single comma character (,)."),
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only"), pForDisplay},
			Run: func(rq *request) (any, error) {
				u := cloud.RuleUpdate{PrivatePort: rq.optInt("privateport"), PrivateEndPort: rq.optInt("privateendport"),
					VMID: rq.optStr("virtualmachineid"), VMIP: rq.optStr("vmguestip"), CIDRs: rq.p.List("cidrlist"),
					Display: rq.optBool("fordisplay"), Cmd: rq.className()}
				return asyncJob(rq.h.sim.UpdateRule(rq.ctx, rq.c, rq.str("id"), cloud.PurposePortForwarding, u))
			}},
		{Name: "deletePortForwardingRule", Async: true, Desc: "Deletes a port forwarding rule", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the port forwarding rule")},
			Run:    rq2deleteRule(cloud.PurposePortForwarding, "")},
		{Name: "listPortForwardingRules", Desc: "Lists all port forwarding rules for an IP address.", Resp: "portforwardingrule", RespOf: portForwardingView{},
			Params: ownedListParams(pRuleID, pTags, pListDisplay, p("ipaddressid:uuid:PublicIpAddress", "the ID of IP address of the port forwarding services"),
				p("networkid:uuid:Network", "list port forwarding rules for certain network")),
			Run: func(rq *request) (any, error) {
				return listRules(rq, "portforwardingrule", cloud.PurposePortForwarding, "", portForwardingOf)
			}},
		{Name: "createIpForwardingRule", Async: true, Desc: "Creates an IP forwarding rule", Resp: "ipforwardingrule", RespOf: ipForwardingView{},
			Params: []param{p("ipaddressid*:uuid:PublicIpAddress", "the public IP address ID of the forwarding rule, already associated via associateIp"),
				p("protocol*:string", "the protocol for the rule. Valid values are TCP or UDP."),
				p("startport*:integer", "the start port for the rule"), p("endport:integer", "the end port for the rule"),
				p("cidrlist:list", "the CIDR list to forward traffic from. Multiple entries must be separated by a single comma character (,). This parameter is deprecated. Do not use."),
				p("openfirewall:boolean", "if true, firewall rule for source/end public port is automatically created; if false - firewall rule has to be created explicitly. Has value true by default")},
			Run: func(rq *request) (any, error) {
				return rq.createRule(cloud.NetRuleSpec{Purpose: cloud.PurposeStaticNAT, PublicIPID: rq.str("ipaddressid"),
					Protocol: rq.str("protocol"), StartPort: rq.port("startport"), EndPort: rq.port("endport"), CIDRs: rq.p.List("cidrlist"),
					OpenFirewall: rq.boolean("openfirewall", true)})
			}},
		{Name: "deleteIpForwardingRule", Async: true, Desc: "Deletes an IP forwarding rule", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the forwarding rule")},
			Run:    rq2deleteRule(cloud.PurposeStaticNAT, "")},
		{Name: "listIpForwardingRules", Desc: "List the IP forwarding rules", Resp: "ipforwardingrule", RespOf: ipForwardingView{},
			Params: ownedListParams(pRuleID, p("ipaddressid:uuid:PublicIpAddress", "list the rule belonging to this public IP address"),
				p("virtualmachineid:uuid:UserVm", "Lists all rules applied to the specified VM.")),
			Run: func(rq *request) (any, error) {
				return listRules(rq, "ipforwardingrule", cloud.PurposeStaticNAT, "", ipForwardingOf)
			}},
		{Name: "createFirewallRule", Async: true, Desc: "Creates a firewall rule for a given IP address", Resp: "firewallrule", RespOf: firewallView{},
			Params: []param{p("ipaddressid*:uuid:PublicIpAddress", "the IP address id of the port forwarding rule"),
				p("protocol*:string", "the protocol for the firewall rule. Valid values are TCP/UDP/ICMP."),
				pStartPort, pEndPort, pICMPType, pICMPCode, pRuleType, pForDisplay,
				p("cidrlist:list", "the CIDR list to forward traffic from. Multiple entries must be separated by a single comma character (,).")},
			Run: func(rq *request) (any, error) { return rq.createFirewallRule(cloud.TrafficIngress) }},
		{Name: "deleteFirewallRule", Async: true, Desc: "Deletes a firewall rule", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the firewall rule")},
			Run:    rq2deleteRule(cloud.PurposeFirewall, cloud.TrafficIngress)},
		{Name: "listFirewallRules", Desc: "Lists all firewall rules for an IP address.", Resp: "firewallrule", RespOf: firewallView{},
			Params: ownedListParams(pRuleID, pTags, pListDisplay, p("ipaddressid:uuid:PublicIpAddress", "the ID of IP address of the firewall services"),
				p("networkid:uuid:Network", "list firewall rules for certain network")),
			Run: listFirewallRules(cloud.TrafficIngress)},
		{Name: "createEgressFirewallRule", Async: true, Desc: "Creates a egress firewall rule for a given network", Resp: "firewallrule", RespOf: firewallView{},
			Params: []param{p("networkid*:uuid:Network", "the network id of the port forwarding rule"),
				p("protocol*:string", "the protocol for the firewall rule. Valid values are TCP/UDP/ICMP."),
				pStartPort, pEndPort, pICMPType, pICMPCode, pRuleType, pForDisplay,
				p("cidrlist:list", "the cidr list to forward traffic from. Multiple entries must be separated by a single comma character (,)."),
				p("destcidrlist:list", "the cidr list to forward traffic to. Multiple entries must be separated by a single comma character (,).")},
			Run: func(rq *request) (any, error) { return rq.createFirewallRule(cloud.TrafficEgress) }},
		{Name: "deleteEgressFirewallRule", Async: true, Desc: "Deletes an egress firewall rule", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the firewall rule")},
			Run:    rq2deleteRule(cloud.PurposeFirewall, cloud.TrafficEgress)},
		{Name: "listEgressFirewallRules", Desc: "Lists all egress firewall rules for network ID.", Resp: "firewallrule", RespOf: firewallView{},
			Params: ownedListParams(pRuleID, pTags, pListDisplay, p("ipaddressid:uuid:PublicIpAddress", "the ID of IP address of the firewall services"),
				p("networkid:uuid:Network", "the network ID for the egress firewall services")),
			Run: listFirewallRules(cloud.TrafficEgress)},
	}
}

// createFirewallRule creates an ingress rule on ipaddressid or an egress
// rule on networkid, from the parameters the two commands share.
func (rq *request) createFirewallRule(traffic string) (any, error) {
	spec := cloud.NetRuleSpec{Purpose: cloud.PurposeFirewall, Traffic: traffic, PublicIPID: rq.str("ipaddressid"),
		Protocol: rq.str("protocol"), StartPort: rq.port("startport"), EndPort: rq.port("endport"),
		ICMPType: rq.optInt("icmptype"), ICMPCode: rq.optInt("icmpcode"), CIDRs: rq.p.List("cidrlist")}
	if traffic == cloud.TrafficEgress { // (parameters only the egress command declares)
		spec.PublicIPID, spec.NetworkID, spec.DestCIDRs = "", rq.str("networkid"), rq.p.List("destcidrlist")
	}
	return rq.createRule(spec)
}

func listFirewallRules(traffic string) func(rq *request) (any, error) {
	return func(rq *request) (any, error) {
		return listRules(rq, "firewallrule", cloud.PurposeFirewall, traffic, firewallOf)
	}
}

// port reads a port parameter (0 when absent; check has parsed it).
func (rq *request) port(name string) int { return int(rq.integer(name, 0)) }

func (rq *request) optInt(name string) *int {
	if v, ok := rq.p[name]; ok && v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return &n
		}
	}
	return nil
}

func (rq *request) optBool(name string) *bool {
	if v, ok := rq.p[name]; ok && v != "" {
		b := parseBool(v)
		return &b
	}
	return nil
}

// createRule answers a rule create command: the new rule's id and its
// (complete) job.
func (rq *request) createRule(spec cloud.NetRuleSpec) (any, error) {
	spec.Cmd = rq.className()
	spec.Display = rq.optBool("fordisplay")
	r, job, err := rq.h.sim.CreateRule(rq.ctx, rq.c, spec)
	if err != nil {
		return nil, err
	}
	return AsyncAnswer{ID: r.ID, JobID: job.ID}, nil
}

func rq2deleteRule(purpose cloud.RulePurpose, traffic string) func(rq *request) (any, error) {
	return func(rq *request) (any, error) {
		return asyncJob(rq.h.sim.DeleteRule(rq.ctx, rq.c, rq.str("id"), purpose, traffic, rq.className()))
	}
}

// listRules lists the rules of a purpose (and direction) with the common
// filters: id, ipaddressid, networkid, virtualmachineid, tags, fordisplay.
func listRules[V any](rq *request, key string, purpose cloud.RulePurpose, traffic string, view func(cloud.Reader, *cloud.NetRule) V) (any, error) {
	disp, hasDisp := rq.p["fordisplay"]
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		all := r.NetRules()
		if ip := rq.str("ipaddressid"); ip != "" {
			all = r.RulesOfIP(ip)
		}
		return listView(rq, key, all, func(x *cloud.NetRule) bool {
			return x.Purpose == purpose && (traffic == "" || x.Traffic == traffic) && keep(x.Owner) && rq.match("id", x.ID) &&
				rq.matchDeclared("networkid", x.NetworkID) && rq.matchDeclared("virtualmachineid", x.VMID) && (!hasDisp || parseBool(disp) == x.Display) &&
				rq.keyword(x.Name, x.Description) && rq.tagsMatch(r, x.ID)
		}, func(x *cloud.NetRule) V { return view(r, x) })
	})
}

// matchDeclared is match for a parameter the command declares; the real
// server ignores parameters a command does not declare, and so do we.
func (rq *request) matchDeclared(name, value string) bool {
	for _, pr := range rq.cmd.Params {
		if pr.Name == name {
			return rq.match(name, value)
		}
	}
	return true
}
