package gce

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/stratus-cloud/stratus/internal/store"
)

// Health checks are the gateway's records (CloudStack keeps a health check
// as a policy of one load balancer rule, not as a thing of its own): the
// global healthChecks of backend services, kept and shown, and the legacy
// httpHealthChecks of target pools, which become a CloudStack health check
// policy (pingpath, interval, timeout, thresholds) on each load balancer
// rule a forwarding rule makes for a pool that names one.

// HTTPHealthCheck is compute#httpHealthCheck (the legacy kind).
type HTTPHealthCheck struct {
	Kind               string `json:"kind"`
	ID                 uint64 `json:"id,string"`
	CreationTimestamp  string `json:"creationTimestamp,omitempty"`
	Name               string `json:"name"`
	Description        string `json:"description,omitempty"`
	Host               string `json:"host,omitempty"`
	RequestPath        string `json:"requestPath"`
	Port               int64  `json:"port"`
	CheckIntervalSec   int64  `json:"checkIntervalSec"`
	TimeoutSec         int64  `json:"timeoutSec"`
	UnhealthyThreshold int64  `json:"unhealthyThreshold"`
	HealthyThreshold   int64  `json:"healthyThreshold"`
	SelfLink           string `json:"selfLink"`
}

// HealthCheck is compute#healthCheck: the protocol's own settings are
// kept as the client sent them.
type HealthCheck struct {
	Kind               string          `json:"kind"`
	ID                 uint64          `json:"id,string"`
	CreationTimestamp  string          `json:"creationTimestamp,omitempty"`
	Name               string          `json:"name"`
	Description        string          `json:"description,omitempty"`
	Type               string          `json:"type"`
	CheckIntervalSec   int64           `json:"checkIntervalSec"`
	TimeoutSec         int64           `json:"timeoutSec"`
	UnhealthyThreshold int64           `json:"unhealthyThreshold"`
	HealthyThreshold   int64           `json:"healthyThreshold"`
	TCPHealthCheck     json.RawMessage `json:"tcpHealthCheck,omitempty"`
	SSLHealthCheck     json.RawMessage `json:"sslHealthCheck,omitempty"`
	HTTPHealthCheck    json.RawMessage `json:"httpHealthCheck,omitempty"`
	HTTPSHealthCheck   json.RawMessage `json:"httpsHealthCheck,omitempty"`
	HTTP2HealthCheck   json.RawMessage `json:"http2HealthCheck,omitempty"`
	GRPCHealthCheck    json.RawMessage `json:"grpcHealthCheck,omitempty"`
	LogConfig          json.RawMessage `json:"logConfig,omitempty"`
	SelfLink           string          `json:"selfLink"`
}

// healthCheckRecord is a stored health check of either kind: the wire
// form without its links.
type healthCheckRecord[T any] struct {
	Check   T      `json:"check"`
	Created string `json:"created"`
}

// healthCheckDefaults are GCE's: every 5 s, 5 s to answer, 2 in a row
// either way.
const (
	defaultCheckInterval = 5
	defaultCheckTimeout  = 5
	defaultThreshold     = 2
)

func (g *Gateway) httpHealthChecksOf(project string) store.Typed[healthCheckRecord[HTTPHealthCheck]] {
	return store.Typed[healthCheckRecord[HTTPHealthCheck]]{S: g.st, Prefix: "/gce/httphealthchecks/" + project + "/"}
}

func (g *Gateway) healthChecksOf(project string) store.Typed[healthCheckRecord[HealthCheck]] {
	return store.Typed[healthCheckRecord[HealthCheck]]{S: g.st, Prefix: "/gce/healthchecks/" + project + "/"}
}

func (c *call) httpHealthCheckPath(name string) string {
	return "projects/" + c.project + "/global/httpHealthChecks/" + name
}

func (c *call) healthCheckPath(name string) string {
	return "projects/" + c.project + "/global/healthChecks/" + name
}

// checkTiming validates and defaults the timing fields both kinds share.
func checkTiming(interval, timeout, unhealthy, healthy *int64) error {
	for _, f := range []struct {
		name string
		v    *int64
		def  int64
		max  int64
	}{{"checkIntervalSec", interval, defaultCheckInterval, 300}, {"timeoutSec", timeout, defaultCheckTimeout, 300},
		{"unhealthyThreshold", unhealthy, defaultThreshold, 10}, {"healthyThreshold", healthy, defaultThreshold, 10}} {
		if *f.v == 0 {
			*f.v = f.def
		}
		if *f.v < 1 || *f.v > f.max {
			return errInvalid("Invalid value for field 'resource.%s': '%d'. Must be greater than or equal to 1 and less than or equal to %d.", f.name, *f.v, f.max)
		}
	}
	if *timeout > *interval {
		return errInvalid("Invalid value for field 'resource.timeoutSec': '%d'. TimeoutSec should be less than checkIntervalSec.", *timeout)
	}
	return nil
}

