package gce

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// instanceCall loads the zone, VM and record an instance method works on.
func (c *call) instanceCall(withUserData bool) (zoneInfo, *csclient.VirtualMachine, *instanceMeta, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return z, nil, nil, err
	}
	vm, err := c.findVM(z, c.r.PathValue("name"), withUserData)
	if err != nil {
		return z, nil, nil, err
	}
	m, err := c.instanceMeta(z.name, vm)
	return z, vm, m, err
}

// vmAction runs a CloudStack VM command as an operation; check, when
// set, refuses the instance's status first.
func (c *call) vmAction(opType, command string, check func(status string) error, extra func(*instanceMeta, time.Time)) (any, error) {
	z, vm, m, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(statusOf(vm, m)); err != nil {
			return nil, err
		}
	}
	res, err := c.cs.Async(c.ctx, command, csclient.Params("id", vm.ID))
	if err != nil {
		return nil, err
	}
	if extra != nil {
		now := c.g.now()
		if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { extra(m, now) }); err != nil {
			// The action has started in CloudStack; only GCE's own record of
			// it (e.g. lastStopTimestamp) is behind, so the operation goes on.
			c.g.log.Warn("gce: instance metadata not updated", "instance", vm.Name, "err", err)
		}
	}
	return c.startOp(opScope{zone: z.name}, opType, c.instanceTarget(z.name, vm.Name), idOf("instance", vm.ID), []string{res.JobID}, nil)
}

// updateMeta changes an instance's record, making one if there is none.
func (c *call) updateMeta(zone string, vm *csclient.VirtualMachine, fn func(*instanceMeta)) error {
	metas := c.g.instanceMetas(c.project, zone)
	_, _, err := metas.Update(c.ctx, vm.Name, func(m *instanceMeta) (*instanceMeta, error) {
		if m.VMID != "" && m.VMID != vm.ID {
			*m = instanceMeta{}
		}
		m.VMID = vm.ID
		fn(m)
		return m, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		m := &instanceMeta{VMID: vm.ID}
		fn(m)
		_, err = metas.Create(c.ctx, vm.Name, m)
		if errors.Is(err, store.ErrConflict) {
			return c.updateMeta(zone, vm, fn)
		}
	}
	if err != nil {
		c.g.log.Warn("update instance record", "instance", vm.Name, "err", err)
	}
	return err
}

func (g *Gateway) startInstance(c *call) (any, error) {
	return c.vmAction("start", "startVirtualMachine", nil, func(m *instanceMeta, t time.Time) { m.LastStart, m.Suspended = t, false })
}

// stopInstance stops the VM; a suspended instance's VM is stopped already,
// so stopping it only makes it TERMINATED.
func (g *Gateway) stopInstance(c *call) (any, error) {
	z, vm, m, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	if statusOf(vm, m) == "SUSPENDED" {
		if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { m.Suspended, m.LastStop = false, c.g.now() }); err != nil {
			return nil, err
		}
		return c.startOp(opScope{zone: z.name}, "stop", c.instanceTarget(z.name, vm.Name), idOf("instance", vm.ID), nil, nil)
	}
	return c.vmAction("stop", "stopVirtualMachine", nil, func(m *instanceMeta, t time.Time) { m.LastStop = t })
}

func (g *Gateway) resetInstance(c *call) (any, error) {
	return c.vmAction("reset", "rebootVirtualMachine", nil, nil)
}

func (g *Gateway) deleteInstance(c *call) (any, error) {
	z, vm, m, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	if m.DeletionProtect {
		return nil, errResourceUsage("Resource cannot be deleted if it's protected against deletion.")
	}
	return c.destroyInstance(z, vm, m)
}

// destroyInstance destroys an instance's VM as an operation, which
// forgets the instance's record and releases its public IP once the VM is
// gone.
func (c *call) destroyInstance(z zoneInfo, vm *csclient.VirtualMachine, m *instanceMeta) (*Operation, error) {
	res, err := c.cs.Async(c.ctx, "destroyVirtualMachine", csclient.Params("id", vm.ID, "expunge", "true"))
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "expunge") {
		// Accounts that may not expunge destroy only; the VM disappears
		// from GCE all the same.
		res, err = c.cs.Async(c.ctx, "destroyVirtualMachine", csclient.Params("id", vm.ID))
	}
	if err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "delete", c.instanceTarget(z.name, vm.Name), idOf("instance", vm.ID), []string{res.JobID}, nil,
		func(r *opRecord) {
			r.Forget = c.project + "/" + z.name + "/" + vm.Name
			r.ReleaseIP = m.NATIPID
		})
}

func (g *Gateway) setInstanceMetadata(c *call) (any, error) {
	var body Metadata
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if err := checkMetadata(body.Items, "metadata"); err != nil {
		return nil, err
	}
	z, vm, m, err := c.instanceCall(true)
	if err != nil {
		return nil, err
	}
	cur := metadataItems(vm, m)
	if body.Fingerprint != "" && !sameFingerprint(body.Fingerprint, fingerprint(cur)) {
		return nil, errFingerprint("metadata")
	}
	oldUD, _ := itemValue(cur, userDataKey)
	newUD, _ := itemValue(body.Items, userDataKey)
	if oldUD != newUD {
		if err := c.cs.Do(c.ctx, "updateVirtualMachine", csclient.Params("id", vm.ID,
			"userdata", base64.StdEncoding.EncodeToString([]byte(newUD))), nil); err != nil {
			return nil, err
		}
	}
	if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { m.Items = body.Items }); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "setMetadata", "zones/"+z.name+"/instances/"+vm.Name, idOf("instance", vm.ID), nil, nil)
}

func (g *Gateway) setInstanceLabels(c *call) (any, error) {
	var body struct {
		Labels           map[string]string `json:"labels"`
		LabelFingerprint string            `json:"labelFingerprint"`
	}
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if err := checkLabels(body.Labels, "labels"); err != nil {
		return nil, err
	}
	z, vm, m, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	if body.LabelFingerprint != "" && !sameFingerprint(body.LabelFingerprint, fingerprint(m.Labels)) {
		return nil, errFingerprint("label")
	}
	if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { m.Labels = body.Labels }); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "setLabels", "zones/"+z.name+"/instances/"+vm.Name, idOf("instance", vm.ID), nil, nil)
}

func (g *Gateway) setInstanceTags(c *call) (any, error) {
	var body Tags
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	if err := checkTags(body.Items, "tags"); err != nil {
		return nil, err
	}
	z, vm, m, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	if body.Fingerprint != "" && !sameFingerprint(body.Fingerprint, fingerprint(m.Tags)) {
		return nil, errFingerprint("tags")
	}
	if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { m.Tags = body.Items }); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "setTags", "zones/"+z.name+"/instances/"+vm.Name, idOf("instance", vm.ID), nil, nil)
}
