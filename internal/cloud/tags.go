package cloud

import (
	"context"
	"strings"
)

// taggable maps the resourcetype names clients send to kinds.
var taggable = map[string]Kind{
	"uservm": KindVM, "template": KindTemplate, "network": KindNetwork, "securitygroup": KindSecurityGroup,
	"publicipaddress": KindPublicIP, "volume": KindVolume, "sshkeypair": KindSSHKeyPair,
	"snapshot": KindSnapshot, "vmsnapshot": KindVMSnapshot, "iso": KindTemplate,
	"vpc": KindVPC, "networkacl": KindNetworkACLItem, "project": KindProject,
}

// ParseTaggable returns the kind named by a resourcetype parameter.
func ParseTaggable(s string) (Kind, bool) {
	k, ok := taggable[strings.ToLower(s)]
	return k, ok
}

// ownerOf returns the owner of a taggable resource c may access.
func (ix *index) ownerOf(c Caller, k Kind, id string) (Owner, error) {
	var o Owner
	var ok bool
	switch k {
	case KindVM:
		var v *VM
		if v, ok = ix.vms.get(id); ok {
			o = v.Owner
		}
	case KindTemplate:
		var v *Template
		if v, ok = ix.templates.get(id); ok {
			o = v.Owner
		}
	case KindNetwork:
		var v *Network
		if v, ok = ix.networks.get(id); ok && !v.System {
			o = v.Owner
		}
	case KindSecurityGroup:
		var v *SecurityGroup
		if v, ok = ix.securityGroups.get(id); ok {
			o = v.Owner
		}
	case KindPublicIP:
		var v *PublicIP
		if v, ok = ix.publicIPs.get(id); ok {
			o = v.Owner
		}
	case KindVolume:
		var v *Volume
		if v, ok = ix.volumes.get(id); ok {
			o = v.Owner
		}
	case KindSSHKeyPair:
		var v *SSHKeyPair
		if v, ok = ix.keyPairs.get(id); ok {
			o = v.Owner
		}
	case KindSnapshot:
		var v *Snapshot
		if v, ok = ix.snapshots.get(id); ok {
			o = v.Owner
		}
	case KindVMSnapshot:
		var v *VMSnapshot
		if v, ok = ix.vmSnapshots.get(id); ok {
			o = v.Owner
		}
	case KindVPC:
		var v *VPC
		if v, ok = ix.vpcs.get(id); ok {
			o = v.Owner
		}
	case KindNetworkACLItem:
		var v *NetworkACLItem
		if v, ok = ix.aclItems.get(id); ok {
			o = v.Owner
		}
	case KindProject:
		var v *Project
		if v, ok = ix.projects.get(id); ok {
			o = v.Owner()
		}
	}
	if !ok || !ix.canAccess(c, o) {
		return o, Invalid("Unable to find resource by id %s and type %s", id, k)
	}
	return o, nil
}

// checkTaggable fails, before a job is made, when the caller cannot reach
// one of the resources.
func (s *Sim) checkTaggable(c Caller, k Kind, ids []string) error {
	var err error
	s.read(func(ix *index) {
		for _, id := range ids {
			if _, err = ix.ownerOf(c, k, id); err != nil {
				return
			}
		}
	})
	return err
}

// KV is one tag key and value.
type KV struct{ Key, Value string }

// CreateTags tags resources, in an async job.
func (s *Sim) CreateTags(ctx context.Context, c Caller, k Kind, ids []string, tags []KV, cmd string) (*Job, error) {
	if len(tags) == 0 {
		return nil, Invalid("Unable to execute API command createtags due to missing parameter tags")
	}
	for _, t := range tags {
		if t.Key == "" {
			return nil, Invalid("Tag key cannot be empty")
		}
	}
	if err := s.checkTaggable(c, k, ids); err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			b := &batch{}
			for _, id := range ids {
				o, err := ix.ownerOf(c, k, id)
				if err != nil {
					return err
				}
				for _, t := range tags {
					for _, e := range ix.tags.byGroup(id) {
						if e.Key == t.Key {
							return Invalid("tag %s already on %s with id %s", t.Key, k, id)
						}
					}
					put(b, ix.tags, &Tag{ID: newID(), Seq: ix.nextSeq(), ResourceType: k, ResourceID: id, Key: t.Key, Value: t.Value, Owner: o})
				}
			}
			ix.event(b, s, c.Owner(), c, "CREATE_TAGS", "Successfully created tags", "", KindTag)
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}

// DeleteTags removes tags from resources (all, or those matching tags:
// by key, and by value when given), in an async job.
func (s *Sim) DeleteTags(ctx context.Context, c Caller, k Kind, ids []string, tags []KV, cmd string) (*Job, error) {
	if err := s.checkTaggable(c, k, ids); err != nil {
		return nil, err
	}
	return s.Submit(ctx, c, JobSpec{Cmd: cmd}, func(ctx context.Context, jc *jobCtx) error {
		return s.write(func(ix *index) error {
			b := &batch{}
			for _, id := range ids {
				for _, e := range ix.tags.byGroup(id) {
					match := len(tags) == 0
					for _, t := range tags {
						if t.Key == e.Key && (t.Value == "" || t.Value == e.Value) {
							match = true
						}
					}
					if match {
						del(b, ix.tags, e.ID)
					}
				}
			}
			jc.complete(b, "", nil)
			return s.commit(ctx, b)
		})
	})
}
