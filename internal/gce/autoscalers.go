package gce

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Zonal autoscalers are the gateway's records, one per managed instance
// group, acting through the group's reconciler (reconcileGroup calls
// autoscale): when the group is stable (every member running, as many as
// its target size), its members' CPU use as CloudStack reports it
// (cpuused) gives the recommended size, ceil(sum of use / target use),
// kept between the policy's minimum and maximum, and the group's target
// size becomes it (mode ON; ONLY_SCALE_OUT only grows it; OFF leaves it).
// The simulator reports 10% for a running VM, so a simulated group
// settles at the size that use asks for, usually the minimum.

// AutoscalingPolicy is an autoscaler's policy.
type AutoscalingPolicy struct {
	MinNumReplicas    *int64          `json:"minNumReplicas,omitempty"`
	MaxNumReplicas    int64           `json:"maxNumReplicas,omitempty"`
	CoolDownPeriodSec int64           `json:"coolDownPeriodSec,omitempty"`
	CPUUtilization    *CPUUtilization `json:"cpuUtilization,omitempty"`
	Mode              string          `json:"mode,omitempty"`
}

// CPUUtilization is the CPU use an autoscaler keeps its group at.
type CPUUtilization struct {
	UtilizationTarget float64 `json:"utilizationTarget,omitempty"`
}

// Autoscaler is compute#autoscaler.
type Autoscaler struct {
	Kind              string             `json:"kind,omitempty"`
	ID                uint64             `json:"id,string,omitempty"`
	CreationTimestamp string             `json:"creationTimestamp,omitempty"`
	Name              string             `json:"name,omitempty"`
	Description       string             `json:"description,omitempty"`
	Target            string             `json:"target,omitempty"`
	AutoscalingPolicy *AutoscalingPolicy `json:"autoscalingPolicy,omitempty"`
	Zone              string             `json:"zone,omitempty"`
	Status            string             `json:"status,omitempty"`
	RecommendedSize   *int64             `json:"recommendedSize,omitempty"`
	SelfLink          string             `json:"selfLink,omitempty"`
}

// autoscalerRecord is a stored autoscaler.
type autoscalerRecord struct {
	ID          uint64            `json:"id"`
	Description string            `json:"description,omitempty"`
	Group       string            `json:"group"`
	Policy      AutoscalingPolicy `json:"policy"`
	Created     time.Time         `json:"created"`
	Recommended *int64            `json:"recommended,omitempty"`
}

// autoscaler defaults, as GCE's.
const (
	defaultCPUTarget = 0.6
	defaultCoolDown  = 60
)

// autoscalersOf holds a zone's autoscalers by name (zone "": all of the
// project's, by "zone/name").
func (g *Gateway) autoscalersOf(project, zone string) store.Typed[autoscalerRecord] {
	p := "/gce/autoscalers/" + project + "/"
	if zone != "" {
		p += zone + "/"
	}
	return store.Typed[autoscalerRecord]{S: g.st, Prefix: p}
}

func (c *call) autoscalerPath(zone, name string) string {
	return "projects/" + c.project + "/zones/" + zone + "/autoscalers/" + name
}

func (c *call) renderAutoscaler(zone, name string, rec *autoscalerRecord) *Autoscaler {
	pol := rec.Policy
	return &Autoscaler{Kind: "compute#autoscaler", ID: rec.ID, CreationTimestamp: gceTime(rec.Created), Name: name,
		Description: rec.Description, Target: c.link("zones", zone, "instanceGroupManagers", rec.Group), AutoscalingPolicy: &pol,
		Zone: c.zoneLink(zone), Status: "ACTIVE", RecommendedSize: rec.Recommended, SelfLink: c.link("zones", zone, "autoscalers", name)}
}

// checkPolicy validates a policy and fills GCE's defaults.
func checkPolicy(p *AutoscalingPolicy) error {
	if p.MaxNumReplicas <= 0 {
		return errInvalid("Invalid value for field 'resource.autoscalingPolicy.maxNumReplicas': '%d'. Must be greater than 0.", p.MaxNumReplicas)
	}
	if p.MinNumReplicas == nil {
		one := int64(1)
		p.MinNumReplicas = &one
	}
	if *p.MinNumReplicas < 0 || *p.MinNumReplicas > p.MaxNumReplicas {
		return errInvalid("Invalid value for field 'resource.autoscalingPolicy.minNumReplicas': '%d'. Must be between 0 and maxNumReplicas.", *p.MinNumReplicas)
	}
	if p.CoolDownPeriodSec == 0 {
		p.CoolDownPeriodSec = defaultCoolDown
	}
	if p.CPUUtilization == nil {
		p.CPUUtilization = &CPUUtilization{}
	}
	if p.CPUUtilization.UtilizationTarget == 0 {
		p.CPUUtilization.UtilizationTarget = defaultCPUTarget
	}
	if t := p.CPUUtilization.UtilizationTarget; t < 0.01 || t > 1 {
		return errInvalid("Invalid value for field 'resource.autoscalingPolicy.cpuUtilization.utilizationTarget': '%g'. Must be between 0.01 and 1.", t)
	}
	switch p.Mode {
	case "":
		p.Mode = "ON"
	case "ON", "OFF", "ONLY_SCALE_OUT":
	default:
		return errInvalid("Invalid value for field 'resource.autoscalingPolicy.mode': '%s'. Must be one of [OFF, ON, ONLY_SCALE_OUT].", p.Mode)
	}
	return nil
}

