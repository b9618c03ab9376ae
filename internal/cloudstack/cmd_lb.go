package cloudstack

import (
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// Load balancer rules on public addresses, their members, stickiness and
// health check policies.

func lbCommands() []*command {
	return []*command{
		{Name: "createLoadBalancerRule", Async: true, Desc: "Creates a load balancer rule", Resp: "loadbalancer", RespOf: loadBalancerView{},
			Params: []param{p("name*:string", "name of the load balancer rule"),
				p("algorithm*:string", "load balancer algorithm (source, roundrobin, leastconn)"),
				p("privateport*:integer", "the private port of the private IP address/virtual machine where the network traffic will be load balanced to"),
				p("publicport*:integer", "the public port from where the network traffic will be load balanced from"),
				p("publicipid:uuid:PublicIpAddress", "public IP address ID from where the network traffic will be load balanced from"),
				p("networkid:uuid:Network", "The guest network this rule will be created for. Required when public Ip address is not associated with any Guest network yet (VPC case)"),
				p("zoneid:uuid:Zone", "zone where the load balancer is going to be created. This parameter is required when LB service provider is ElasticLoadBalancerVm"),
				p("description:string", "the description of the load balancer rule"),
				p("protocol:string", "The protocol for the LB such as tcp, udp, tcp-proxy or ssl."),
				pCIDRList, pOpenFirewall, pForDisplay, pAccount, p("domainid:uuid:Domain", "the domain ID associated with the load balancer")},
			Run: createLB},
		{Name: "updateLoadBalancerRule", Async: true, Desc: "Updates load balancer", Resp: "loadbalancer", RespOf: loadBalancerView{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the load balancer rule to update"),
				p("algorithm:string", "load balancer algorithm (source, roundrobin, leastconn)"),
				p("name:string", "the name of the load balancer rule"), p("description:string", "the description of the load balancer rule"),
				p("protocol:string", "The protocol for the LB"), p("cidrlist:list", "the cidr list to forward traffic from"),
				p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only"), pForDisplay},
			Run: func(rq *request) (any, error) {
				u := cloud.RuleUpdate{Name: rq.optStr("name"), Description: rq.optStr("description"), Algorithm: rq.optStr("algorithm"),
					Protocol: rq.optStr("protocol"), CIDRs: rq.p.List("cidrlist"), Display: rq.optBool("fordisplay"), Cmd: rq.className()}
				return asyncJob(rq.h.sim.UpdateRule(rq.ctx, rq.c, rq.str("id"), cloud.PurposeLoadBalancing, u))
			}},
		{Name: "deleteLoadBalancerRule", Async: true, Desc: "Deletes a load balancer rule.", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the load balancer rule")},
			Run:    rq2deleteRule(cloud.PurposeLoadBalancing, "")},
		{Name: "listLoadBalancerRules", Desc: "Lists load balancer rules.", Resp: "loadbalancerrule", RespOf: loadBalancerView{},
			Params: ownedListParams(p("id:uuid:FirewallRule", "the ID of the load balancer rule"), pTags, pListDisplay,
				p("name:string", "the name of the load balancer rule"),
				p("publicipid:uuid:PublicIpAddress", "the public IP address ID of the load balancer rule"),
				p("virtualmachineid:uuid:UserVm", "the ID of the virtual machine of the load balancer rule"),
				p("networkid:uuid:Network", "list by network ID the rule belongs to"), p("zoneid:uuid:Zone", "the availability zone ID")),
			Run: listLBs},
		{Name: "assignToLoadBalancerRule", Async: true, Desc: "Assigns virtual machine or a list of virtual machines to a load balancer rule.", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the load balancer rule"),
				p("virtualmachineids:list:UserVm", "the list of IDs of the virtual machine that are being assigned to the load balancer rule(i.e. virtualMachineIds=1,2,3)"),
				p("vmidipmap:map", "VM ID and IP map, vmidipmap[0].vmid=1 vmidipmap[0].vmip=10.1.1.75")},
			Run: lbMembership(true)},
		{Name: "removeFromLoadBalancerRule", Async: true, Desc: "Removes a virtual machine or a list of virtual machines from a load balancer rule.", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:FirewallRule", "The ID of the load balancer rule"),
				p("virtualmachineids:list:UserVm", "the list of IDs of the virtual machines that are being removed from the load balancer rule (i.e. virtualMachineIds=1,2,3)"),
				p("vmidipmap:map", "VM ID and IP map, vmidipmap[0].vmid=1 vmidipmap[0].ip=10.1.1.75")},
			Run: lbMembership(false)},
		{Name: "listLoadBalancerRuleInstances", Desc: "List all virtual machine instances that are assigned to a load balancer rule.",
			Resp: "loadbalancerruleinstance", RespOf: vmView{},
			Params: listParams(p("id*:uuid:FirewallRule", "the ID of the load balancer rule"),
				p("applied:boolean", "true if listing all virtual machines currently applied to the load balancer rule; default is true"),
				p("lbvmips:boolean", "true if load balancer rule VM IP information to be included; default is false")),
			Run: listLBInstances},
		{Name: "createLBStickinessPolicy", Async: true, Desc: "Creates a load balancer stickiness policy ", Resp: "stickinesspolicies", RespOf: stickinessPoliciesView{},
			Params: []param{p("lbruleid*:uuid:FirewallRule", "the ID of the load balancer rule"),
				p("methodname*:string", "name of the load balancer stickiness policy method, possible values are LbCookie, AppCookie, SourceBased"),
				p("name*:string", "name of the load balancer stickiness policy"),
				p("description:string", "the description of the load balancer stickiness policy"),
				p("param:map", "param list. Example: param[0].name=cookiename&param[0].value=LBCookie "), pForDisplay},
			Run: func(rq *request) (any, error) {
				params := map[string]string{}
				for _, m := range rq.p.Map("param") {
					params[orAll(m["name"], m["key"])] = m["value"] // cloudstack-go sends key=
				}
				pol := cloud.LBPolicy{Name: rq.str("name"), Description: rq.str("description"), Method: rq.str("methodname"),
					Params: params, Display: rq.boolean("fordisplay", true)}
				return rq.addLBPolicy(cloud.LBStickiness, pol)
			}},
		{Name: "deleteLBStickinessPolicy", Async: true, Desc: "Deletes a load balancer stickiness policy.", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:LBStickinessPolicy", "the ID of the LB stickiness policy")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteLBPolicy(rq.ctx, rq.c, rq.str("id"), cloud.LBStickiness, rq.className()))
			}},
		{Name: "listLBStickinessPolicies", Desc: "Lists load balancer stickiness policies.", Resp: "stickinesspolicies", RespOf: stickinessPoliciesView{},
			Params: listParams(p("lbruleid:uuid:FirewallRule", "the ID of the load balancer rule"),
				p("id:uuid:LBStickinessPolicy", "the ID of the load balancer stickiness policy"), pListDisplay),
			Run: func(rq *request) (any, error) {
				return listLBPolicies(rq, "stickinesspolicies", func(r cloud.Reader, x *cloud.NetRule, only string) any { return stickinessOf(r, x, only) })
			}},
		{Name: "createLBHealthCheckPolicy", Async: true, Desc: "Creates a load balancer health check policy", Resp: "healthcheckpolicies", RespOf: healthCheckPoliciesView{},
			Params: []param{p("lbruleid*:uuid:FirewallRule", "the ID of the load balancer rule"),
				p("description:string", "the description of the load balancer health check policy"),
				p("pingpath:string", "HTTP ping path"),
				p("responsetimeout:integer", "Time to wait when receiving a response from the health check (2sec - 60 sec)"),
				p("intervaltime:integer", "Amount of time between health checks (1 sec - 20940 sec)"),
				p("healthythreshold:integer", "Number of consecutive health check success before declaring an instance healthy"),
				p("unhealthythreshold:integer", "Number of consecutive health check failures before declaring an instance unhealthy"), pForDisplay},
			Run: func(rq *request) (any, error) {
				pol := cloud.LBPolicy{Description: rq.str("description"), PingPath: rq.str("pingpath"), ResponseTime: rq.port("responsetimeout"),
					Interval: rq.port("intervaltime"), HealthyThreshold: rq.port("healthythreshold"), UnhealthyThreshold: rq.port("unhealthythreshold"),
					Display: rq.boolean("fordisplay", true)}
				return rq.addLBPolicy(cloud.LBHealthCheck, pol)
			}},
		{Name: "deleteLBHealthCheckPolicy", Async: true, Desc: "Deletes a load balancer health check policy.", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid:LBHealthCheckPolicy", "the ID of the load balancer health check policy")},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.DeleteLBPolicy(rq.ctx, rq.c, rq.str("id"), cloud.LBHealthCheck, rq.className()))
			}},
		{Name: "listLBHealthCheckPolicies", Desc: "Lists load balancer health check policies.", Resp: "healthcheckpolicies", RespOf: healthCheckPoliciesView{},
			Params: listParams(p("lbruleid:uuid:FirewallRule", "the ID of the load balancer rule"),
				p("id:uuid:LBHealthCheckPolicy", "the ID of the health check policy"), pListDisplay),
			Run: func(rq *request) (any, error) {
				return listLBPolicies(rq, "healthcheckpolicies", func(r cloud.Reader, x *cloud.NetRule, only string) any { return healthChecksOf(r, x, only) })
			}},
	}
}

