package cloud

import (
	"context"
	"net/netip"
	"strings"
)

func (ix *index) securityGroupByName(o Owner, name string) *SecurityGroup {
	for _, g := range ix.securityGroups.all() {
		if g.AccountID == o.AccountID && strings.EqualFold(g.Name, name) {
			return g
		}
	}
	return nil
}

// resolveSecurityGroups checks a deploy's security groups: only in zones
// with security groups, where the account's default group applies when
// none is named (created if the account has none).
func (ix *index) resolveSecurityGroups(b *batch, s *Sim, z *Zone, o Owner, ids, names []string, c Caller) ([]string, error) {
	if !z.SecurityGroups {
		if len(ids)+len(names) > 0 {
			return nil, Invalid("Can't create vm with security groups; security group feature is not enabled per zone")
		}
		return nil, nil
	}
	if len(ids) > 0 && len(names) > 0 {
		return nil, Invalid("securitygroupids parameter is mutually exclusive with securitygroupnames parameter")
	}
	var out []string
	for _, id := range ids {
		g, ok := ix.securityGroups.get(id)
		if !ok || !ix.canAccess(c, g.Owner) {
			return nil, notFound(KindSecurityGroup, id)
		}
		out = append(out, g.ID)
	}
	for _, n := range names {
		g := ix.securityGroupByName(o, n)
		if g == nil {
			return nil, Invalid("Unable to find group by name %s", n)
		}
		out = append(out, g.ID)
	}
	if len(out) == 0 {
		g := ix.securityGroupByName(o, "default")
		if g == nil {
			g = defaultSecurityGroup(ix, o, s.clock.Now().UTC())
			put(b, ix.securityGroups, g)
		}
		out = append(out, g.ID)
	}
	return out, nil
}

// CreateSecurityGroup creates an empty security group.
func (s *Sim) CreateSecurityGroup(ctx context.Context, c Caller, name, description, account, domainID string) (*SecurityGroup, error) {
	if strings.TrimSpace(name) == "" {
		return nil, Invalid("Security group name cannot be empty")
	}
	var g *SecurityGroup
	err := s.write(func(ix *index) error {
		o, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		if ix.securityGroupByName(o, name) != nil {
			return Invalid("Unable to create security group, a group with name %s already exists.", name)
		}
		g = &SecurityGroup{ID: newID(), Seq: ix.nextSeq(), Name: name, Description: description, Ingress: []Rule{}, Egress: []Rule{},
			Created: s.clock.Now().UTC(), Owner: o}
		b := &batch{}
		put(b, ix.securityGroups, g)
		ix.event(b, s, o, c, "SG.CREATE", "Successfully created security group "+name, g.ID, KindSecurityGroup)
		return s.commit(ctx, b)
	})
	return g, err
}

// DeleteSecurityGroup removes a security group no VM uses.
func (s *Sim) DeleteSecurityGroup(ctx context.Context, c Caller, id, name, account, domainID string) error {
	return s.write(func(ix *index) error {
		g, err := ix.findSecurityGroup(c, id, name, account, domainID)
		if err != nil {
			return err
		}
		if g.Name == "default" {
			return Invalid("The network default group cannot be deleted")
		}
		for _, vm := range ix.vms.byGroup(g.AccountID) {
			for _, sg := range vm.SecurityGroupIDs {
				if sg == g.ID && vm.State != VMExpunging {
					return InUse("Cannot delete group when it's in use by virtual machines")
				}
			}
		}
		b := &batch{}
		del(b, ix.securityGroups, g.ID)
		for _, t := range ix.tags.byGroup(g.ID) {
			del(b, ix.tags, t.ID)
		}
		ix.event(b, s, g.Owner, c, "SG.DELETE", "Successfully deleted security group "+g.Name, g.ID, KindSecurityGroup)
		return s.commit(ctx, b)
	})
}

func (ix *index) findSecurityGroup(c Caller, id, name, account, domainID string) (*SecurityGroup, error) {
	if id != "" {
		g, ok := ix.securityGroups.get(id)
		if !ok || !ix.canAccess(c, g.Owner) {
			return nil, notFound(KindSecurityGroup, id)
		}
		return g, nil
	}
	if name == "" {
		return nil, Invalid("Either id or name parameter is required by the command")
	}
	o, err := ix.ownerFor(c, account, domainID)
	if err != nil {
		return nil, err
	}
	g := ix.securityGroupByName(o, name)
	if g == nil {
		return nil, Invalid("Unable to find security group by name %s", name)
	}
	return g, nil
}

// RuleSpec describes rules to authorize.
type RuleSpec struct {
	GroupID, GroupName, Account, DomainID string
	Protocol                              string
	StartPort, EndPort                    int
	ICMPType, ICMPCode                    int
	CIDRs                                 []string
	// Groups are other accounts' groups (usersecuritygrouplist).
	Groups [][2]string
}

