package gce

import (
	"strconv"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// Instance settings that gcloud changes in place: the machine type (of a
// stopped instance, onto CloudStack's changeServiceForVirtualMachine),
// deletion protection and scheduling (the gateway's own record), and
// suspend/resume (CloudStack has no suspend: a suspended instance is a
// stopped VM that the record calls SUSPENDED until it runs again).

// errResourceUsage is GCE's refusal of a method the resource's state does
// not allow.
func errResourceUsage(what string) *apiError {
	return errInvalid("Invalid resource usage: '%s'.", what)
}

func (c *call) instanceTarget(zone, name string) string {
	return "zones/" + zone + "/instances/" + name
}

func (g *Gateway) setMachineType(c *call) (any, error) {
	var body struct {
		MachineType string `json:"machineType"`
	}
	if err := c.decode(&body); err != nil {
		return nil, err
	}
	z, vm, m, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	if body.MachineType == "" {
		return nil, errInvalid("Invalid value for field 'machineType': ''. Machine type is required.")
	}
	off, asked, err := c.resolveMachineType(z, body.MachineType)
	if err != nil {
		return nil, err
	}
	if statusOf(vm, m) != "TERMINATED" {
		return nil, errResourceUsage("Instance should be in the STOPPED state.")
	}
	if off.ID != vm.ServiceOfferingID {
		if err := c.cs.Do(c.ctx, "changeServiceForVirtualMachine", csclient.Params("id", vm.ID, "serviceofferingid", off.ID), nil); err != nil {
			return nil, err
		}
	}
	if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { m.MachineType = asked }); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "setMachineType", c.instanceTarget(z.name, vm.Name), idOf("instance", vm.ID), nil, nil)
}

func (g *Gateway) setDeletionProtection(c *call) (any, error) {
	protect := true
	if s := c.r.URL.Query().Get("deletionProtection"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, errBadRequest("Invalid value at 'deletion_protection' (TYPE_BOOL), \"%s\"", s)
		}
		protect = b
	}
	z, vm, _, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { m.DeletionProtect = protect }); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "setDeletionProtection", c.instanceTarget(z.name, vm.Name), idOf("instance", vm.ID), nil, nil)
}

// setScheduling changes the scheduling fields the request gives and keeps
// the others; a change of preemptibility needs a stopped instance.
func (g *Gateway) setScheduling(c *call) (any, error) {
	var in Scheduling
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	z, vm, m, err := c.instanceCall(false)
	if err != nil {
		return nil, err
	}
	cur := Scheduling{}
	if m.Scheduling != nil {
		cur = *m.Scheduling
	}
	next := mergeScheduling(cur, in)
	if err := checkScheduling(&next, "scheduling"); err != nil {
		return nil, err
	}
	was, now := renderScheduling(&cur), renderScheduling(&next)
	if (*was.Preemptible != *now.Preemptible || was.ProvisioningModel != now.ProvisioningModel) && statusOf(vm, m) != "TERMINATED" {
		return nil, errResourceUsage("Instance should be in the STOPPED state.")
	}
	if err := c.updateMeta(z.name, vm, func(m *instanceMeta) { m.Scheduling = &next }); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "setScheduling", c.instanceTarget(z.name, vm.Name), idOf("instance", vm.ID), nil, nil)
}

// mergeScheduling lays the fields set in in over cur.
func mergeScheduling(cur, in Scheduling) Scheduling {
	if in.OnHostMaintenance != "" {
		cur.OnHostMaintenance = in.OnHostMaintenance
	}
	if in.AutomaticRestart != nil {
		cur.AutomaticRestart = in.AutomaticRestart
	}
	if in.Preemptible != nil {
		cur.Preemptible = in.Preemptible
	}
	if in.ProvisioningModel != "" {
		cur.ProvisioningModel = in.ProvisioningModel
	}
	if in.InstanceTerminationAction != "" {
		cur.InstanceTerminationAction = in.InstanceTerminationAction
	}
	if in.MinNodeCpus != 0 {
		cur.MinNodeCpus = in.MinNodeCpus
	}
	if in.NodeAffinities != nil {
		cur.NodeAffinities = in.NodeAffinities
	}
	if in.MaxRunDuration != nil {
		cur.MaxRunDuration = in.MaxRunDuration
	}
	if in.TerminationTime != "" {
		cur.TerminationTime = in.TerminationTime
	}
	if in.LocalSsdRecoveryTimeout != nil {
		cur.LocalSsdRecoveryTimeout = in.LocalSsdRecoveryTimeout
	}
	if in.GracefulShutdown != nil {
		cur.GracefulShutdown = in.GracefulShutdown
	}
	return cur
}

// checkScheduling checks a scheduling as GCE does: its enums, and that a
// preemptible (or Spot) instance neither migrates nor restarts.
func checkScheduling(s *Scheduling, field string) error {
	enum := func(name, v string, allowed ...string) error {
		if v == "" {
			return nil
		}
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return errBadRequest("Invalid value at '%s.%s' (%s), \"%s\"", field, name, "TYPE_ENUM", v)
	}
	if err := enum("on_host_maintenance", s.OnHostMaintenance, "MIGRATE", "TERMINATE"); err != nil {
		return err
	}
	if err := enum("provisioning_model", s.ProvisioningModel, "STANDARD", "SPOT", "FLEX_START", "RESERVATION_BOUND"); err != nil {
		return err
	}
	if err := enum("instance_termination_action", s.InstanceTerminationAction, "STOP", "DELETE"); err != nil {
		return err
	}
	if s.Preemptible != nil && *s.Preemptible || s.ProvisioningModel == "SPOT" {
		if s.AutomaticRestart != nil && *s.AutomaticRestart {
			return errInvalid("Invalid value for field '%s.automaticRestart': 'true'. Preemptible instances cannot be automatically restarted.", field)
		}
		if s.OnHostMaintenance == "MIGRATE" {
			return errInvalid("Invalid value for field '%s.onHostMaintenance': 'MIGRATE'. Preemptible instances must have onHostMaintenance set to TERMINATE.", field)
		}
	}
	return nil
}

func (g *Gateway) suspendInstance(c *call) (any, error) {
	return c.vmAction("suspend", "stopVirtualMachine", func(status string) error {
		if status != "RUNNING" {
			return errResourceUsage("Instance should be in the RUNNING state.")
		}
		return nil
	}, func(m *instanceMeta, t time.Time) { m.Suspended, m.LastSuspend = true, t })
}

func (g *Gateway) resumeInstance(c *call) (any, error) {
	return c.vmAction("resume", "startVirtualMachine", func(status string) error {
		if status != "SUSPENDED" {
			return errResourceUsage("Instance should be in the SUSPENDED state.")
		}
		return nil
	}, func(m *instanceMeta, t time.Time) { m.Suspended, m.LastStart = false, t })
}