func (c *call) renderHTTPHealthCheck(name string, rec *healthCheckRecord[HTTPHealthCheck]) *HTTPHealthCheck {
	h := rec.Check
	h.Kind, h.Name, h.CreationTimestamp = "compute#httpHealthCheck", name, rec.Created
	h.SelfLink = c.link("global", "httpHealthChecks", name)
	return &h
}

func (c *call) renderHealthCheck(name string, rec *healthCheckRecord[HealthCheck]) *HealthCheck {
	h := rec.Check
	h.Kind, h.Name, h.CreationTimestamp = "compute#healthCheck", name, rec.Created
	h.SelfLink = c.link("global", "healthChecks", name)
	return &h
}

// httpHealthCheckEntries are the project's legacy HTTP health checks.
func (c *call) httpHealthCheckEntries() ([]entry, error) {
	items, _, err := c.g.httpHealthChecksOf(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(items))
	for _, it := range items {
		h := c.renderHTTPHealthCheck(it.Name, it.Val)
		es = append(es, entry{scope: "global", name: it.Name, created: h.CreationTimestamp, v: h})
	}
	return es, nil
}

func (c *call) healthCheckEntries() ([]entry, error) {
	items, _, err := c.g.healthChecksOf(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	es := make([]entry, 0, len(items))
	for _, it := range items {
		h := c.renderHealthCheck(it.Name, it.Val)
		es = append(es, entry{scope: "global", name: it.Name, created: h.CreationTimestamp, v: h})
	}
	return es, nil
}

func (g *Gateway) listHTTPHealthChecks(c *call) (any, error) {
	es, err := c.httpHealthCheckEntries()
	if err != nil {
		return nil, err
	}
	return c.list("compute#httpHealthCheckList", c.link("global", "httpHealthChecks"), es)
}

func (g *Gateway) getHTTPHealthCheck(c *call) (any, error) {
	name := c.r.PathValue("name")
	rec, _, err := g.httpHealthChecksOf(c.project).Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.httpHealthCheckPath(name))
	} else if err != nil {
		return nil, err
	}
	return c.renderHTTPHealthCheck(name, rec), nil
}

func (g *Gateway) insertHTTPHealthCheck(c *call) (any, error) {
	var in HTTPHealthCheck
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	if in.Port == 0 {
		in.Port = 80
	}
	if in.Port < 1 || in.Port > 65535 {
		return nil, errInvalid("Invalid value for field 'resource.port': '%d'. Must be greater than or equal to 1 and less than or equal to 65535.", in.Port)
	}
	if in.RequestPath == "" {
		in.RequestPath = "/"
	}
	if in.RequestPath[0] != '/' {
		return nil, errInvalid("Invalid value for field 'resource.requestPath': '%s'. The request path must begin with '/'.", in.RequestPath)
	}
	if err := checkTiming(&in.CheckIntervalSec, &in.TimeoutSec, &in.UnhealthyThreshold, &in.HealthyThreshold); err != nil {
		return nil, err
	}
	in.ID = idOf("httpHealthCheck", c.tok.AccountID+"/"+in.Name+"/"+strconv.FormatInt(c.g.now().UnixNano(), 10))
	rec := &healthCheckRecord[HTTPHealthCheck]{Check: in, Created: gceTime(c.g.now())}
	rec.Check.Kind, rec.Check.SelfLink, rec.Check.CreationTimestamp = "", "", ""
	if _, err := g.httpHealthChecksOf(c.project).Create(c.ctx, in.Name, rec); errors.Is(err, store.ErrConflict) {
		return nil, errAlreadyExists(c.httpHealthCheckPath(in.Name))
	} else if err != nil {
		return nil, err
	}
	return c.startOp(opScope{}, "insert", "global/httpHealthChecks/"+in.Name, in.ID, nil, nil)
}

func (g *Gateway) deleteHTTPHealthCheck(c *call) (any, error) {
	name := c.r.PathValue("name")
	hcs := g.httpHealthChecksOf(c.project)
	rec, _, err := hcs.Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.httpHealthCheckPath(name))
	} else if err != nil {
		return nil, err
	}
	pools, _, err := g.poolsOf(c.project).List(c.ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pools {
		for _, h := range p.Val.HealthChecks {
			if h == name {
				region, pool := splitRegional(p.Name)
				return nil, errInUse(c.httpHealthCheckPath(name), c.poolPath(region, pool))
			}
		}
	}
	if err := hcs.Delete(c.ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return c.startOp(opScope{}, "delete", "global/httpHealthChecks/"+name, rec.Check.ID, nil, nil)
}

// healthCheckTypes are the protocols of a health check and the field
// that holds each one's settings.
var healthCheckTypes = map[string]func(h *HealthCheck) *json.RawMessage{
	"TCP":   func(h *HealthCheck) *json.RawMessage { return &h.TCPHealthCheck },
	"SSL":   func(h *HealthCheck) *json.RawMessage { return &h.SSLHealthCheck },
	"HTTP":  func(h *HealthCheck) *json.RawMessage { return &h.HTTPHealthCheck },
	"HTTPS": func(h *HealthCheck) *json.RawMessage { return &h.HTTPSHealthCheck },
	"HTTP2": func(h *HealthCheck) *json.RawMessage { return &h.HTTP2HealthCheck },
	"GRPC":  func(h *HealthCheck) *json.RawMessage { return &h.GRPCHealthCheck },
}

func (g *Gateway) listHealthChecks(c *call) (any, error) {
	es, err := c.healthCheckEntries()
	if err != nil {
		return nil, err
	}
	return c.list("compute#healthCheckList", c.link("global", "healthChecks"), es)
}

func (g *Gateway) aggregatedHealthChecks(c *call) (any, error) {
	es, err := c.healthCheckEntries()
	if err != nil {
		return nil, err
	}
	return c.aggregated("compute#healthChecksAggregatedList", "healthChecks", c.link("aggregated", "healthChecks"), es, c.regionScopes("global"))
}

func (g *Gateway) getHealthCheck(c *call) (any, error) {
	name := c.r.PathValue("name")
	rec, _, err := g.healthChecksOf(c.project).Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.healthCheckPath(name))
	} else if err != nil {
		return nil, err
	}
	return c.renderHealthCheck(name, rec), nil
}

