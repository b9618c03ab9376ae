package gce

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloudstack/csclient"
	"github.com/stratus-cloud/stratus/internal/store"
)

// Target pools are the gateway's records (a set of instances and at most
// one legacy HTTP health check, in a region): CloudStack has no pool of its
// own, a load balancer rule lists its VMs. What a pool holds is applied to
// the CloudStack load balancer rule of every forwarding rule that targets
// it (syncRule): its instances' VMs assigned, its health check as the
// rule's health check policy, its session affinity as the algorithm. The
// changes run to the end before the operation is answered, so operations
// on pools are DONE at once.

// TargetPool is compute#targetPool.
type TargetPool struct {
	Kind              string   `json:"kind"`
	ID                uint64   `json:"id,string"`
	CreationTimestamp string   `json:"creationTimestamp,omitempty"`
	Name              string   `json:"name"`
	Description       string   `json:"description,omitempty"`
	Region            string   `json:"region"`
	Instances         []string `json:"instances,omitempty"`
	HealthChecks      []string `json:"healthChecks,omitempty"`
	SessionAffinity   string   `json:"sessionAffinity"`
	FailoverRatio     float64  `json:"failoverRatio,omitempty"`
	BackupPool        string   `json:"backupPool,omitempty"`
	SelfLink          string   `json:"selfLink"`
}

// poolRecord is a stored target pool; instances are "zones/Z/instances/N",
// health checks names of httpHealthChecks.
type poolRecord struct {
	ID              uint64   `json:"id"`
	Description     string   `json:"description,omitempty"`
	Instances       []string `json:"instances,omitempty"`
	HealthChecks    []string `json:"healthChecks,omitempty"`
	SessionAffinity string   `json:"sessionAffinity,omitempty"`
	Created         string   `json:"created"`
}

// poolsOf holds a project's target pools under "REGION/NAME".
func (g *Gateway) poolsOf(project string) store.Typed[poolRecord] {
	return store.Typed[poolRecord]{S: g.st, Prefix: "/gce/targetpools/" + project + "/"}
}

// splitRegional splits a "REGION/NAME" key.
func splitRegional(key string) (region, name string) {
	region, name, _ = strings.Cut(key, "/")
	return region, name
}

func (c *call) poolPath(region, name string) string {
	return "projects/" + c.project + "/regions/" + region + "/targetPools/" + name
}

func (c *call) renderPool(region, name string, rec *poolRecord) *TargetPool {
	p := &TargetPool{Kind: "compute#targetPool", ID: rec.ID, CreationTimestamp: rec.Created, Name: name, Description: rec.Description,
		Region: c.regionLink(region), SessionAffinity: rec.SessionAffinity, SelfLink: c.link("regions", region, "targetPools", name)}
	if p.SessionAffinity == "" {
		p.SessionAffinity = "NONE"
	}
	for _, in := range rec.Instances {
		p.Instances = append(p.Instances, c.link(in))
	}
	for _, h := range rec.HealthChecks {
		p.HealthChecks = append(p.HealthChecks, c.link("global", "httpHealthChecks", h))
	}
	return p
}

// poolEntries renders the pools of one region or all ("").
func (c *call) poolEntries(region string) ([]entry, error) {
	items, _, err := c.g.poolsOf(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	var es []entry
	for _, it := range items {
		r, name := splitRegional(it.Name)
		if region != "" && r != region {
			continue
		}
		es = append(es, entry{scope: "regions/" + r, name: name, created: it.Val.Created, v: c.renderPool(r, name, it.Val)})
	}
	return es, nil
}

// findPool loads a pool of the request's region by name.
func (c *call) findPool(region, name string) (*poolRecord, error) {
	rec, _, err := c.g.poolsOf(c.project).Get(c.ctx, region+"/"+name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.poolPath(region, name))
	}
	return rec, err
}

func (g *Gateway) listTargetPools(c *call) (any, error) {
	region := c.r.PathValue("region")
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	es, err := c.poolEntries(region)
	if err != nil {
		return nil, err
	}
	for i := range es {
		es[i].scope = ""
	}
	return c.list("compute#targetPoolList", c.link("regions", region, "targetPools"), es)
}

func (g *Gateway) aggregatedTargetPools(c *call) (any, error) {
	es, err := c.poolEntries("")
	if err != nil {
		return nil, err
	}
	return c.aggregated("compute#targetPoolAggregatedList", "targetPools", c.link("aggregated", "targetPools"), es, c.regionScopes())
}

