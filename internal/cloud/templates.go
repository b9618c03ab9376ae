package cloud

import (
	"context"
)

// Templates users make: createTemplate from a volume (its VM stopped) or
// from a volume snapshot, updateTemplate and deleteTemplate. Such a
// template is private to its account unless made public, lives in the
// zone of its source, and is ready at once (the simulator copies nothing).

// TemplateRequest is what createTemplate asks for.
type TemplateRequest struct {
	Name            string
	DisplayText     string
	OSTypeID        string
	VolumeID        string
	SnapshotID      string
	Public          bool
	Featured        bool
	PasswordEnabled bool
	Cmd             string
}

// CreateTemplate makes a template from a volume or a snapshot.
// Create-style: the template exists and its job is complete on return.
func (s *Sim) CreateTemplate(ctx context.Context, c Caller, r TemplateRequest) (*Template, *Job, error) {
	if (r.VolumeID == "") == (r.SnapshotID == "") {
		return nil, nil, Invalid("Failed to create private template record, need to specify either volume ID or snapshot ID")
	}
	if r.Featured && !c.IsRootAdmin() {
		return nil, nil, Denied("Only admins can create featured templates")
	}
	var out *Template
	var job *Job
	err := s.write(func(ix *index) error {
		if _, ok := ix.osTypes.get(r.OSTypeID); !ok {
			return notFound(KindOSType, r.OSTypeID)
		}
		var src *Volume
		t := &Template{Name: r.Name, DisplayText: orDefault(r.DisplayText, r.Name), OSTypeID: r.OSTypeID, Format: "RAW",
			Public: r.Public, Featured: r.Featured, PasswordEnabled: r.PasswordEnabled, Type: "USER", Owner: c.Owner()}
		if r.SnapshotID != "" {
			snap, err := ix.snapshotFor(c, r.SnapshotID)
			if err != nil {
				return err
			}
			if snap.State != SnapshotBackedUp {
				return Invalid("Snapshot %s is not backed up yet", snap.Name)
			}
			t.SizeGB, t.ZoneID, t.SourceID = snap.SizeGB, snap.ZoneID, snap.ID
		} else {
			v, err := ix.volumeFor(c, r.VolumeID)
			if err != nil {
				return err
			}
			src = v
			vm, ok := ix.vms.get(v.VMID)
			if !ok {
				return Invalid("VolumeId: %s please attach this volume to a VM before create a template from it", v.ID)
			}
			if vm.State != VMStopped {
				return Invalid("VolumeId: %s is not in Stopped state but %s. Cannot create template from it, stop the VM first", v.ID, vm.State)
			}
			t.SizeGB, t.ZoneID, t.SourceID = v.SizeGB, v.ZoneID, v.ID
		}
		b := &batch{}
		if err := ix.checkLimits(b, t.Owner, map[Resource]int64{ResTemplate: 1}); err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		t.ID, t.Seq, t.Created = newID(), ix.nextSeq(), now
		put(b, ix.templates, t)
		what := "snapshot " + r.SnapshotID
		if src != nil {
			what = "volume " + src.Name
		}
		ix.event(b, s, t.Owner, c, "TEMPLATE.CREATE", "Successfully created template "+t.Name+" from "+what, t.ID, KindTemplate)
		job = s.newJobVal(c, t.Owner, JobSpec{Cmd: r.Cmd, InstanceType: KindTemplate, InstanceID: t.ID})
		job.complete(now, KindTemplate, t)
		put(b, ix.jobs, job)
		out = t
		return s.commit(ctx, b)
	})
	return out, job, err
}

// templateFor finds a template c may change: its owner's, or any for root
// admins.
func (ix *index) templateFor(c Caller, id string) (*Template, error) {
	t, ok := ix.templates.get(id)
	if !ok {
		return nil, notFound(KindTemplate, id)
	}
	if !ix.canAccess(c, t.Owner) {
		return nil, Denied("Account %s does not have permission to operate on template %s", c.Account.Name, t.Name)
	}
	return t, nil
}

