package cloud

import (
	"context"
)

// Offerings root admins make and remove: createServiceOffering,
// createDiskOffering, their updates and deletes. As on the real server a
// deleted offering is only marked removed: the VMs and volumes that use it
// keep it, and nothing new may take it. The simulator runs fixed-size
// compute offerings only (no customized CPU or memory).

// ServiceOfferingRequest is what createServiceOffering asks for.
type ServiceOfferingRequest struct {
	Name, DisplayText        string
	CPUs, CPUSpeed, MemoryMB int
	HA                       bool
	RootDiskSize             int64
}

// CreateServiceOffering adds a compute offering.
func (s *Sim) CreateServiceOffering(ctx context.Context, c Caller, r ServiceOfferingRequest) (*ServiceOffering, error) {
	if !c.IsRootAdmin() {
		return nil, Denied("The API [createServiceOffering] does not exist or is not available for the account %s.", c.Account.Name)
	}
	switch {
	case r.CPUs == 0 && r.CPUSpeed == 0 && r.MemoryMB == 0:
		return nil, Invalid("stratus simulates fixed-size compute offerings only: give cpunumber, cpuspeed and memory")
	case r.CPUs <= 0:
		return nil, Invalid("Failed to create service offering %s: specify the cpu number value between 1 and 2147483647", r.Name)
	case r.CPUSpeed <= 0:
		return nil, Invalid("Failed to create service offering %s: specify the cpu speed value between 1 and 2147483647", r.Name)
	case r.MemoryMB < 32:
		return nil, Invalid("Failed to create service offering %s: specify the memory value between 32 and 2147483647 MB", r.Name)
	}
	var out *ServiceOffering
	err := s.write(func(ix *index) error {
		b := &batch{}
		o := &ServiceOffering{ID: newID(), Seq: ix.nextSeq(), Name: r.Name, DisplayText: orDefault(r.DisplayText, r.Name), CPUs: r.CPUs,
			CPUSpeed: r.CPUSpeed, MemoryMB: r.MemoryMB, HA: r.HA, RootDiskSize: r.RootDiskSize, Created: s.clock.Now().UTC()}
		put(b, ix.serviceOfferings, o)
		ix.event(b, s, c.Owner(), c, "SERVICE.OFFERING.CREATE", "Successfully created service offering "+o.Name, o.ID, KindServiceOffering)
		out = o
		return s.commit(ctx, b)
	})
	return out, err
}

// DiskOfferingRequest is what createDiskOffering asks for.
type DiskOfferingRequest struct {
	Name, DisplayText string
	SizeGB            int64
	Custom            bool
}

// CreateDiskOffering adds a disk offering: a fixed size, or customized
// (the size given at each volume's creation).
func (s *Sim) CreateDiskOffering(ctx context.Context, c Caller, r DiskOfferingRequest) (*DiskOffering, error) {
	if !c.IsRootAdmin() {
		return nil, Denied("The API [createDiskOffering] does not exist or is not available for the account %s.", c.Account.Name)
	}
	if !r.Custom && r.SizeGB <= 0 {
		return nil, Invalid("Disksize is required for a non-customized disk offering")
	}
	if r.Custom && r.SizeGB > 0 {
		return nil, Invalid("Disksize cannot be specified for a custom disk offering")
	}
	var out *DiskOffering
	err := s.write(func(ix *index) error {
		b := &batch{}
		o := &DiskOffering{ID: newID(), Seq: ix.nextSeq(), Name: r.Name, DisplayText: orDefault(r.DisplayText, r.Name), SizeGB: r.SizeGB,
			Custom: r.Custom, Created: s.clock.Now().UTC()}
		put(b, ix.diskOfferings, o)
		ix.event(b, s, c.Owner(), c, "DISK.OFFERING.CREATE", "Successfully created disk offering "+o.Name, o.ID, KindDiskOffering)
		out = o
		return s.commit(ctx, b)
	})
	return out, err
}

// OfferingUpdate is what updateServiceOffering and updateDiskOffering
// change (nil: unchanged).
type OfferingUpdate struct {
	Name, DisplayText *string
}