func createLB(rq *request) (any, error) {
	ipID := rq.str("publicipid")
	if ipID == "" {
		return nil, cloud.Invalid("Unable to execute API command createloadbalancerrule due to missing parameter publicipid")
	}
	if rq.str("account") != "" || rq.str("domainid") != "" {
		// the rule belongs to the address's owner; the scope only has to be one the caller may use
		if _, err := rq.read(func(r cloud.Reader) (any, error) { return r.ScopeFilter(rq.c, rq.scope()) }); err != nil {
			return nil, err
		}
	}
	return rq.createRule(cloud.NetRuleSpec{Purpose: cloud.PurposeLoadBalancing, PublicIPID: ipID, NetworkID: rq.str("networkid"),
		Name: rq.str("name"), Description: rq.str("description"), Algorithm: rq.str("algorithm"), Protocol: rq.str("protocol"),
		StartPort: rq.port("publicport"), PrivatePort: rq.port("privateport"), CIDRs: rq.p.List("cidrlist"),
		OpenFirewall: rq.boolean("openfirewall", true)})
}

// lbMembership is assignToLoadBalancerRule (add) or
// removeFromLoadBalancerRule.
func lbMembership(add bool) func(rq *request) (any, error) {
	return func(rq *request) (any, error) {
		ms, err := rq.lbMembers()
		if err != nil {
			return nil, err
		}
		if add {
			return asyncJob(rq.h.sim.AssignToLB(rq.ctx, rq.c, rq.str("id"), ms, rq.className()))
		}
		return asyncJob(rq.h.sim.RemoveFromLB(rq.ctx, rq.c, rq.str("id"), ms, rq.className()))
	}
}