func (g *Gateway) insertHealthCheck(c *call) (any, error) {
	var in HealthCheck
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	if !validName(in.Name) {
		return nil, errInvalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", in.Name)
	}
	field, ok := healthCheckTypes[in.Type]
	if !ok {
		return nil, errInvalid("Invalid value for field 'resource.type': '%s'. Must be one of [GRPC, HTTP, HTTP2, HTTPS, SSL, TCP].", in.Type)
	}
	for t, f := range healthCheckTypes {
		if t != in.Type && len(*f(&in)) > 0 && string(*f(&in)) != "null" {
			return nil, errInvalid("Invalid value for field 'resource.type': '%s'. The health check's settings are for another type.", in.Type)
		}
	}
	if p := field(&in); len(*p) == 0 || string(*p) == "null" {
		*p = json.RawMessage(`{"port":` + defaultPort(in.Type) + `}`)
	}
	if err := checkTiming(&in.CheckIntervalSec, &in.TimeoutSec, &in.UnhealthyThreshold, &in.HealthyThreshold); err != nil {
		return nil, err
	}
	in.ID = idOf("healthCheck", c.tok.AccountID+"/"+in.Name+"/"+strconv.FormatInt(c.g.now().UnixNano(), 10))
	rec := &healthCheckRecord[HealthCheck]{Check: in, Created: gceTime(c.g.now())}
	rec.Check.Kind, rec.Check.SelfLink, rec.Check.CreationTimestamp = "", "", ""
	if _, err := g.healthChecksOf(c.project).Create(c.ctx, in.Name, rec); errors.Is(err, store.ErrConflict) {
		return nil, errAlreadyExists(c.healthCheckPath(in.Name))
	} else if err != nil {
		return nil, err
	}
	return c.startOp(opScope{}, "insert", "global/healthChecks/"+in.Name, in.ID, nil, nil)
}

// defaultPort is GCE's port of a health check type left without one.
func defaultPort(typ string) string {
	switch typ {
	case "HTTPS", "SSL", "HTTP2":
		return "443"
	}
	return "80"
}

func (g *Gateway) deleteHealthCheck(c *call) (any, error) {
	name := c.r.PathValue("name")
	hcs := g.healthChecksOf(c.project)
	rec, _, err := hcs.Get(c.ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(c.healthCheckPath(name))
	} else if err != nil {
		return nil, err
	}
	if err := hcs.Delete(c.ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return c.startOp(opScope{}, "delete", "global/healthChecks/"+name, rec.Check.ID, nil, nil)
}

// errInUse is GCE's refusal to delete what another resource uses.
func errInUse(resource, user string) *apiError {
	return &apiError{Code: http.StatusBadRequest, Reason: "resourceInUseByAnotherResource",
		Message: "The resource '" + resource + "' is already being used by '" + user + "'"}
}

// regionScopes are the scopes of an aggregated list of regional
// resources: every region, and first any extra ones ("global").
func (c *call) regionScopes(extra ...string) []string {
	scopes := append([]string(nil), extra...)
	zs, _ := c.zones()
	seen := map[string]bool{}
	for _, z := range zs {
		if r := "regions/" + regionOf(z.name); !seen[r] {
			seen[r] = true
			scopes = append(scopes, r)
		}
	}
	return scopes
}

// backend services: CloudStack has no backend services (its load
// balancer rules list their VMs themselves), so the project has none;
// the lists answer, empty, so gcloud's lists do not warn.

func (g *Gateway) listBackendServices(c *call) (any, error) {
	return c.list("compute#backendServiceList", c.link("global", "backendServices"), nil)
}

func (g *Gateway) aggregatedBackendServices(c *call) (any, error) {
	return c.aggregated("compute#backendServiceAggregatedList", "backendServices", c.link("aggregated", "backendServices"), nil, c.regionScopes("global"))
}

func (g *Gateway) getBackendService(c *call) (any, error) {
	return nil, errNotFound("projects/" + c.project + "/global/backendServices/" + c.r.PathValue("name"))
}
