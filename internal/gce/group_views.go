package gce

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
)

// What the gateway shows of its managed instance groups: the groups, their
// members, the instance groups they make (read-only) and the zones'
// (empty) autoscalers.

func (g *Gateway) getGroup(c *call) (any, error) {
	z, name, rec, err := c.groupCall()
	if err != nil {
		return nil, err
	}
	vms, err := c.zoneVMs(z)
	if err != nil {
		return nil, err
	}
	return c.renderGroup(z.name, name, rec, vms), nil
}

// memberAction is what listManagedInstances says the group does to a
// member: its action, or CREATING until a new VM runs.
func memberAction(m *groupMember, vm *csclient.VirtualMachine) string {
	if m.Action == actionNone && vm == nil {
		return actionCreating
	}
	return m.Action
}

func (c *call) renderGroup(zone, name string, rec *groupRecord, vms map[string]*csclient.VirtualMachine) *InstanceGroupManager {
	actions := map[string]int64{"none": 0, "creating": 0, "creatingWithoutRetries": 0, "recreating": 0, "deleting": 0,
		"abandoning": 0, "restarting": 0, "refreshing": 0, "verifying": 0, "starting": 0, "stopping": 0, "suspending": 0, "resuming": 0}
	for i := range rec.Members {
		m := &rec.Members[i]
		actions[strings.ToLower(memberAction(m, vms[m.VMID]))]++
	}
	stable := actions["none"] == int64(len(rec.Members)) && int64(len(rec.Members)) == rec.TargetSize
	tmpl := c.link("global", "instanceTemplates", rec.Template)
	size := rec.TargetSize
	return &InstanceGroupManager{Kind: "compute#instanceGroupManager", ID: rec.ID, CreationTimestamp: gceTime(rec.Created),
		Name: name, Description: rec.Description, Zone: c.zoneLink(zone), InstanceTemplate: tmpl,
		Versions: []InstanceGroupManagerVersion{{InstanceTemplate: tmpl}}, InstanceGroup: c.link("zones", zone, "instanceGroups", name),
		BaseInstanceName: rec.BaseInstanceName, Fingerprint: fingerprint([]any{rec.Template, rec.TargetSize}), CurrentActions: actions,
		Status: map[string]any{"isStable": stable, "versionTarget": map[string]any{"isReached": true},
			"allInstancesConfig": map[string]any{"effective": true},
			"stateful":           map[string]any{"hasStatefulConfig": false, "perInstanceConfigs": map[string]any{"allEffective": true}}},
		TargetSize: &size, ListManagedInstancesResults: "PAGELESS",
		UpdatePolicy: map[string]any{"type": "OPPORTUNISTIC", "minimalAction": "REPLACE", "replacementMethod": "SUBSTITUTE",
			"maxSurge": map[string]any{"fixed": 1, "calculated": 1}, "maxUnavailable": map[string]any{"fixed": 1, "calculated": 1}},
		SelfLink: c.link("zones", zone, "instanceGroupManagers", name)}
}

