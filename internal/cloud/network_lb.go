package cloud

import (
	"context"
	"slices"
	"strings"
)

// This file is the load balancer side of the network rules: members and
// policies of LoadBalancing rules. A cloud controller that turns
// LoadBalancer Services into CloudStack rules goes through the CloudStack
// API, which calls these (CreateRule with PurposeLoadBalancing makes the
// rule).

// LBMemberSpec names a VM to add to or remove from a load balancer, and
// optionally which of its addresses on the rule's network (its NIC's
// address by default, or a secondary address).
type LBMemberSpec struct {
	VMID string
	IP   string
}

// lbFor returns the load balancer rule id that c may change.
func (ix *index) lbFor(c Caller, id string) (*NetRule, error) {
	return ix.ruleFor(c, id, PurposeLoadBalancing, "")
}

// lbMembers resolves member specs against rule r's network.
func (ix *index) lbMembers(c Caller, r *NetRule, specs []LBMemberSpec) ([]LBMember, error) {
	out := make([]LBMember, 0, len(specs))
	for _, sp := range specs {
		vm, ok := ix.vms.get(sp.VMID)
		if !ok || !ix.canAccess(c, vm.Owner) {
			return nil, notFound(KindVM, sp.VMID)
		}
		if vm.State == VMDestroyed || vm.State == VMExpunging || vm.State == VMError {
			return nil, Invalid("Invalid instance id specified %s: it is %s", vm.ID, vm.State)
		}
		m := LBMember{VMID: vm.ID}
		for _, nic := range vm.NICs {
			if nic.NetworkID != r.NetworkID {
				continue
			}
			m.IP = nic.IP
			if sp.IP != "" && sp.IP != nic.IP {
				found := false
				for _, sec := range ix.secondaryIPs.byGroup(nic.ID) {
					found = found || sec.IP == sp.IP
				}
				if !found {
					return nil, Invalid("VM ip %s specified does not belong to nic in network %s", sp.IP, r.NetworkID)
				}
				m.IP = sp.IP
			}
		}
		if m.IP == "" {
			n, _ := ix.networks.get(r.NetworkID)
			name := r.NetworkID
			if n != nil {
				name = n.Name
			}
			return nil, Invalid("VM %s is not in the network %s of load balancer rule %s", vm.InstanceName, name, r.Name)
		}
		out = append(out, m)
	}
	return out, nil
}

// AssignToLB adds VMs to a load balancer rule, in an async job.
func (s *Sim) AssignToLB(ctx context.Context, c Caller, id string, members []LBMemberSpec, cmd string) (*Job, error) {
	return s.lbMembership(ctx, c, id, members, cmd, true)
}

// RemoveFromLB takes VMs out of a load balancer rule, in an async job.
func (s *Sim) RemoveFromLB(ctx context.Context, c Caller, id string, members []LBMemberSpec, cmd string) (*Job, error) {
	return s.lbMembership(ctx, c, id, members, cmd, false)
}

