package cloud

import (
	"context"
	"time"
)

// Affinity groups: a VM in a "host anti-affinity" group is placed on no
// host that runs another VM of the group, one in a "host affinity" group
// on a host that does (any host when it is the first). When no host
// qualifies the start fails as any placement does (InsufficientCapacity).

// KindAffinityGroup names affinity groups.
const KindAffinityGroup Kind = "AffinityGroup"

// Affinity group types.
const (
	AffinityHostAnti = "host anti-affinity"
	AffinityHost     = "host affinity"
)

// AffinityGroup is an affinity or anti-affinity group.
type AffinityGroup struct {
	ID          string    `json:"id"`
	Seq         int64     `json:"seq"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Type        string    `json:"type"`
	Created     time.Time `json:"created"`
	Owner
}

// AffinityGroupTypes are the types the simulator offers.
func AffinityGroupTypes() []string { return []string{AffinityHostAnti, AffinityHost} }

// affinityFilter returns whether vm's affinity groups let it run on a host.
func (ix *index) affinityFilter(vm *VM) func(hostID string) bool {
	if len(vm.AffinityGroupIDs) == 0 {
		return func(string) bool { return true }
	}
	type rule struct {
		anti  bool
		hosts map[string]bool
	}
	var rules []rule
	for _, gid := range vm.AffinityGroupIDs {
		g, ok := ix.affinityGroups.get(gid)
		if !ok {
			continue
		}
		r := rule{anti: g.Type == AffinityHostAnti, hosts: map[string]bool{}}
		for _, other := range ix.vms.byGroup(g.AccountID) {
			if other.ID == vm.ID || other.HostID == "" || !other.State.holdsCapacity() || !contains(other.AffinityGroupIDs, gid) {
				continue
			}
			r.hosts[other.HostID] = true
			if other.MigrateToHostID != "" {
				r.hosts[other.MigrateToHostID] = true
			}
		}
		rules = append(rules, r)
	}
	return func(h string) bool {
		for _, r := range rules {
			if r.anti && r.hosts[h] || !r.anti && len(r.hosts) > 0 && !r.hosts[h] {
				return false
			}
		}
		return true
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// resolveAffinityGroups turns the ids and names a deploy gives into the
// owner's group ids.
func (ix *index) resolveAffinityGroups(c Caller, owner Owner, ids, names []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		g, ok := ix.affinityGroups.get(id)
		if !ok || !ix.canAccess(c, g.Owner) || g.AccountID != owner.AccountID {
			return nil, Invalid("Unable to find affinity group by id %s", id)
		}
		out = append(out, g.ID)
	}
	for _, n := range names {
		var found *AffinityGroup
		for _, g := range ix.affinityGroups.all() {
			if g.Name == n && g.AccountID == owner.AccountID {
				found = g
			}
		}
		if found == nil {
			return nil, Invalid("Unable to find affinity group by name %s", n)
		}
		out = append(out, found.ID)
	}
	return out, nil
}

// CreateAffinityGroup creates a group of a known type, named uniquely in
// its account. Create-style: it exists and its job is complete on return.
func (s *Sim) CreateAffinityGroup(ctx context.Context, c Caller, name, typ, description, account, domainID, cmd string) (*AffinityGroup, *Job, error) {
	if !contains(AffinityGroupTypes(), typ) {
		return nil, nil, Invalid("Unable to create affinity group, invalid affinity group type: %s", typ)
	}
	var out *AffinityGroup
	var job *Job
	err := s.write(func(ix *index) error {
		owner, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		for _, g := range ix.affinityGroups.all() {
			if g.AccountID == owner.AccountID && g.Name == name {
				return Invalid("Unable to create affinity group, a group with name %s already exists.", name)
			}
		}
		now := s.clock.Now().UTC()
		g := &AffinityGroup{ID: newID(), Seq: ix.nextSeq(), Name: name, Description: description, Type: typ, Created: now, Owner: owner}
		b := &batch{}
		put(b, ix.affinityGroups, g)
		ix.event(b, s, owner, c, "AG.CREATE", "Created affinity group "+name, g.ID, KindAffinityGroup)
		job = s.newJobVal(c, owner, JobSpec{Cmd: cmd, InstanceType: KindAffinityGroup, InstanceID: g.ID})
		job.complete(now, KindAffinityGroup, g)
		put(b, ix.jobs, job)
		out = g
		return s.commit(ctx, b)
	})
	return out, job, err
}

// DeleteAffinityGroup deletes a group no VM is in, in an async job.
func (s *Sim) DeleteAffinityGroup(ctx context.Context, c Caller, id, cmd string) (*Job, error) {
	check := func(ix *index, c Caller) (*AffinityGroup, error) {
		g, ok := ix.affinityGroups.get(id)
		if !ok || !ix.canAccess(c, g.Owner) {
			return nil, notFound(KindAffinityGroup, id)
		}
		for _, vm := range ix.vms.byGroup(g.AccountID) {
			if contains(vm.AffinityGroupIDs, g.ID) {
				return nil, Invalid("Cannot delete affinity group %s: VM %s is in it", g.Name, vm.Name)
			}
		}
		return g, nil
	}
	var err error
	s.read(func(ix *index) { _, err = check(ix, c) })
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindAffinityGroup, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			g, err := check(ix, caller)
			if err != nil {
				return err
			}
			b := &batch{}
			del(b, ix.affinityGroups, g.ID)
			ix.event(b, s, g.Owner, caller, "AG.DELETE", "Deleted affinity group "+g.Name, g.ID, KindAffinityGroup)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// AffinityGroups returns every affinity group in creation order.
func (r Reader) AffinityGroups() []*AffinityGroup { return r.ix.affinityGroups.all() }

// AffinityGroup looks a group up by id.
func (r Reader) AffinityGroup(id string) (*AffinityGroup, bool) { return r.ix.affinityGroups.get(id) }
