package cloud

import (
	"context"
	"time"
)

// Instance groups: a name an account puts its VMs under, as CloudStack's
// InstanceGroup (vm_group). A VM is in at most one group; deploying or
// updating a VM with a group name puts it in the owner's group of that
// name, creating the group when the account has none, as the real server
// does. Deleting a group takes its VMs out of it, and renaming one shows
// on every VM in it (a VM records the group's id).

// KindInstanceGroup names instance groups.
const KindInstanceGroup Kind = "InstanceGroup"

// InstanceGroup is a named group of an account's VMs.
type InstanceGroup struct {
	ID      string    `json:"id"`
	Seq     int64     `json:"seq"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Owner
}

// instanceGroupNamed returns the account's group called name, if any.
func (ix *index) instanceGroupNamed(accountID, name string) *InstanceGroup {
	for _, g := range ix.instanceGroups.all() {
		if g.AccountID == accountID && g.Name == name {
			return g
		}
	}
	return nil
}

// joinInstanceGroup puts vm (not yet stored; the caller puts it) in its
// owner's group called name, creating the group in b when there is none;
// an empty name takes the VM out of its group.
func (ix *index) joinInstanceGroup(b *batch, s *Sim, c Caller, vm *VM, name string, now time.Time) {
	vm.Group, vm.GroupID = name, ""
	if name == "" {
		return
	}
	g := ix.instanceGroupNamed(vm.AccountID, name)
	if g == nil {
		g = &InstanceGroup{ID: newID(), Seq: ix.nextSeq(), Name: name, Created: now, Owner: vm.Owner}
		put(b, ix.instanceGroups, g)
		ix.event(b, s, vm.Owner, c, "VM.GROUP.CREATE", "Created instance group "+name, g.ID, KindInstanceGroup)
	}
	vm.GroupID = g.ID
}

// CreateInstanceGroup creates a group, named uniquely in its account.
func (s *Sim) CreateInstanceGroup(ctx context.Context, c Caller, name, account, domainID string) (*InstanceGroup, error) {
	var out *InstanceGroup
	err := s.write(func(ix *index) error {
		owner, err := ix.ownerFor(c, account, domainID)
		if err != nil {
			return err
		}
		if ix.instanceGroupNamed(owner.AccountID, name) != nil {
			return Invalid("Unable to create Instance group, a group with name %s already exists for Account %s", name, ix.accountLabel(owner.AccountID))
		}
		g := &InstanceGroup{ID: newID(), Seq: ix.nextSeq(), Name: name, Created: s.clock.Now().UTC(), Owner: owner}
		b := &batch{}
		put(b, ix.instanceGroups, g)
		out = g
		return s.commit(ctx, b)
	})
	return out, err
}

// instanceGroupFor returns a group c may change, or the real server's
// "unable to find" (another account's group answers the same).
func (ix *index) instanceGroupFor(c Caller, id string) (*InstanceGroup, error) {
	g, ok := ix.instanceGroups.get(id)
	if !ok || !ix.canAccess(c, g.Owner) {
		return nil, Invalid("unable to find a vm group with id %s", id)
	}
	return g, nil
}

// UpdateInstanceGroup renames a group (nil: unchanged).
func (s *Sim) UpdateInstanceGroup(ctx context.Context, c Caller, id string, name *string) (*InstanceGroup, error) {
	var out *InstanceGroup
	err := s.write(func(ix *index) error {
		g, err := ix.instanceGroupFor(c, id)
		if err != nil {
			return err
		}
		n := *g
		if name != nil && *name != g.Name {
			if ix.instanceGroupNamed(g.AccountID, *name) != nil {
				return Invalid("Unable to update vm group, a group with name %s already exists for account", *name)
			}
			n.Name = *name
		}
		b := &batch{}
		put(b, ix.instanceGroups, &n)
		for _, vm := range ix.vms.byGroup(g.AccountID) {
			if vm.GroupID == g.ID {
				v := *vm
				v.Group = n.Name
				put(b, ix.vms, &v)
			}
		}
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// DeleteInstanceGroup deletes a group and takes its VMs out of it.
func (s *Sim) DeleteInstanceGroup(ctx context.Context, c Caller, id string) error {
	return s.write(func(ix *index) error {
		g, err := ix.instanceGroupFor(c, id)
		if err != nil {
			return err
		}
		b := &batch{}
		del(b, ix.instanceGroups, g.ID)
		for _, vm := range ix.vms.byGroup(g.AccountID) {
			if vm.GroupID == g.ID {
				v := *vm
				v.Group, v.GroupID = "", ""
				put(b, ix.vms, &v)
			}
		}
		return s.commit(ctx, b)
	})
}

// accountLabel names an account in an error text.
func (ix *index) accountLabel(id string) string {
	if a, ok := ix.accounts.get(id); ok {
		return a.Name
	}
	return id
}

// InstanceGroups returns every instance group in creation order.
func (r Reader) InstanceGroups() []*InstanceGroup { return r.ix.instanceGroups.all() }

// InstanceGroup looks a group up by id.
func (r Reader) InstanceGroup(id string) (*InstanceGroup, bool) { return r.ix.instanceGroups.get(id) }

// purgeInstanceGroups adds the removal of an account's groups to b.
func (ix *index) purgeInstanceGroups(b *batch, accountID string) {
	for _, g := range ix.instanceGroups.all() {
		if g.AccountID == accountID {
			del(b, ix.instanceGroups, g.ID)
		}
	}
}