// autoscalerEntries are the autoscalers of one zone or all ("").
func (c *call) autoscalerEntries(zone string) ([]entry, error) {
	items, _, err := c.g.autoscalersOf(c.project, zone).List(c.ctx)
	if err != nil {
		return nil, err
	}
	var es []entry
	for _, it := range items {
		z, name := zone, it.Name
		if zone == "" {
			z, name = splitScoped(it.Name)
		}
		a := c.renderAutoscaler(z, name, it.Val)
		es = append(es, entry{scope: "zones/" + z, name: name, created: a.CreationTimestamp, v: a})
	}
	return es, nil
}

func (g *Gateway) listAutoscalers(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	es, err := c.autoscalerEntries(z.name)
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#autoscalerList", c.link("zones", z.name, "autoscalers"), es)
}

func (g *Gateway) aggregatedAutoscalers(c *call) (any, error) {
	zs, err := c.zones()
	if err != nil {
		return nil, err
	}
	scopes := make([]string, len(zs))
	for i, z := range zs {
		scopes[i] = "zones/" + z.name
	}
	es, err := c.autoscalerEntries("")
	if err != nil {
		return nil, err
	}
	return c.aggregated("compute#autoscalerAggregatedList", "autoscalers", c.link("aggregated", "autoscalers"), es, scopes)
}

func (g *Gateway) getAutoscaler(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	name := c.r.PathValue("name")
	rec, _, err := g.autoscalersOf(c.project, z.name).Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.autoscalerPath(z.name, name))
	} else if err != nil {
		return nil, err
	}
	return c.renderAutoscaler(z.name, name, rec), nil
}

// autoscalerOf finds the autoscaler of a group ("" when it has none).
func (c *call) autoscalerOf(zone, group string) (string, *autoscalerRecord, error) {
	items, _, err := c.g.autoscalersOf(c.project, zone).List(c.ctx)
	if err != nil {
		return "", nil, err
	}
	for _, it := range items {
		if it.Val.Group == group {
			return it.Name, it.Val, nil
		}
	}
	return "", nil, nil
}

func (g *Gateway) insertAutoscaler(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	var in Autoscaler
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	rec, err := c.autoscalerFrom(z, &in)
	if err != nil {
		return nil, err
	}
	if other, _, err := c.autoscalerOf(z.name, rec.Group); err != nil {
		return nil, err
	} else if other != "" {
		return nil, errInUse(c.groupPath(z.name, rec.Group), c.autoscalerPath(z.name, other))
	}
	rec.ID = idOf("autoscaler", c.tok.AccountID+"/"+z.name+"/"+in.Name+"/"+strconv.FormatInt(c.g.now().UnixNano(), 10))
	rec.Created = c.g.now()
	if _, err := g.autoscalersOf(c.project, z.name).Create(c.ctx, in.Name, rec); errors.Is(err, store.ErrConflict) {
		return nil, errAlreadyExists(c.autoscalerPath(z.name, in.Name))
	} else if err != nil {
		return nil, err
	}
	if _, err := c.reconcileGroup(z, rec.Group); err != nil {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "compute.autoscalers.insert", "zones/"+z.name+"/autoscalers/"+in.Name, rec.ID, nil, nil)
}

// autoscalerFrom checks an autoscaler's target and policy.
func (c *call) autoscalerFrom(z zoneInfo, in *Autoscaler) (*autoscalerRecord, error) {
	if in.Target == "" {
		return nil, errInvalid("Required field 'resource.target' not specified")
	}
	p := relPath(in.Target)
	if !strings.Contains("/"+p, "/instanceGroupManagers/") {
		return nil, errInvalid("Invalid value for field 'resource.target': '%s'. Must be a managed instance group.", in.Target)
	}
	if gz := afterSegment(p, "zones"); gz != "" && gz != z.name {
		return nil, errInvalid("Invalid value for field 'resource.target': '%s'. The group must be in the autoscaler's zone.", in.Target)
	}
	group := lastSegment(p)
	if _, err := c.findGroup(z, group); err != nil {
		return nil, err
	}
	if in.AutoscalingPolicy == nil {
		return nil, errInvalid("Required field 'resource.autoscalingPolicy' not specified")
	}
	pol := *in.AutoscalingPolicy
	if pol.CPUUtilization != nil {
		cu := *pol.CPUUtilization
		pol.CPUUtilization = &cu
	}
	if err := checkPolicy(&pol); err != nil {
		return nil, err
	}
	return &autoscalerRecord{Description: in.Description, Group: group, Policy: pol}, nil
}

