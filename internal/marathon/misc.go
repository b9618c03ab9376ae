package marathon

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

// Version is the Marathon version stratus answers as: the last release,
// whose API the clients know.
const Version = "1.11.24"

// listDeployments is GET /v2/deployments.
func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := make([]*deployment, 0, len(s.active))
	for _, d := range s.active {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].started.Before(ds[j].started) })
	out := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.view())
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteDeployment is DELETE /v2/deployments/{id}: with force the
// deployment is dropped (202) and the apps stay as they are; without, a
// new deployment takes its apps back to the versions they had before.
func (s *Server) deleteDeployment(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.active[id]
	if d == nil {
		return errNotFound("DeploymentPlan " + id + " does not exist")
	}
	if boolParam(r.URL.Query(), "force") {
		delete(s.active, id)
		s.unpersist(r.Context(), d)
		s.mDeployments.Set(float64(len(s.active)))
		s.events.publish("deployment_failed", map[string]any{"id": d.ID, "plan": s.plan(d)})
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	var changes []change
	for _, appID := range d.affected() {
		cur := s.app(appID)
		vs, byVersion, err := s.versions(r.Context(), appID)
		if err != nil {
			return err
		}
		var prev *App
		for _, v := range vs {
			if v < d.Version {
				a := newApp()
				if err := json.Unmarshal([]byte(byVersion[v]), &a); err == nil {
					prev = &a
				}
				break
			}
		}
		switch {
		case cur != nil && prev == nil:
			changes = append(changes, change{old: cur})
		case prev != nil:
			changes = append(changes, change{old: cur, new: prev})
		}
	}
	nd, err := s.deploy(r, changes, true)
	if err != nil {
		return err
	}
	w.Header().Set("Marathon-Deployment-Id", nd.ID)
	writeJSON(w, http.StatusOK, map[string]string{"deploymentId": nd.ID, "version": nd.Version})
	return nil
}

// queue is GET /v2/queue: apps with tasks waiting for a node or for
// their launch delay (delay.go).
func (s *Server) queue(w http.ResponseWriter, r *http.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	now := time.Now()
	for _, a := range s.apps() {
		waiting := s.waiting(a)
		if waiting == 0 {
			continue
		}
		out = append(out, map[string]any{"app": s.view(a, false), "count": waiting,
			"delay": s.delayView(a, now),
			"since": a.Version, "processedOffersSummary": map[string]any{"processedOffersCount": 0, "unusedOffersCount": 0}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"queue": out})
	return nil
}

// hostPort is the host:port of the server's URL.
func (s *Server) hostPort() string {
	u, err := url.Parse(s.o.URL())
	if err != nil || u.Host == "" {
		return "127.0.0.1:8080"
	}
	return u.Host
}

// info is GET /v2/info.
func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	hp := s.hostPort()
	writeJSON(w, http.StatusOK, map[string]any{
		"name": "marathon", "version": Version, "buildref": "stratus", "elected": true, "leader": hp,
		"frameworkId": s.frameworkID,
		"marathon_config": map[string]any{
			"master": "http://" + hp, "framework_name": "marathon", "hostname": hp, "local_port_min": PortRangeMin,
			"local_port_max": PortRangeMax, "task_launch_timeout": 300000, "task_reservation_timeout": 20000,
			"checkpoint": true, "executor": "//cmd", "failover_timeout": 604800, "ha": false, "mesos_role": nil,
			"mesos_user": "root", "reconciliation_initial_delay": 15000, "reconciliation_interval": 600000,
			"leader_proxy_connection_timeout_ms": 5000, "leader_proxy_read_timeout_ms": 10000, "features": []string{},
		},
		"zookeeper_config": map[string]any{"zk": "zk://stratus/marathon", "zk_timeout": 10000, "zk_session_timeout": 10000, "zk_max_versions": maxVersions},
		"event_subscriber": map[string]any{"type": "http_callback", "http_endpoints": []string{}},
		"http_config":      map[string]any{"http_port": portOf(hp), "https_port": 8443},
	})
	return nil
}

func portOf(hostPort string) int {
	u := url.URL{Host: hostPort}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		return p
	}
	return 8080
}

// leader is GET /v2/leader.
func (s *Server) leader(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"leader": s.hostPort()})
	return nil
}
