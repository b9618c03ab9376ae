package cloudstack

import (
	"github.com/stratus-cloud/stratus/internal/cloud"
)

// The small updates of the network family: fordisplay of firewall and
// egress rules, load balancer policies and public addresses, a security
// group's name, and a network ACL rule's place in its list. customid is accepted and ignored (ids are
// stratus's own).

func netUpdateCommands() []*command {
	pCustomID := p("customid:string", "an optional field, in case you want to set a custom id to the resource. Allowed to Root Admins only")
	firewall := func(name, desc, traffic string) *command {
		return &command{Name: name, Async: true, Desc: desc, Resp: "firewallrule", RespOf: firewallView{},
			Params: []param{p("id*:uuid:FirewallRule", "the ID of the "+map[string]string{cloud.TrafficIngress: "", cloud.TrafficEgress: "egress "}[traffic]+"firewall rule"),
				pForDisplay, pCustomID},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateFirewallDisplay(rq.ctx, rq.c, rq.str("id"), traffic, rq.optBool("fordisplay"), rq.className()))
			}}
	}
	policy := func(name, desc, resp string, respOf any, kind cloud.LBPolicyKind, entity string) *command {
		return &command{Name: name, Async: true, Desc: desc, Resp: resp, RespOf: respOf,
			Params: []param{p("id*:uuid:"+entity, "id of lb "+map[cloud.LBPolicyKind]string{cloud.LBStickiness: "stickiness", cloud.LBHealthCheck: "health check"}[kind]+" policy"),
				p("fordisplay:boolean", "an optional field, whether to the display the policy to the end user or not"), pCustomID},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdateLBPolicyDisplay(rq.ctx, rq.c, rq.str("id"), kind, rq.optBool("fordisplay"), rq.className()))
			}}
	}
	return []*command{
		firewall("updateFirewallRule", "Updates firewall rule ", cloud.TrafficIngress),
		firewall("updateEgressFirewallRule", "Updates egress firewall rule ", cloud.TrafficEgress),
		policy("updateLBStickinessPolicy", "Updates load balancer stickiness policy", "stickinesspolicies", stickinessPoliciesView{}, cloud.LBStickiness, "LBStickinessPolicy"),
		policy("updateLBHealthCheckPolicy", "Updates load balancer health check policy", "healthcheckpolicies", healthCheckPoliciesView{}, cloud.LBHealthCheck, "LBHealthCheckPolicy"),
		{Name: "updateIpAddress", Async: true, Desc: "Updates an IP address", Resp: "ipaddress", RespOf: publicIPView{},
			Params: []param{p("id*:uuid:PublicIpAddress", "the ID of the public IP address to update"),
				p("fordisplay:boolean", "an optional field, whether to the display the IP to the end user or not"), pCustomID},
			Run: func(rq *request) (any, error) {
				return asyncJob(rq.h.sim.UpdatePublicIPDisplay(rq.ctx, rq.c, rq.str("id"), rq.optBool("fordisplay"), rq.className()))
			}},
		{Name: "moveNetworkAclItem", Async: true, Desc: "Move an ACL rule to a position bettwen two other ACL rules of the same ACL network list", Resp: "networkacl",
			RespOf: networkACLItemView{},
			Params: []param{p("id*:string", "The ID of the network ACL rule that is being moved to a new position."),
				p("previousaclruleid:string", "The ID of the first rule that is right before the new position where the rule being moved is going to be placed. This value can be 'NULL' if the rule is being moved to the first position of the network ACL list."),
				p("nextaclruleid:string", "The ID of the rule that is right after the new position where the rule being moved is going to be placed. This value can be 'NULL' if the rule is being moved to the last position of the network ACL list."),
				p("aclconsistencyhash:string", "Md5 hash used to check the consistency of the ACL rule list before applying the ACL rule move."), pCustomID},
			Run: func(rq *request) (any, error) {
				it, job, err := rq.h.sim.MoveNetworkACLItem(rq.ctx, rq.c, rq.str("id"), rq.str("previousaclruleid"), rq.str("nextaclruleid"),
					rq.str("aclconsistencyhash"), rq.className())
				if err != nil {
					return nil, err
				}
				return AsyncAnswer{ID: it.ID, JobID: job.ID}, nil
			}},
		{Name: "updateSecurityGroup", Desc: "Updates a security group", Resp: "securitygroup", RespOf: securityGroupView{},
			Params: []param{p("id*:uuid:SecurityGroup", "The ID of the security group."), p("name:string", "The new name of the security group."), pCustomID},
			Run: func(rq *request) (any, error) {
				g, err := rq.h.sim.RenameSecurityGroup(rq.ctx, rq.c, rq.str("id"), rq.optStr("name"))
				if err != nil {
					return nil, err
				}
				return rq.read(func(r cloud.Reader) (any, error) {
					return Object{Key: "securitygroup", Obj: securityGroupOf(r, g, true)}, nil
				})
			}},
	}
}