// writeAutoscaler is patch (the fields given change) and update (the
// whole autoscaler): ?autoscaler=NAME names it.
func (c *call) writeAutoscaler(patch bool) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	name := c.r.URL.Query().Get("autoscaler")
	var in Autoscaler
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if name == "" {
		name = in.Name
	}
	scalers := c.g.autoscalersOf(c.project, z.name)
	cur, _, err := scalers.Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.autoscalerPath(z.name, name))
	} else if err != nil {
		return nil, err
	}
	if patch {
		if in.Target == "" {
			in.Target = "zones/" + z.name + "/instanceGroupManagers/" + cur.Group
		}
		if in.Description == "" {
			in.Description = cur.Description
		}
		if in.AutoscalingPolicy != nil {
			pol := cur.Policy
			p := in.AutoscalingPolicy
			if p.MinNumReplicas != nil {
				pol.MinNumReplicas = p.MinNumReplicas
			}
			if p.MaxNumReplicas != 0 {
				pol.MaxNumReplicas = p.MaxNumReplicas
			}
			if p.CoolDownPeriodSec != 0 {
				pol.CoolDownPeriodSec = p.CoolDownPeriodSec
			}
			if p.CPUUtilization != nil {
				pol.CPUUtilization = p.CPUUtilization
			}
			if p.Mode != "" {
				pol.Mode = p.Mode
			}
			in.AutoscalingPolicy = &pol
		} else {
			pol := cur.Policy
			in.AutoscalingPolicy = &pol
		}
	}
	next, err := c.autoscalerFrom(z, &in)
	if err != nil {
		return nil, err
	}
	if next.Group != cur.Group {
		return nil, errInvalid("Invalid value for field 'resource.target': '%s'. An autoscaler's target cannot change.", in.Target)
	}
	next.ID, next.Created = cur.ID, cur.Created
	if _, err := scalers.Put(c.ctx, name, next); err != nil {
		return nil, err
	}
	if _, err := c.reconcileGroup(z, next.Group); err != nil {
		return nil, err
	}
	op := "compute.autoscalers.update"
	if patch {
		op = "compute.autoscalers.patch"
	}
	return c.startOp(opScope{zone: z.name}, op, "zones/"+z.name+"/autoscalers/"+name, next.ID, nil, nil)
}

func (g *Gateway) patchAutoscaler(c *call) (any, error)  { return c.writeAutoscaler(true) }
func (g *Gateway) updateAutoscaler(c *call) (any, error) { return c.writeAutoscaler(false) }

func (g *Gateway) deleteAutoscaler(c *call) (any, error) {
	z, err := c.zoneByName(c.r.PathValue("zone"))
	if err != nil {
		return nil, err
	}
	name := c.r.PathValue("name")
	scalers := g.autoscalersOf(c.project, z.name)
	rec, _, err := scalers.Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.autoscalerPath(z.name, name))
	} else if err != nil {
		return nil, err
	}
	if err := scalers.Delete(c.ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return c.startOp(opScope{zone: z.name}, "compute.autoscalers.delete", "zones/"+z.name+"/autoscalers/"+name, rec.ID, nil, nil)
}

// cpuUse reads CloudStack's cpuused ("10%") as a fraction.
func cpuUse(vm *csclient.VirtualMachine) float64 {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(vm.CPUUsed), "%"), 64)
	if err != nil || f < 0 {
		return 0
	}
	return f / 100
}

// autoscale sets a stable group's target size to what its autoscaler
// recommends; called by reconcileGroup under the group's lock.
func (c *call) autoscale(z zoneInfo, group string, rec *groupRecord, vms map[string]*csclient.VirtualMachine) error {
	name, as, err := c.autoscalerOf(z.name, group)
	if err != nil || as == nil {
		return err
	}
	if int64(len(rec.Members)) != rec.TargetSize {
		return nil
	}
	var use float64
	for _, m := range rec.Members {
		vm := vms[m.VMID]
		if m.Op != "" || m.Deleting || vm == nil || vm.State != "Running" {
			return nil // not stable yet
		}
		use += cpuUse(vm)
	}
	pol := as.Policy
	want := int64(math.Ceil(use/pol.CPUUtilization.UtilizationTarget - 1e-9))
	want = max(min(want, pol.MaxNumReplicas), *pol.MinNumReplicas)
	if as.Recommended == nil || *as.Recommended != want {
		if _, _, err := c.g.autoscalersOf(c.project, z.name).Update(c.ctx, name, func(r *autoscalerRecord) (*autoscalerRecord, error) {
			r.Recommended = &want
			return r, nil
		}); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	switch {
	case pol.Mode == "OFF":
	case pol.Mode == "ONLY_SCALE_OUT" && want < rec.TargetSize:
	default:
		if want != rec.TargetSize {
			c.g.log.Info("gce: autoscaler resizes group", "project", c.project, "group", group, "from", rec.TargetSize, "to", want)
			rec.TargetSize = want
		}
	}
	return nil
}