// TemplateUpdate is what updateTemplate changes (nil: unchanged).
type TemplateUpdate struct {
	Name, DisplayText, OSTypeID *string
	PasswordEnabled             *bool
	// ISO says the update is updateIso's (Bootable is only for ISOs).
	ISO      bool
	Bootable *bool
}

// UpdateTemplate changes a template's names, OS type or password flag.
func (s *Sim) UpdateTemplate(ctx context.Context, c Caller, id string, u TemplateUpdate) (*Template, error) {
	var out *Template
	err := s.write(func(ix *index) error {
		t, err := ix.templateFor(c, id)
		if err != nil {
			return err
		}
		switch {
		case u.ISO && t.Format != FormatISO:
			return Invalid("Please specify a valid iso.")
		case !u.ISO && t.Format == FormatISO:
			return Invalid("Please specify a valid template.")
		}
		n := *t
		if u.Bootable != nil {
			n.NotBootable = !*u.Bootable
		}
		if u.Name != nil {
			n.Name = *u.Name
		}
		if u.DisplayText != nil {
			n.DisplayText = *u.DisplayText
		}
		if u.OSTypeID != nil {
			if _, ok := ix.osTypes.get(*u.OSTypeID); !ok {
				return notFound(KindOSType, *u.OSTypeID)
			}
			n.OSTypeID = *u.OSTypeID
		}
		if u.PasswordEnabled != nil {
			n.PasswordEnabled = *u.PasswordEnabled
		}
		b := &batch{}
		put(b, ix.templates, &n)
		ix.event(b, s, n.Owner, c, "TEMPLATE.UPDATE", "Updated template "+n.Name, n.ID, KindTemplate)
		out = &n
		return s.commit(ctx, b)
	})
	return out, err
}

// DeleteTemplate deletes a template in an async job. Without forced, one
// that VMs still use is refused.
func (s *Sim) DeleteTemplate(ctx context.Context, c Caller, id string, forced bool, cmd string) (*Job, error) {
	return s.deleteImage(ctx, c, id, false, forced, cmd)
}

// deleteImage deletes a template (iso false) or an ISO in an async job.
func (s *Sim) deleteImage(ctx context.Context, c Caller, id string, iso, forced bool, cmd string) (*Job, error) {
	check := func(ix *index, c Caller) (*Template, error) {
		t, err := ix.templateFor(c, id)
		if err != nil {
			return nil, err
		}
		switch {
		case iso && t.Format != FormatISO:
			return nil, Invalid("Please specify a valid iso.")
		case !iso && t.Format == FormatISO:
			return nil, Invalid("Please specify a valid template.")
		}
		for _, vm := range ix.vms.all() {
			switch {
			case iso && vm.ISOID == t.ID:
				return nil, Invalid("Unable to delete iso, as it's used by other vms")
			case !iso && !forced && vm.TemplateID == t.ID && vm.State != VMExpunging:
				return nil, Invalid("Unable to delete template with id: %s because VM instances: [%s] are using it. Use option forced=true to delete it", t.ID, vm.InstanceName)
			}
		}
		return t, nil
	}
	var err error
	s.read(func(ix *index) { _, err = check(ix, c) })
	if err != nil {
		return nil, err
	}
	what, typ := "template", "TEMPLATE.DELETE"
	if iso {
		what, typ = "ISO", "ISO.DELETE"
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd, InstanceType: KindTemplate, InstanceID: id}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			caller := jc.caller(ix)
			t, err := check(ix, caller)
			if err != nil {
				return err
			}
			b := &batch{}
			del(b, ix.templates, t.ID)
			for _, tag := range ix.tags.byGroup(t.ID) {
				del(b, ix.tags, tag.ID)
			}
			ix.event(b, s, t.Owner, caller, typ, "Deleted "+what+" "+t.Name, t.ID, KindTemplate)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}