func (s *Sim) lbMembership(ctx context.Context, c Caller, id string, specs []LBMemberSpec, cmd string, add bool) (*Job, error) {
	decide := func(ix *index, c Caller) (*NetRule, error) {
		r, err := ix.lbFor(c, id)
		if err != nil {
			return nil, err
		}
		ms, err := ix.lbMembers(c, r, specs)
		if err != nil {
			return nil, err
		}
		n := *r
		n.Members = slices.Clone(r.Members)
		for _, m := range ms {
			i := slices.IndexFunc(n.Members, func(x LBMember) bool { return x.VMID == m.VMID && x.IP == m.IP })
			switch {
			case add && i >= 0:
				vm, _ := ix.vms.get(m.VMID)
				return nil, Invalid("VM %s is already mapped to load balancer rule %s with ip %s", vm.InstanceName, r.Name, m.IP)
			case add:
				n.Members = append(n.Members, m)
			case i < 0:
				vm, _ := ix.vms.get(m.VMID)
				return nil, Invalid("Instance %s is not assigned to load balancer rule %s", vm.InstanceName, r.Name)
			default:
				n.Members = slices.Delete(n.Members, i, i+1)
			}
		}
		return &n, nil
	}
	var err error
	s.read(func(ix *index) { _, err = decide(ix, c) })
	if err != nil {
		return nil, err
	}
	verb := map[bool]string{true: "LB.ASSIGN.TO.RULE", false: "LB.REMOVE.FROM.RULE"}[add]
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindFirewallRule, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			n, err := decide(ix, jc.caller(ix))
			if err != nil {
				return err
			}
			b := &batch{}
			put(b, ix.rules, n)
			ix.event(b, s, n.Owner, jc.caller(ix), verb, "Changed the members of load balancer rule "+n.Name, n.ID, KindFirewallRule)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// LBPolicyKind is a stickiness or health check policy.
type LBPolicyKind int

// Policy kinds.
const (
	LBStickiness LBPolicyKind = iota
	LBHealthCheck
)

// stickinessMethods are the methods the virtual router's HAProxy offers.
var stickinessMethods = []string{"LbCookie", "AppCookie", "SourceBased"}

// AddLBPolicy attaches a policy to a load balancer rule. Like CloudStack's
// create commands the policy exists once the call returns and the job is
// complete; the job's result is the rule, whose policies the API lists.
func (s *Sim) AddLBPolicy(ctx context.Context, c Caller, ruleID string, kind LBPolicyKind, p LBPolicy, cmd string) (*LBPolicy, *Job, error) {
	var out *LBPolicy
	var job *Job
	err := s.write(func(ix *index) error {
		r, err := ix.lbFor(c, ruleID)
		if err != nil {
			return err
		}
		n := *r
		p.ID, p.State = newID(), "Active"
		resKind := KindLBStickinessPolicy
		if kind == LBStickiness {
			i := slices.IndexFunc(stickinessMethods, func(m string) bool { return strings.EqualFold(m, p.Method) })
			if i < 0 {
				return Invalid("Failed to create Stickiness policy: Validation Failed (Stickiness method %s is not supported by the load balancer provider)", p.Method)
			}
			p.Method = stickinessMethods[i]
			if len(r.Stickiness) > 0 {
				return Invalid("Failed to create Stickiness policy: Validation Failed (Stickiness policy %s is already applied to load balancer rule %s)", r.Stickiness[0].Name, r.Name)
			}
			n.Stickiness = []LBPolicy{p}
		} else {
			resKind = KindLBHealthCheckPolicy
			if p.PingPath == "" {
				p.PingPath = "/"
			}
			p.ResponseTime, p.Interval = orInt(p.ResponseTime, 2), orInt(p.Interval, 5)
			p.HealthyThreshold, p.UnhealthyThreshold = orInt(p.HealthyThreshold, 2), orInt(p.UnhealthyThreshold, 10)
			if p.ResponseTime < 2 || p.ResponseTime > 60 || p.Interval < 1 || p.Interval > 20940 || p.Interval <= p.ResponseTime {
				return Invalid("Failed to create HealthCheck policy: Validation Failed (interval time %d must be between 1 and 20940 and greater than response time %d, which must be between 2 and 60)", p.Interval, p.ResponseTime)
			}
			if len(r.HealthChecks) > 0 {
				return Invalid("Failed to create HealthCheck policy: Validation Failed (HealthCheck policy is already applied to load balancer rule %s)", r.Name)
			}
			n.HealthChecks = []LBPolicy{p}
		}
		b := &batch{}
		put(b, ix.rules, &n)
		job = s.newJobVal(c, n.Owner, JobSpec{Cmd: cmd, InstanceType: KindFirewallRule, InstanceID: n.ID})
		job.complete(s.clock.Now().UTC(), resKind, &n)
		put(b, ix.jobs, job)
		out = &p
		return s.commit(ctx, b)
	})
	return out, job, err
}

func orInt(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// DeleteLBPolicy removes a stickiness or health check policy, in an async
// job.
func (s *Sim) DeleteLBPolicy(ctx context.Context, c Caller, policyID string, kind LBPolicyKind, cmd string) (*Job, error) {
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
		drop := func(ps []LBPolicy) []LBPolicy {
			return slices.DeleteFunc(slices.Clone(ps), func(p LBPolicy) bool { return p.ID == policyID })
		}
		if kind == LBStickiness {
			n.Stickiness = drop(r.Stickiness)
			if len(n.Stickiness) == len(r.Stickiness) {
				return nil, notFound(pk, policyID)
			}
		} else {
			n.HealthChecks = drop(r.HealthChecks)
			if len(n.HealthChecks) == len(r.HealthChecks) {
				return nil, notFound(pk, policyID)
			}
		}
		return &n, nil
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
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}
