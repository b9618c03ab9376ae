package marathon

import (
	"net/http"
	"time"
)

// metricsVersion is the version of Dropwizard's JSON metrics format that
// Marathon 1.7 and later write at GET /metrics.
const metricsVersion = "4.0.0"

// gauge is Dropwizard's JSON shape of a gauge.
type gauge struct {
	Value any `json:"value"`
}

// MetricsJSON serves Marathon's GET /metrics (behind the credentials): the
// Dropwizard JSON that Marathon's clients read (python3-marathon's
// get_metrics), with the gauges Marathon 1.11 keeps of its apps, groups,
// instances and deployments. The HTTP front hands it the requests that
// ask for JSON; Prometheus scrapers keep stratus's own /metrics.
func (s *Server) MetricsJSON() http.Handler {
	return s.authenticate(http.HandlerFunc(s.metricsJSON))
}

func (s *Server) metricsJSON(w http.ResponseWriter, r *http.Request) {
	apps := s.apps()
	groups := map[string]bool{"/": true}
	var running, staged int
	for _, a := range apps {
		for g := parentID(a.ID); g != "/" && !groups[g]; g = parentID(g) {
			groups[g] = true
		}
		c := s.tasks.countsOf(appLabel(a.ID))
		running += c.running
		staged += c.staged
	}
	s.mu.Lock()
	deployments := len(s.active)
	s.mu.Unlock()
	up := time.Since(s.start).Seconds()
	writeJSON(w, http.StatusOK, map[string]any{
		"version": metricsVersion,
		"gauges": map[string]gauge{
			"marathon.apps.active.gauge":                 {len(apps)},
			"marathon.groups.active.gauge":               {len(groups)},
			"marathon.instances.running.gauge":           {running},
			"marathon.instances.staged.gauge":            {staged},
			"marathon.deployments.active.gauge":          {deployments},
			"marathon.uptime.gauge.seconds":              {up},
			"marathon.leadership.duration.gauge.seconds": {up},
		},
		"counters":   map[string]any{},
		"histograms": map[string]any{},
		"meters":     map[string]any{},
		"timers":     map[string]any{},
	})
}