func (g *Gateway) getTargetPool(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	rec, err := c.findPool(region, name)
	if err != nil {
		return nil, err
	}
	return c.renderPool(region, name, rec), nil
}

// poolInstance checks an instance reference of a pool in region and
// returns its short form "zones/Z/instances/N".
func (c *call) poolInstance(region, ref, field string) (string, error) {
	p := relPath(ref)
	if rest, ok := strings.CutPrefix(p, "projects/"); ok {
		proj, tail, _ := strings.Cut(rest, "/")
		if proj != c.project {
			return "", errInvalid("Invalid value for field '%s': '%s'. Instances of another project cannot be added.", field, ref)
		}
		p = tail
	}
	zone, name := afterSegment(p, "zones"), afterSegment(p, "instances")
	if zone == "" || name == "" {
		return "", errInvalid("Invalid value for field '%s': '%s'. The URL is malformed.", field, ref)
	}
	if regionOf(zone) != region {
		return "", errInvalid("Invalid value for field '%s': '%s'. Instance must be in the same region as the target pool.", field, ref)
	}
	z, err := c.zoneByName(zone)
	if err != nil {
		return "", err
	}
	if _, err := c.findVM(z, name, false); err != nil {
		return "", err
	}
	return "zones/" + zone + "/instances/" + name, nil
}

// poolHealthCheck checks a health check reference of a pool: a legacy
// HTTP health check of the project.
func (c *call) poolHealthCheck(ref, field string) (string, error) {
	p := relPath(ref)
	if strings.Contains(p, "/healthChecks/") || strings.HasPrefix(p, "healthChecks/") {
		return "", errInvalid("Invalid value for field '%s': '%s'. Target pools only accept legacy HTTP health checks (httpHealthChecks).", field, ref)
	}
	name := lastSegment(p)
	if _, _, err := c.g.httpHealthChecksOf(c.project).Get(c.ctx, name); errors.Is(err, store.ErrNotFound) {
		return "", errNotFound(c.httpHealthCheckPath(name))
	} else if err != nil {
		return "", err
	}
	return name, nil
}

// sessionAffinities are the target pools' affinities, each with the
// CloudStack algorithm that gives it.
var sessionAffinities = map[string]string{"": "roundrobin", "NONE": "roundrobin", "CLIENT_IP": "source", "CLIENT_IP_PROTO": "source"}