// lbMembers reads virtualmachineids and vmidipmap (whose address key is
// vmip for assign and ip for remove; both are read).
func (rq *request) lbMembers() ([]cloud.LBMemberSpec, error) {
	var out []cloud.LBMemberSpec
	for _, id := range rq.p.List("virtualmachineids") {
		out = append(out, cloud.LBMemberSpec{VMID: id})
	}
	for _, m := range rq.p.Map("vmidipmap") {
		id := m["vmid"]
		if !cloud.IsID(id) {
			return nil, rq.invalidValue("vmidipmap", id)
		}
		out = append(out, cloud.LBMemberSpec{VMID: id, IP: orAll(m["vmip"], m["ip"])})
	}
	if len(out) == 0 {
		return nil, cloud.Invalid("Unable to execute API command %s due to missing parameter virtualmachineids", strings.ToLower(rq.cmd.Name))
	}
	return out, nil
}

func (rq *request) addLBPolicy(kind cloud.LBPolicyKind, pol cloud.LBPolicy) (any, error) {
	p, job, err := rq.h.sim.AddLBPolicy(rq.ctx, rq.c, rq.str("lbruleid"), kind, pol, rq.className())
	if err != nil {
		return nil, err
	}
	return AsyncAnswer{ID: p.ID, JobID: job.ID}, nil
}