func (g *Gateway) listManagedInstances(c *call) (any, error) {
	z, _, rec, err := c.groupCall()
	if err != nil {
		return nil, err
	}
	vms, err := c.zoneVMs(z)
	if err != nil {
		return nil, err
	}
	tmpl := c.link("global", "instanceTemplates", rec.Template)
	out := make([]ManagedInstance, 0, len(rec.Members))
	for i := range rec.Members {
		m := &rec.Members[i]
		mi := ManagedInstance{Instance: c.link("zones", z.name, "instances", m.Name), Name: m.Name,
			Version: &InstanceGroupManagerVersion{InstanceTemplate: tmpl}}
		if vm := vms[m.VMID]; vm != nil {
			meta, err := c.instanceMeta(z.name, vm)
			if err != nil {
				return nil, err
			}
			mi.ID, mi.InstanceStatus = idOf("instance", vm.ID), statusOf(vm, meta)
		}
		mi.CurrentAction = memberAction(m, vms[m.VMID])
		if m.LastError != nil {
			mi.LastAttempt = &ManagedInstanceLastAttempt{Errors: m.LastError}
		}
		out = append(out, mi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return map[string]any{"managedInstances": out}, nil
}

// groupEntries renders the live groups, of one zone or all.
func (c *call) groupEntries(only *zoneInfo, asGroups bool) ([]entry, []string, error) {
	zs, err := c.zones()
	if err != nil {
		return nil, nil, err
	}
	if only != nil {
		zs = []zoneInfo{*only}
	}
	var es []entry
	scopes := make([]string, 0, len(zs))
	for _, z := range zs {
		scopes = append(scopes, "zones/"+z.name)
		items, _, err := c.g.groupsOf(c.project, z.name).List(c.ctx)
		if err != nil {
			return nil, nil, err
		}
		if len(items) == 0 {
			continue
		}
		vms, err := c.zoneVMs(z)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range items {
			if it.Val.Deleted || strings.Contains(it.Name, "/") {
				continue
			}
			var v any = c.renderGroup(z.name, it.Name, it.Val, vms)
			if asGroups {
				v = c.renderInstanceGroup(z.name, it.Name, it.Val, vms)
			}
			es = append(es, entry{scope: "zones/" + z.name, name: it.Name, created: gceTime(it.Val.Created), v: v})
		}
	}
	return es, scopes, nil
}

// groupList is one of the two views of the managed groups: the managers
// (instanceGroupManagers) or the groups they control (instanceGroups).
type groupList struct {
	resource, kind string // "instanceGroupManagers", "compute#instanceGroupManager"
	asGroups       bool   // entries render as instanceGroups
}

var (
	managerLists = groupList{resource: "instanceGroupManagers", kind: "compute#instanceGroupManager"}
	groupLists   = groupList{resource: "instanceGroups", kind: "compute#instanceGroup", asGroups: true}
)

// list answers zones/{zone}/RESOURCE.
func (l groupList) list(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	es, _, err := c.groupEntries(&z, l.asGroups)
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].scope = ""
	}
	return c.list(l.kind+"List", c.link("zones", z.name, l.resource), es)
}

// aggregated answers aggregated/RESOURCE.
func (l groupList) aggregated(c *call) (any, error) {
	es, scopes, err := c.groupEntries(nil, l.asGroups)
	if err != nil {
		return nil, err
	}
	return c.aggregated(l.kind+"AggregatedList", l.resource, c.link("aggregated", l.resource), es, scopes)
}

func (c *call) renderInstanceGroup(zone, name string, rec *groupRecord, vms map[string]*csclient.VirtualMachine) *InstanceGroup {
	size := int64(0)
	for _, m := range rec.Members {
		if vms[m.VMID] != nil {
			size++
		}
	}
	return &InstanceGroup{Kind: "compute#instanceGroup", ID: idOf("instanceGroup", strconv.FormatUint(rec.ID, 10)),
		CreationTimestamp: gceTime(rec.Created), Name: name, Description: "This instance group is controlled by Instance Group Manager '" + name + "'. To modify instances in this group, use the Instance Group Manager API: https://cloud.google.com/compute/docs/reference/latest/instanceGroupManagers",
		Fingerprint: fingerprint(nil), Zone: c.zoneLink(zone), Size: size, SelfLink: c.link("zones", zone, "instanceGroups", name)}
}

func (g *Gateway) getInstanceGroup(c *call) (any, error) {
	z, name, rec, err := c.groupCall()
	if err != nil {
		if toAPIError(err).Code == http.StatusNotFound {
			return nil, errNotFound("projects/" + c.project + "/zones/" + c.r.PathValue("zone") + "/instanceGroups/" + c.r.PathValue("name"))
		}
		return nil, err
	}
	vms, err := c.zoneVMs(z)
	if err != nil {
		return nil, err
	}
	return c.renderInstanceGroup(z.name, name, rec, vms), nil
}

// listGroupInstances is instanceGroups.listInstances: the group's
// instances that have a VM, with their status.
func (g *Gateway) listGroupInstances(c *call) (any, error) {
	z, name, rec, err := c.groupCall()
	if err != nil {
		if toAPIError(err).Code == http.StatusNotFound {
			return nil, errNotFound("projects/" + c.project + "/zones/" + c.r.PathValue("zone") + "/instanceGroups/" + c.r.PathValue("name"))
		}
		return nil, err
	}
	vms, err := c.zoneVMs(z)
	if err != nil {
		return nil, err
	}
	var es []entry
	for i := range rec.Members {
		m := &rec.Members[i]
		vm := vms[m.VMID]
		if vm == nil {
			continue
		}
		meta, err := c.instanceMeta(z.name, vm)
		if err != nil {
			return nil, err
		}
		es = append(es, entry{name: m.Name, v: map[string]any{"instance": c.link("zones", z.name, "instances", m.Name), "status": statusOf(vm, meta)}})
	}
	return c.list("compute#instanceGroupsListInstances", c.link("zones", z.name, "instanceGroups", name, "listInstances"), es)
}
