package cloud

import (
	"context"
	"strings"
)

// The small updates of the network family: whether a firewall rule, an
// egress rule, a load balancer policy or a public address is shown to
// the end user (fordisplay), and a security group's name.

// UpdateFirewallDisplay sets whether an ingress (traffic Ingress) or
// egress (Egress) firewall rule is for display, in an async job whose
// result is the rule.
func (s *Sim) UpdateFirewallDisplay(ctx context.Context, c Caller, id, traffic string, display *bool, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = ix.ruleFor(c, id, PurposeFirewall, traffic) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindFirewallRule, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			r, err := ix.ruleFor(jc.caller(ix), id, PurposeFirewall, traffic)
			if err != nil {
				return err
			}
			n := *r
			if display != nil {
				n.Display = *display
			}
			b := &batch{}
			put(b, ix.rules, &n)
			ix.event(b, s, r.Owner, jc.caller(ix), ruleEvent(r.Purpose, r.Traffic, "MODIFY"), "Updated "+ruleNoun(r.Purpose)+" "+r.ID, r.ID, KindFirewallRule)
			jc.complete(b, KindFirewallRule, &n)
			return s.commit(ctx, b)
		})
	})
}

// UpdateLBPolicyDisplay sets whether a stickiness or health check policy
// is for display, in an async job whose result is its rule (the API
// answers with the rule's policies).
func (s *Sim) UpdateLBPolicyDisplay(ctx context.Context, c Caller, policyID string, kind LBPolicyKind, display *bool, cmd string) (*Job, error) {
	pk := KindLBStickinessPolicy
	if kind == LBHealthCheck {
		pk = KindLBHealthCheckPolicy
	}
	find := func(ix *index, c Caller) (*NetRule, error) {
		r, ok := ix.rules.get(ix.ruleIdx.policies[policyID])
		if !ok || !ix.canAccess(c, r.Owner) {
			return nil, notFound(pk, policyID)
		}
		n := *r
		ps := &n.Stickiness
		if kind == LBHealthCheck {
			ps = &n.HealthChecks
		}
		*ps = append([]LBPolicy(nil), *ps...)
		for i := range *ps {
			if (*ps)[i].ID == policyID {
				if display != nil {
					(*ps)[i].Display = *display
				}
				return &n, nil
			}
		}
		return nil, notFound(pk, policyID)
	}
	var err error
	s.read(func(ix *index) { _, err = find(ix, c) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindFirewallRule, InstanceID: policyID}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			n, err := find(ix, jc.caller(ix))
			if err != nil {
				return err
			}
			b := &batch{}
			put(b, ix.rules, n)
			jc.complete(b, pk, n)
			return s.commit(ctx, b)
		})
	})
}

// UpdatePublicIPDisplay sets whether a public address is for display, in
// an async job whose result is the address.
func (s *Sim) UpdatePublicIPDisplay(ctx context.Context, c Caller, id string, display *bool, cmd string) (*Job, error) {
	var err error
	s.read(func(ix *index) { _, err = ix.publicIPFor(c, id) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindPublicIP, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			p, err := ix.publicIPFor(jc.caller(ix), id)
			if err != nil {
				return err
			}
			n := *p
			if display != nil {
				n.Hidden = !*display
			}
			b := &batch{}
			put(b, ix.publicIPs, &n)
			ix.event(b, s, p.Owner, jc.caller(ix), "NET.IPUPDATE", "Updated public IP "+p.Address, id, KindPublicIP)
			jc.complete(b, KindPublicIP, &n)
			return s.commit(ctx, b)
		})
	})
}

// RenameSecurityGroup renames a security group, as
// SecurityGroupManagerImpl.updateSecurityGroup does: the default group
// keeps its name, no other group may take it, names are unique in the
// account. A nil name changes nothing.
func (s *Sim) RenameSecurityGroup(ctx context.Context, c Caller, id string, name *string) (*SecurityGroup, error) {
	var out *SecurityGroup
	err := s.write(func(ix *index) error {
		g, ok := ix.securityGroups.get(id)
		if !ok || !ix.canAccess(c, g.Owner) {
			return Invalid("Unable to find security group: %s; failed to update security group.", id)
		}
		out = g
		if name == nil || *name == g.Name {
			return nil
		}
		switch {
		case strings.TrimSpace(*name) == "":
			return Invalid("Security group name cannot be empty")
		case strings.EqualFold(*name, "default"):
			return Invalid("The security group name default is reserved")
		case strings.EqualFold(g.Name, "default"):
			return Invalid("The default security group cannot be renamed")
		}
		if other := ix.securityGroupByName(g.Owner, *name); other != nil && other.ID != g.ID {
			return Invalid("The security group with name %s already exists.", *name)
		}
		n := *g
		n.Name = *name
		b := &batch{}
		put(b, ix.securityGroups, &n)
		ix.event(b, s, g.Owner, c, "SG.UPDATE", "Successfully updated security group "+n.Name, id, KindSecurityGroup)
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}