// Authorize adds ingress (egress=false) or egress rules to a group and
// returns the group and just the new rules.
func (s *Sim) Authorize(ctx context.Context, c Caller, egress bool, r RuleSpec) (*SecurityGroup, []Rule, error) {
	proto := strings.ToLower(r.Protocol)
	switch proto {
	case "tcp", "udp", "icmp", "all":
	case "":
		proto = "tcp"
	default:
		if !isProtoNumber(proto) {
			return nil, nil, Invalid("Invalid protocol %s", r.Protocol)
		}
	}
	if proto == "tcp" || proto == "udp" {
		if r.StartPort < 0 || r.StartPort > 65535 || r.EndPort < 0 || r.EndPort > 65535 {
			return nil, nil, Invalid("Invalid port range %d:%d", r.StartPort, r.EndPort)
		}
		if r.StartPort > r.EndPort {
			return nil, nil, Invalid("Invalid port range %d:%d", r.StartPort, r.EndPort)
		}
	}
	for _, cidr := range r.CIDRs {
		if _, err := netip.ParsePrefix(cidr); err != nil {
			return nil, nil, Invalid("Invalid cidr %s", cidr)
		}
	}
	if len(r.CIDRs) == 0 && len(r.Groups) == 0 {
		r.CIDRs = []string{"0.0.0.0/0"}
	}
	var g *SecurityGroup
	var added []Rule
	err := s.write(func(ix *index) error {
		cur, err := ix.findSecurityGroup(c, r.GroupID, r.GroupName, r.Account, r.DomainID)
		if err != nil {
			return err
		}
		base := Rule{Protocol: proto, StartPort: r.StartPort, EndPort: r.EndPort, ICMPType: r.ICMPType, ICMPCode: r.ICMPCode}
		if proto == "icmp" {
			base.StartPort, base.EndPort = 0, 0
		} else {
			base.ICMPType, base.ICMPCode = 0, 0
		}
		existing := cur.Ingress
		if egress {
			existing = cur.Egress
		}
		for _, cidr := range r.CIDRs {
			nr := base
			nr.ID, nr.CIDR = newID(), cidr
			added = append(added, nr)
		}
		for _, ug := range r.Groups {
			nr := base
			nr.ID, nr.Account, nr.Group = newID(), ug[0], ug[1]
			added = append(added, nr)
		}
		for _, a := range added {
			for _, e := range existing {
				if sameRule(a, e) {
					return Errorf(CodeNetworkRuleConflict, CSCloudRuntime, "Failed to authorize security group rule: the rule already exists")
				}
			}
		}
		n := *cur
		if egress {
			n.Egress = append(append([]Rule(nil), cur.Egress...), added...)
		} else {
			n.Ingress = append(append([]Rule(nil), cur.Ingress...), added...)
		}
		b := &batch{}
		put(b, ix.securityGroups, &n)
		typ := "SG.AUTH.INGRESS"
		if egress {
			typ = "SG.AUTH.EGRESS"
		}
		ix.event(b, s, n.Owner, c, typ, "Successfully authorized rules in security group "+n.Name, n.ID, KindSecurityGroup)
		g = &n
		return s.commit(ctx, b)
	})
	return g, added, err
}

func sameRule(a, b Rule) bool {
	return a.Protocol == b.Protocol && a.StartPort == b.StartPort && a.EndPort == b.EndPort && a.ICMPType == b.ICMPType &&
		a.ICMPCode == b.ICMPCode && a.CIDR == b.CIDR && a.Account == b.Account && a.Group == b.Group
}

func isProtoNumber(p string) bool {
	if p == "" || len(p) > 3 {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 255
}

// Revoke removes an ingress (egress=false) or egress rule by id.
func (s *Sim) Revoke(ctx context.Context, c Caller, egress bool, ruleID string) error {
	return s.write(func(ix *index) error {
		for _, g := range ix.securityGroups.all() {
			rules := g.Ingress
			if egress {
				rules = g.Egress
			}
			for i, r := range rules {
				if r.ID != ruleID {
					continue
				}
				if !ix.canAccess(c, g.Owner) {
					return Denied("Account %s does not have permission to operate on security group %s", c.Account.Name, g.Name)
				}
				n := *g
				kept := append(append([]Rule(nil), rules[:i]...), rules[i+1:]...)
				if egress {
					n.Egress = kept
				} else {
					n.Ingress = kept
				}
				b := &batch{}
				put(b, ix.securityGroups, &n)
				return s.commit(ctx, b)
			}
		}
		return Invalid("Unable to find the security group rule with id %s", ruleID)
	})
}

// AuthorizeJob authorizes rules in an async job whose result is the group
// with just the new rules, as CloudStack answers.
func (s *Sim) AuthorizeJob(ctx context.Context, c Caller, egress bool, r RuleSpec, cmd string) (*Job, error) {
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindSecurityGroup, InstanceID: r.GroupID}, func(ctx context.Context, jc *jobCtx) error {
		g, added, err := s.Authorize(ctx, c, egress, r)
		if err != nil {
			return err
		}
		snap := *g
		if egress {
			snap.Ingress, snap.Egress = []Rule{}, added
		} else {
			snap.Ingress, snap.Egress = added, []Rule{}
		}
		return s.write(func(ix *index) error {
			b := &batch{}
			jc.complete(b, KindSecurityGroup, &snap)
			return s.commit(ctx, b)
		})
	})
}

// RevokeJob revokes a rule in an async job.
func (s *Sim) RevokeJob(ctx context.Context, c Caller, egress bool, ruleID, cmd string) (*Job, error) {
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindSecurityGroup}, func(ctx context.Context, jc *jobCtx) error {
		return s.Revoke(ctx, c, egress, ruleID)
	})
}