func listLBs(rq *request) (any, error) {
	disp, hasDisp := rq.p["fordisplay"]
	vmID := rq.str("virtualmachineid")
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		all := r.NetRules()
		switch {
		case rq.str("publicipid") != "":
			all = r.RulesOfIP(rq.str("publicipid"))
		case vmID != "":
			all = r.RulesOfVM(vmID)
		}
		return listView(rq, "loadbalancerrule", all, func(x *cloud.NetRule) bool {
			if x.Purpose != cloud.PurposeLoadBalancing || !keep(x.Owner) || !rq.match("id", x.ID) || !rq.match("name", x.Name) ||
				!rq.match("publicipid", x.PublicIPID) || !rq.match("networkid", x.NetworkID) || !rq.match("zoneid", lbZone(r, x)) ||
				hasDisp && parseBool(disp) != x.Display || !rq.keyword(x.Name, x.Description) || !rq.tagsMatch(r, x.ID) {
				return false
			}
			if vmID != "" {
				for _, m := range x.Members {
					if m.VMID == vmID {
						return true
					}
				}
				return false
			}
			return true
		}, func(x *cloud.NetRule) loadBalancerView { return loadBalancerOf(r, x) })
	})
}

// lbInstanceView is an entry of listLoadBalancerRuleInstances with
// lbvmips=true: the VM and its addresses in the rule.
type lbInstanceView struct {
	Instance        vmView   `json:"loadbalancerruleinstance"`
	LBVMIPAddresses []string `json:"lbvmipaddresses"`
}

func listLBInstances(rq *request) (any, error) {
	withIPs := rq.boolean("lbvmips", false)
	applied := rq.boolean("applied", true)
	return rq.read(func(r cloud.Reader) (any, error) {
		x, ok := r.NetRule(rq.str("id"))
		if !ok || x.Purpose != cloud.PurposeLoadBalancing || !r.CanAccess(rq.c, x.Owner) {
			return nil, rq.invalidValue("id", rq.str("id"))
		}
		var vms []*cloud.VM
		ips := map[string][]string{}
		if applied {
			for _, m := range x.Members {
				if _, seen := ips[m.VMID]; !seen {
					if vm, ok := r.VM(m.VMID); ok {
						vms = append(vms, vm)
					}
				}
				ips[m.VMID] = append(ips[m.VMID], m.IP)
			}
		} else {
			// the VMs of the rule's network that could be added
			for _, vm := range r.VMsOf(x.AccountID) {
				in := false
				for _, m := range x.Members {
					in = in || m.VMID == vm.ID
				}
				if !in && hasNIC(vm, x.NetworkID) && vm.State != cloud.VMDestroyed && vm.State != cloud.VMExpunging {
					vms = append(vms, vm)
				}
			}
		}
		if withIPs {
			return listView(rq, "lbrulevmidip", vms, nil, func(vm *cloud.VM) lbInstanceView {
				return lbInstanceView{Instance: vmOf(r, vm, false), LBVMIPAddresses: append([]string{}, ips[vm.ID]...)}
			})
		}
		return listView(rq, "loadbalancerruleinstance", vms, nil, func(vm *cloud.VM) vmView { return vmOf(r, vm, false) })
	})
}

// listLBPolicies lists the policies of one rule (lbruleid) or the rule of
// one policy (id); one of the two is required.
func listLBPolicies(rq *request, key string, view func(cloud.Reader, *cloud.NetRule, string) any) (any, error) {
	ruleID, id := rq.str("lbruleid"), rq.str("id")
	if ruleID == "" && id == "" {
		return nil, cloud.Invalid("Either lbruleid or id must be specified")
	}
	return rq.read(func(r cloud.Reader) (any, error) {
		var x *cloud.NetRule
		var ok bool
		if id != "" {
			x, ok = r.LBPolicyRule(id)
		} else {
			x, ok = r.NetRule(ruleID)
		}
		if !ok || x.Purpose != cloud.PurposeLoadBalancing || !r.CanAccess(rq.c, x.Owner) || ruleID != "" && x.ID != ruleID {
			return List{Key: key}, nil
		}
		return List{Key: key, Count: 1, Items: []any{view(r, x, id)}}, nil
	})
}
