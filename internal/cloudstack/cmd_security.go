package cloudstack

import (
	"strconv"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

func securityCommands() []*command {
	ruleParams := []param{
		p("securitygroupid:uuid:SecurityGroup", "The ID of the security group. Mutually exclusive with securityGroupName parameter"),
		p("securitygroupname:string", "The name of the security group. Mutually exclusive with securityGroupId parameter"),
		p("protocol:string", "TCP is default. UDP is the other supported protocol"),
		p("startport:integer", "start port for this ingress rule"), p("endport:integer", "end port for this ingress rule"),
		p("icmptype:integer", "type of the icmp message being sent"), p("icmpcode:integer", "error code for this icmp message"),
		p("cidrlist:list", "the cidr list associated. Multiple entries must be separated by a single comma character (,)."),
		p("usersecuritygrouplist:map", "user to security group mapping"), pAccount, pDomainID,
	}
	return []*command{
		{Name: "createSecurityGroup", Desc: "Creates a security group", Resp: "securitygroup", RespOf: securityGroupView{},
			Params: []param{p("name*:string", "name of the security group"), p("description:string", "the description of the security group"), pAccount, pDomainID,
				p("projectid:uuid:Project", "Create security group for project")},
			Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				g, err := rq.h.sim.CreateSecurityGroup(rq.ctx, rq.c, rq.str("name"), rq.str("description"), account, domainID)
				if err != nil {
					return nil, err
				}
				return rq.read(func(r cloud.Reader) (any, error) {
					return Object{Key: "securitygroup", Obj: securityGroupOf(r, g, true)}, nil
				})
			}},
		{Name: "deleteSecurityGroup", Desc: "Deletes security group", Resp: "success", RespOf: Success{},
			Params: []param{p("id:uuid:SecurityGroup", "The ID of the security group. Mutually exclusive with name parameter"),
				p("name:string", "The ID of the security group. Mutually exclusive with id parameter"), pAccount, pDomainID},
			Run: func(rq *request) (any, error) {
				if err := rq.h.sim.DeleteSecurityGroup(rq.ctx, rq.c, rq.str("id"), rq.str("name"), rq.str("account"), rq.str("domainid")); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
		{Name: "authorizeSecurityGroupIngress", Async: true, Desc: "Authorizes a particular ingress rule for this security group",
			Resp: "securitygroup", RespOf: securityGroupView{}, Params: ruleParams, Run: func(rq *request) (any, error) { return authorize(rq, false) }},
		{Name: "authorizeSecurityGroupEgress", Async: true, Desc: "Authorizes a particular egress rule for this security group",
			Resp: "securitygroup", RespOf: securityGroupView{}, Params: ruleParams, Run: func(rq *request) (any, error) { return authorize(rq, true) }},
		{Name: "revokeSecurityGroupIngress", Async: true, Desc: "Deletes a particular ingress rule from this security group", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid", "The ID of the ingress rule")}, Run: func(rq *request) (any, error) { return revoke(rq, false) }},
		{Name: "revokeSecurityGroupEgress", Async: true, Desc: "Deletes a particular egress rule from this security group", Resp: "success", RespOf: Success{},
			Params: []param{p("id*:uuid", "The ID of the egress rule")}, Run: func(rq *request) (any, error) { return revoke(rq, true) }},
		{Name: "listSecurityGroups", Desc: "Lists security groups", Resp: "securitygroup", RespOf: securityGroupView{},
			Params: ownedListParams(withID(cloud.KindSecurityGroup, pTags, p("securitygroupname:string", "lists security groups by name"),
				p("virtualmachineid:uuid:UserVm", "lists security groups by virtual machine id"))...), Run: listSecurityGroups},
		{Name: "createSSHKeyPair", Desc: "Create a new keypair and returns the private key", Resp: "keypair", RespOf: keyPairView{},
			Params: []param{p("name*:string", "Name of the keypair"), pAccount, pDomainID, p("projectid:uuid:Project", "an optional project for the ssh key")},
			Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				k, priv, err := rq.h.sim.CreateKeyPair(rq.ctx, rq.c, rq.str("name"), account, domainID)
				if err != nil {
					return nil, err
				}
				return rq.read(func(r cloud.Reader) (any, error) {
					v := keyPairOf(r, k)
					v.PrivateKey = priv
					return Object{Key: "keypair", Obj: v}, nil
				})
			}},
		{Name: "registerSSHKeyPair", Desc: "Register a public key in a keypair under a certain name", Resp: "keypair", RespOf: keyPairView{},
			Params: []param{p("name*:string", "Name of the keypair"), p("publickey*:string", "Public key material of the keypair"), pAccount, pDomainID,
				p("projectid:uuid:Project", "an optional project for the ssh key")},
			Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				k, err := rq.h.sim.RegisterKeyPair(rq.ctx, rq.c, rq.str("name"), rq.str("publickey"), account, domainID)
				if err != nil {
					return nil, err
				}
				return rq.read(func(r cloud.Reader) (any, error) { return Object{Key: "keypair", Obj: keyPairOf(r, k)}, nil })
			}},
		{Name: "deleteSSHKeyPair", Desc: "Deletes a keypair by name", Resp: "success", RespOf: Success{},
			Params: []param{p("name*:string", "Name of the keypair"), pAccount, pDomainID, p("projectid:uuid:Project", "the project associated with keypair")},
			Run: func(rq *request) (any, error) {
				account, domainID, err := rq.owner()
				if err != nil {
					return nil, err
				}
				if err := rq.h.sim.DeleteKeyPair(rq.ctx, rq.c, rq.str("name"), account, domainID); err != nil {
					return nil, err
				}
				return Success{Success: true}, nil
			}},
		{Name: "listSSHKeyPairs", Desc: "List registered keypairs", Resp: "sshkeypair", RespOf: keyPairView{},
			Params: ownedListParams(withID(cloud.KindSSHKeyPair, pName, p("fingerprint:string", "A public key fingerprint to look for"))...),
			Run: func(rq *request) (any, error) {
				return rq.read(func(r cloud.Reader) (any, error) {
					keep, err := rq.ownerScope(r)
					if err != nil {
						return nil, err
					}
					return listView(rq, "sshkeypair", r.KeyPairs(), func(k *cloud.SSHKeyPair) bool {
						return keep(k.Owner) && rq.match("id", k.ID) && rq.match("name", k.Name) && rq.match("fingerprint", k.Fingerprint) && rq.keyword(k.Name)
					}, func(k *cloud.SSHKeyPair) keyPairView { return keyPairOf(r, k) })
				})
			}},
	}
}

func authorize(rq *request, egress bool) (any, error) {
	num := func(name string) (int, error) {
		v := rq.integer(name, 0)
		if v < -1 || v > 65535 {
			return 0, rq.invalidValue(name, rq.str(name))
		}
		return int(v), nil
	}
	spec := cloud.RuleSpec{GroupID: rq.str("securitygroupid"), GroupName: rq.str("securitygroupname"), Account: rq.str("account"),
		DomainID: rq.str("domainid"), Protocol: rq.str("protocol"), CIDRs: rq.p.List("cidrlist")}
	var err error
	if spec.StartPort, err = num("startport"); err != nil {
		return nil, err
	}
	if spec.EndPort, err = num("endport"); err != nil {
		return nil, err
	}
	if spec.ICMPType, err = num("icmptype"); err != nil {
		return nil, err
	}
	if spec.ICMPCode, err = num("icmpcode"); err != nil {
		return nil, err
	}
	if !rq.p.Has("endport") {
		spec.EndPort = spec.StartPort
	}
	for _, m := range rq.p.Map("usersecuritygrouplist") {
		spec.Groups = append(spec.Groups, [2]string{m["account"], m["group"]})
	}
	if spec.GroupID == "" && spec.GroupName == "" {
		return nil, cloud.Invalid("Either securitygroupid or securitygroupname must be specified")
	}
	// The rule change is quick and has no agent command: it is done in the
	// request and its job is complete when the client first polls.
	job, err := rq.h.sim.AuthorizeJob(rq.ctx, rq.c, egress, spec, rq.className())
	return asyncJob(job, err)
}

func revoke(rq *request, egress bool) (any, error) {
	return asyncJob(rq.h.sim.RevokeJob(rq.ctx, rq.c, egress, rq.str("id"), rq.className()))
}

func listSecurityGroups(rq *request) (any, error) {
	vmID := rq.str("virtualmachineid")
	return rq.read(func(r cloud.Reader) (any, error) {
		keep, err := rq.ownerScope(r)
		if err != nil {
			return nil, err
		}
		var onVM map[string]bool
		if vmID != "" {
			onVM = map[string]bool{}
			if vm, ok := r.VM(vmID); ok {
				for _, id := range vm.SecurityGroupIDs {
					onVM[id] = true
				}
			}
		}
		return listView(rq, "securitygroup", r.SecurityGroups(), func(g *cloud.SecurityGroup) bool {
			return keep(g.Owner) && rq.match("id", g.ID) && rq.match("securitygroupname", g.Name) && (onVM == nil || onVM[g.ID]) &&
				rq.keyword(g.Name, g.Description) && rq.tagsMatch(r, g.ID)
		}, func(g *cloud.SecurityGroup) securityGroupView { return securityGroupOf(r, g, true) })
	})
}

var _ = strconv.Itoa