// UpdateServiceOffering renames a compute offering.
func (s *Sim) UpdateServiceOffering(ctx context.Context, c Caller, id string, u OfferingUpdate) (*ServiceOffering, error) {
	return s.changeServiceOffering(ctx, c, "updateServiceOffering", id, "SERVICE.OFFERING.EDIT", "updated", func(n *ServiceOffering) {
		n.Name, n.DisplayText = deref(u.Name, n.Name), deref(u.DisplayText, n.DisplayText)
	})
}

// DeleteServiceOffering marks a compute offering removed.
func (s *Sim) DeleteServiceOffering(ctx context.Context, c Caller, id string) error {
	_, err := s.changeServiceOffering(ctx, c, "deleteServiceOffering", id, "SERVICE.OFFERING.DELETE", "deleted", func(n *ServiceOffering) {
		n.Removed = s.clock.Now().UTC()
	})
	return err
}

// UpdateDiskOffering renames a disk offering.
func (s *Sim) UpdateDiskOffering(ctx context.Context, c Caller, id string, u OfferingUpdate) (*DiskOffering, error) {
	return s.changeDiskOffering(ctx, c, "updateDiskOffering", id, "DISK.OFFERING.EDIT", "updated", func(n *DiskOffering) {
		n.Name, n.DisplayText = deref(u.Name, n.Name), deref(u.DisplayText, n.DisplayText)
	})
}

// DeleteDiskOffering marks a disk offering removed.
func (s *Sim) DeleteDiskOffering(ctx context.Context, c Caller, id string) error {
	_, err := s.changeDiskOffering(ctx, c, "deleteDiskOffering", id, "DISK.OFFERING.DELETE", "deleted", func(n *DiskOffering) {
		n.Removed = s.clock.Now().UTC()
	})
	return err
}

// changeServiceOffering applies f to a copy of an active compute offering
// and stores it with an event.
func (s *Sim) changeServiceOffering(ctx context.Context, c Caller, api, id, typ, verb string, f func(*ServiceOffering)) (*ServiceOffering, error) {
	var out *ServiceOffering
	err := s.offeringWrite(ctx, c, api, func(ix *index, b *batch) error {
		o, ok := ix.activeServiceOffering(id)
		if !ok {
			return Invalid("unable to find service offering %s", id)
		}
		n := *o
		f(&n)
		put(b, ix.serviceOfferings, &n)
		ix.event(b, s, c.Owner(), c, typ, "Successfully "+verb+" service offering "+n.Name, n.ID, KindServiceOffering)
		out = &n
		return nil
	})
	return out, err
}

// changeDiskOffering is changeServiceOffering for disk offerings.
func (s *Sim) changeDiskOffering(ctx context.Context, c Caller, api, id, typ, verb string, f func(*DiskOffering)) (*DiskOffering, error) {
	var out *DiskOffering
	err := s.offeringWrite(ctx, c, api, func(ix *index, b *batch) error {
		o, ok := ix.activeDiskOffering(id)
		if !ok {
			return Invalid("Unable to find disk offering by id %s", id)
		}
		n := *o
		f(&n)
		put(b, ix.diskOfferings, &n)
		ix.event(b, s, c.Owner(), c, typ, "Successfully "+verb+" disk offering "+n.Name, n.ID, KindDiskOffering)
		out = &n
		return nil
	})
	return out, err
}

// offeringWrite runs a root admin's offering change in one transaction.
func (s *Sim) offeringWrite(ctx context.Context, c Caller, api string, f func(ix *index, b *batch) error) error {
	if !c.IsRootAdmin() {
		return Denied("The API [%s] does not exist or is not available for the account %s.", api, c.Account.Name)
	}
	return s.write(func(ix *index) error {
		b := &batch{}
		if err := f(ix, b); err != nil {
			return err
		}
		return s.commit(ctx, b)
	})
}

// activeServiceOffering finds a compute offering that is not removed.
func (ix *index) activeServiceOffering(id string) (*ServiceOffering, bool) {
	o, ok := ix.serviceOfferings.get(id)
	return o, ok && o.Removed.IsZero()
}

// activeDiskOffering finds a disk offering that is not removed.
func (ix *index) activeDiskOffering(id string) (*DiskOffering, bool) {
	o, ok := ix.diskOfferings.get(id)
	return o, ok && o.Removed.IsZero()
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}