func (g *Gateway) insertTargetPool(c *call) (any, error) {
	region := c.r.PathValue("region")
	var in TargetPool
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	if _, err := c.regionZones(region); err != nil {
		return nil, err
	}
	if _, ok := sessionAffinities[in.SessionAffinity]; !ok {
		return nil, errInvalid("Invalid value for field 'resource.sessionAffinity': '%s'. Must be one of [CLIENT_IP, CLIENT_IP_PROTO, NONE].", in.SessionAffinity)
	}
	if in.BackupPool != "" || in.FailoverRatio != 0 {
		return nil, errUnsupported("A target pool's backup pool")
	}
	if len(in.HealthChecks) > 1 {
		return nil, errInvalid("Invalid value for field 'resource.healthChecks': ''. A target pool can have at most one health check.")
	}
	rec := &poolRecord{Description: in.Description, SessionAffinity: in.SessionAffinity, Created: gceTime(c.g.now())}
	for i, ref := range in.Instances {
		inst, err := c.poolInstance(region, ref, "resource.instances["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		rec.Instances = appendUnique(rec.Instances, inst)
	}
	for i, ref := range in.HealthChecks {
		h, err := c.poolHealthCheck(ref, "resource.healthChecks["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		rec.HealthChecks = append(rec.HealthChecks, h)
	}
	rec.ID = idOf("targetPool", c.tok.AccountID+"/"+region+"/"+in.Name+"/"+strconv.FormatInt(c.g.now().UnixNano(), 10))
	if _, err := g.poolsOf(c.project).Create(c.ctx, region+"/"+in.Name, rec); errors.Is(err, store.ErrConflict) {
		return nil, errAlreadyExists(c.poolPath(region, in.Name))
	} else if err != nil {
		return nil, err
	}
	return c.startOp(opScope{region: region}, "insert", "regions/"+region+"/targetPools/"+in.Name, rec.ID, nil, nil)
}

func appendUnique(xs []string, x string) []string {
	for _, y := range xs {
		if y == x {
			return xs
		}
	}
	return append(xs, x)
}

func (g *Gateway) deleteTargetPool(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	rec, err := c.findPool(region, name)
	if err != nil {
		return nil, err
	}
	frs, err := c.rulesOfPool(region, name)
	if err != nil {
		return nil, err
	}
	if len(frs) > 0 {
		return nil, errInUse(c.poolPath(region, name), "projects/"+c.project+"/regions/"+region+"/forwardingRules/"+frs[0].name)
	}
	if err := g.poolsOf(c.project).Delete(c.ctx, region+"/"+name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return c.startOp(opScope{region: region}, "delete", "regions/"+region+"/targetPools/"+name, rec.ID, nil, nil)
}

// poolChange reads a pool change's body and changes the pool's record
// with it, then applies the pool to its forwarding rules' CloudStack
// load balancer rules.
func (c *call) poolChange(opType string, body any, change func(region string, rec *poolRecord) error) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	if err := c.decode(body); err != nil {
		return nil, err
	}
	if _, err := c.findPool(region, name); err != nil {
		return nil, err
	}
	// A change that fails writes nothing.
	next, _, err := c.g.poolsOf(c.project).Update(c.ctx, region+"/"+name, func(rec *poolRecord) (*poolRecord, error) {
		return rec, change(region, rec)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.poolPath(region, name))
	} else if err != nil {
		return nil, err
	}
	if err := c.syncPool(region, name, next); err != nil {
		return nil, err
	}
	return c.startOp(opScope{region: region}, opType, "regions/"+region+"/targetPools/"+name, next.ID, nil, nil)
}

// instanceRefs is the body of addInstance and removeInstance.
type instanceRefs struct {
	Instances []struct {
		Instance string `json:"instance"`
	} `json:"instances"`
}

// healthCheckRefs is the body of addHealthCheck and removeHealthCheck.
type healthCheckRefs struct {
	HealthChecks []struct {
		HealthCheck string `json:"healthCheck"`
	} `json:"healthChecks"`
}

func (g *Gateway) addPoolInstance(c *call) (any, error) {
	var in instanceRefs
	return c.poolChange("addInstance", &in, func(region string, rec *poolRecord) error {
		if len(in.Instances) == 0 {
			return errInvalid("Required field 'instances' not specified")
		}
		add := make([]string, 0, len(in.Instances))
		for i, ref := range in.Instances {
			inst, err := c.poolInstance(region, ref.Instance, "instances["+strconv.Itoa(i)+"].instance")
			if err != nil {
				return err
			}
			add = append(add, inst)
		}
		for _, inst := range add {
			rec.Instances = appendUnique(rec.Instances, inst)
		}
		return nil
	})
}

func (g *Gateway) removePoolInstance(c *call) (any, error) {
	var in instanceRefs
	return c.poolChange("removeInstance", &in, func(region string, rec *poolRecord) error {
		if len(in.Instances) == 0 {
			return errInvalid("Required field 'instances' not specified")
		}
		drop := map[string]bool{}
		for i, ref := range in.Instances {
			inst := poolInstanceKey(ref.Instance)
			if !contains(rec.Instances, inst) {
				return errInvalid("Invalid value for field 'instances[%d].instance': '%s'. The instance is not in the target pool.", i, ref.Instance)
			}
			drop[inst] = true
		}
		kept := rec.Instances[:0:0]
		for _, inst := range rec.Instances {
			if !drop[inst] {
				kept = append(kept, inst)
			}
		}
		rec.Instances = kept
		return nil
	})
}

func (g *Gateway) addPoolHealthCheck(c *call) (any, error) {
	var in healthCheckRefs
	return c.poolChange("addHealthCheck", &in, func(_ string, rec *poolRecord) error {
		if len(in.HealthChecks) == 0 {
			return errInvalid("Required field 'healthChecks' not specified")
		}
		var add []string
		for i, ref := range in.HealthChecks {
			h, err := c.poolHealthCheck(ref.HealthCheck, "healthChecks["+strconv.Itoa(i)+"].healthCheck")
			if err != nil {
				return err
			}
			add = appendUnique(add, h)
		}
		for _, h := range add {
			rec.HealthChecks = appendUnique(rec.HealthChecks, h)
		}
		if len(rec.HealthChecks) > 1 {
			return errInvalid("Invalid value for field 'healthChecks': ''. A target pool can have at most one health check.")
		}
		return nil
	})
}

func (g *Gateway) removePoolHealthCheck(c *call) (any, error) {
	var in healthCheckRefs
	return c.poolChange("removeHealthCheck", &in, func(_ string, rec *poolRecord) error {
		if len(in.HealthChecks) == 0 {
			return errInvalid("Required field 'healthChecks' not specified")
		}
		for i, ref := range in.HealthChecks {
			name := lastSegment(ref.HealthCheck)
			if !contains(rec.HealthChecks, name) {
				return errInvalid("Invalid value for field 'healthChecks[%d].healthCheck': '%s'. The health check is not in the target pool.", i, ref.HealthCheck)
			}
			kept := rec.HealthChecks[:0:0]
			for _, h := range rec.HealthChecks {
				if h != name {
					kept = append(kept, h)
				}
			}
			rec.HealthChecks = kept
		}
		return nil
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// poolInstanceKey is the short form of an instance reference, unchecked.
func poolInstanceKey(ref string) string {
	p := relPath(ref)
	return "zones/" + afterSegment(p, "zones") + "/instances/" + afterSegment(p, "instances")
}

// HealthStatus is one instance's health behind a forwarding rule.
type HealthStatus struct {
	Instance    string `json:"instance"`
	IPAddress   string `json:"ipAddress,omitempty"`
	Port        int64  `json:"port,omitempty"`
	HealthState string `json:"healthState"`
}

// TargetPoolInstanceHealth is compute#targetPoolInstanceHealth.
type TargetPoolInstanceHealth struct {
	Kind         string         `json:"kind"`
	HealthStatus []HealthStatus `json:"healthStatus"`
}

// getPoolHealth answers an instance's health in a pool: HEALTHY while its
// VM runs (the simulated VMs answer every check), UNHEALTHY otherwise;
// one status per forwarding rule that targets the pool.
func (g *Gateway) getPoolHealth(c *call) (any, error) {
	region, name := c.r.PathValue("region"), c.r.PathValue("name")
	var in struct {
		Instance string `json:"instance"`
	}
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	rec, err := c.findPool(region, name)
	if err != nil {
		return nil, err
	}
	if in.Instance == "" {
		return nil, errInvalid("Required field 'resource.instance' not specified")
	}
	key := poolInstanceKey(in.Instance)
	if !contains(rec.Instances, key) {
		return nil, errInvalid("Invalid value for field 'resource.instance': '%s'. Instance is not a member of the target pool.", in.Instance)
	}
	state := "UNHEALTHY"
	if z, err := c.zoneByName(afterSegment(key, "zones")); err == nil {
		if vm, err := c.findVM(z, afterSegment(key, "instances"), false); err == nil && vm.State == "Running" {
			state = "HEALTHY"
		}
	}
	out := &TargetPoolInstanceHealth{Kind: "compute#targetPoolInstanceHealth"}
	frs, err := c.rulesOfPool(region, name)
	if err != nil {
		return nil, err
	}
	for _, fr := range frs {
		out.HealthStatus = append(out.HealthStatus, HealthStatus{Instance: c.link(key), IPAddress: fr.rule.PublicIP, Port: int64(fr.rule.PublicPort), HealthState: state})
	}
	if len(out.HealthStatus) == 0 {
		out.HealthStatus = []HealthStatus{{Instance: c.link(key), HealthState: state}}
	}
	return out, nil
}

// poolVMs are the VM ids of a pool's instances that exist (a pool keeps
// an instance's URL after the instance is gone, as GCE does).
func (c *call) poolVMs(rec *poolRecord) (map[string]bool, error) {
	ids := map[string]bool{}
	if rec == nil {
		return ids, nil
	}
	for _, key := range rec.Instances {
		z, err := c.zoneByName(afterSegment(key, "zones"))
		if err != nil {
			continue
		}
		vm, err := c.findVM(z, afterSegment(key, "instances"), false)
		if err != nil {
			if toAPIError(err).Code == 404 {
				continue
			}
			return nil, err
		}
		ids[vm.ID] = true
	}
	return ids, nil
}

// syncPool applies a pool to every forwarding rule that targets it.
func (c *call) syncPool(region, name string, rec *poolRecord) error {
	frs, err := c.rulesOfPool(region, name)
	if err != nil {
		return err
	}
	for _, fr := range frs {
		if err := c.syncRule(fr.rule.ID, rec); err != nil {
			return err
		}
	}
	return nil
}

// lbHealthPolicy is a listLBHealthCheckPolicies policy.
type lbHealthPolicy struct {
	ID                 string `json:"id"`
	PingPath           string `json:"pingpath"`
	ResponseTime       int    `json:"responsetime"`
	Interval           int    `json:"healthcheckinterval"`
	HealthyThreshold   int    `json:"healthcheckthresshold"`
	UnhealthyThreshold int    `json:"unhealthcheckthresshold"`
}

// syncRule makes a CloudStack load balancer rule hold what a pool holds
// (nil: nothing): its VMs and its health check policy.
func (c *call) syncRule(ruleID string, rec *poolRecord) error {
	want, err := c.poolVMs(rec)
	if err != nil {
		return err
	}
	cur, err := c.cs.ListLoadBalancerRuleInstances(c.ctx, csclient.Params("id", ruleID))
	if err != nil {
		return err
	}
	var add, drop []string
	have := map[string]bool{}
	for _, vm := range cur {
		have[vm.ID] = true
		if !want[vm.ID] {
			drop = append(drop, vm.ID)
		}
	}
	for id := range want {
		if !have[id] {
			add = append(add, id)
		}
	}
	sort.Strings(add)
	if len(add) > 0 {
		if err := c.cs.AsyncWait(c.ctx, "assignToLoadBalancerRule", csclient.Params("id", ruleID, "virtualmachineids", strings.Join(add, ",")), "", nil); err != nil {
			return err
		}
	}
	if len(drop) > 0 {
		if err := c.cs.AsyncWait(c.ctx, "removeFromLoadBalancerRule", csclient.Params("id", ruleID, "virtualmachineids", strings.Join(drop, ",")), "", nil); err != nil {
			return err
		}
	}
	return c.syncHealthPolicy(ruleID, rec)
}

// syncHealthPolicy gives a rule the health check policy of the pool's
// HTTP health check, or none.
func (c *call) syncHealthPolicy(ruleID string, rec *poolRecord) error {
	var want *HTTPHealthCheck
	if rec != nil && len(rec.HealthChecks) > 0 {
		h, _, err := c.g.httpHealthChecksOf(c.project).Get(c.ctx, rec.HealthChecks[0])
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if h != nil {
			want = &h.Check
		}
	}
	var r struct {
		Policies []struct {
			HealthCheckPolicy []lbHealthPolicy `json:"healthcheckpolicy"`
		} `json:"healthcheckpolicies"`
	}
	if err := c.cs.Do(c.ctx, "listLBHealthCheckPolicies", csclient.Params("lbruleid", ruleID), &r); err != nil {
		return err
	}
	matched := false
	interval, timeout := csHealthTiming(want)
	for _, ps := range r.Policies {
		for _, p := range ps.HealthCheckPolicy {
			if want != nil && !matched && p.PingPath == want.RequestPath && p.Interval == interval &&
				p.ResponseTime == timeout && int64(p.HealthyThreshold) == want.HealthyThreshold &&
				int64(p.UnhealthyThreshold) == want.UnhealthyThreshold {
				matched = true
				continue
			}
			if err := c.cs.AsyncWait(c.ctx, "deleteLBHealthCheckPolicy", csclient.Params("id", p.ID), "", nil); err != nil {
				return err
			}
		}
	}
	if want == nil || matched {
		return nil
	}
	return c.cs.AsyncWait(c.ctx, "createLBHealthCheckPolicy", csclient.Params("lbruleid", ruleID, "pingpath", want.RequestPath,
		"intervaltime", strconv.Itoa(interval), "responsetimeout", strconv.Itoa(timeout),
		"healthythreshold", fmt.Sprint(want.HealthyThreshold), "unhealthythreshold", fmt.Sprint(want.UnhealthyThreshold),
		"description", "gce httpHealthCheck "+rec.HealthChecks[0]), "", nil)
}

// csHealthTiming is a health check's interval and timeout as CloudStack
// takes them: a timeout of 2 to 60 s, shorter than the interval (GCE lets
// them be equal, and its default is 5 and 5, which becomes 5 and 4).
func csHealthTiming(h *HTTPHealthCheck) (interval, timeout int) {
	if h == nil {
		return 0, 0
	}
	interval, timeout = int(h.CheckIntervalSec), int(h.TimeoutSec)
	timeout = min(max(timeout, 2), 60)
	if timeout >= interval {
		if interval > 2 {
			timeout = interval - 1
		} else {
			interval = timeout + 1
		}
	}
	return interval, timeout
}
