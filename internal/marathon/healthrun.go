package marathon

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// An app may have several health checks; Marathon counts a task healthy
// when every check passes. A container has one readiness and one
// liveness probe, so the node agent probes one check (probedCheck: the
// first COMMAND check, which must run in the task's sandbox, else the
// first) and the server runs the app's other HTTP, HTTPS and TCP checks
// itself against the task's address, as Marathon ran its own (non-MESOS)
// checks: every intervalSeconds, timeoutSeconds each, failures ignored
// within gracePeriodSeconds until the first success, the task killed
// (its pod deleted, so the replica set launches another) after
// maxConsecutiveFailures in a row (never for 0). Tasks on simulated
// nodes, where nothing listens, pass without being checked, as the
// agent's probes do. A further COMMAND check is not run (no result).

// nodeRuntimeLabel names a node's container runtime (set by the agent).
const nodeRuntimeLabel = "node.stratus.io/runtime"

// probedCheck is the index of the health check the pods' probes run: the
// first COMMAND check, else the first whose port is the same in every
// task (a probe is part of the pod template; a port each task gets on its
// node is not), else none (-1).
func probedCheck(a *App) int {
	for i, h := range a.HealthChecks {
		if h.Protocol == "COMMAND" {
			return i
		}
	}
	host, _ := a.hostPorts()
	for i, h := range a.HealthChecks {
		switch {
		case h.Port != nil, h.PortIndex == nil, *h.PortIndex >= len(host):
			return i
		case a.usesPortMappings() && a.Container.PortMappings[*h.PortIndex].ContainerPort != 0:
			return i
		case host[*h.PortIndex] != 0:
			return i
		}
	}
	return -1
}

// serverRuns reports whether the server runs some check of a.
func serverRuns(a *App) bool {
	for i := range a.HealthChecks {
		if serverChecked(a, i) {
			return true
		}
	}
	return false
}

// serverChecked reports whether the server runs check i of a.
func serverChecked(a *App, i int) bool {
	return i != probedCheck(a) && a.HealthChecks[i].Protocol != "COMMAND"
}

// checkResult is one server-run check's state for one task.
type checkResult struct {
	known        bool // a result exists (Marathon shows none before)
	alive        bool
	failures     int
	firstSuccess time.Time
	lastSuccess  time.Time
	lastFailure  time.Time
	cause        string
	next         time.Time
	running      bool
}

// taskChecks are the server-run checks of one task.
type taskChecks struct {
	version string // the app config version they are for
	checks  []checkResult
}

// checkRunner holds the server-run checks' results, by pod.
type checkRunner struct {
	mu    sync.Mutex
	tasks map[types.UID]*taskChecks
	sem   chan struct{} // bounds the checks running at once
}

func (r *checkRunner) forget(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.tasks, uid)
}

// result is check i of a task as Marathon shows it, if it has one.
func (r *checkRunner) result(uid types.UID, i int) (checkResult, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tc := r.tasks[uid]
	if tc == nil || i >= len(tc.checks) || !tc.checks[i].known {
		return checkResult{}, false
	}
	return tc.checks[i], true
}

// runChecks starts the server-run checks that are due, every 100 ms.
func (s *Server) runChecks(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			s.dueChecks(ctx, now)
		}
	}
}

func (s *Server) dueChecks(ctx context.Context, now time.Time) {
	for _, o := range s.deps.GetStore().List() {
		d := o.(*appsv1.Deployment)
		if d.DeletionTimestamp != nil || !multiCheck(d) {
			continue
		}
		a := s.appOf(d)
		if a == nil || !serverRuns(a) {
			continue
		}
		for _, p := range s.appPods(a.ID) {
			if taskState(p) != TaskRunning {
				continue
			}
			for i := range a.HealthChecks {
				if serverChecked(a, i) && s.checks.due(p, a, i, now) {
					s.wg.Add(1)
					go func() {
						defer s.wg.Done()
						s.check(ctx, a, p, i)
					}()
				}
			}
		}
	}
}

// multiCheck says cheaply (without decoding the app) whether a
// Deployment's app may have several health checks: its pods then have
// the annotation saying so.
func multiCheck(d *appsv1.Deployment) bool {
	return d.Spec.Template.Annotations[annotationChecks] != ""
}

// annotationChecks, on the pod template, counts the app's health checks
// when it has more than one.
const annotationChecks = "marathon.stratus.io/health-checks"

// due reports whether check i of the task is to run now, and marks it
// running.
func (r *checkRunner) due(p *corev1.Pod, a *App, i int, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	tc := r.tasks[p.UID]
	if tc == nil || tc.version != a.configVersion() || len(tc.checks) != len(a.HealthChecks) {
		tc = &taskChecks{version: a.configVersion(), checks: make([]checkResult, len(a.HealthChecks))}
		r.tasks[p.UID] = tc
	}
	c := &tc.checks[i]
	if c.running || now.Before(c.next) {
		return false
	}
	c.running = true
	return true
}

// check runs check i of a task once and records the result.
func (s *Server) check(ctx context.Context, a *App, p *corev1.Pod, i int) {
	h := a.HealthChecks[i]
	s.checks.sem <- struct{}{}
	ok, cause := s.probeTask(ctx, a, p, h)
	<-s.checks.sem
	now := time.Now()
	kill := false
	s.checks.mu.Lock()
	tc := s.checks.tasks[p.UID]
	if tc == nil || i >= len(tc.checks) {
		s.checks.mu.Unlock()
		return
	}
	c := &tc.checks[i]
	c.running = false
	c.next = now.Add(time.Duration(max(h.IntervalSeconds, 1)) * time.Second)
	was, wasKnown := c.alive, c.known
	started := p.CreationTimestamp.Time
	if p.Status.StartTime != nil {
		started = p.Status.StartTime.Time
	}
	inGrace := c.firstSuccess.IsZero() && now.Before(started.Add(time.Duration(h.GracePeriodSeconds)*time.Second))
	switch {
	case ok:
		c.known, c.alive, c.failures, c.lastSuccess = true, true, 0, now
		if c.firstSuccess.IsZero() {
			c.firstSuccess = now
		}
	case inGrace:
		// Failures within the grace period count for nothing.
	default:
		c.known, c.alive = true, false
		c.failures++
		c.lastFailure, c.cause = now, cause
		if n := h.MaxConsecutiveFailures; n != nil && *n > 0 && c.failures >= *n {
			kill = true
		}
	}
	changed := c.known && (!wasKnown || was != c.alive)
	s.checks.mu.Unlock()
	if changed {
		s.poke() // deployments wait for healthy tasks
	}
	if kill {
		s.log.Info("marathon: killing unhealthy task", "app", a.ID, "pod", p.Name, "cause", cause)
		uid := p.UID
		err := s.kc.CoreV1().Pods(Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && ctx.Err() == nil {
			s.log.Warn("marathon: kill unhealthy task", "pod", p.Name, "err", err)
		}
	}
}

// probeTask runs one HTTP(S) or TCP check against a task's address, with
// the kubelet's texts for failures.
func (s *Server) probeTask(ctx context.Context, a *App, p *corev1.Pod, h HealthCheck) (bool, string) {
	if n, ok, _ := s.nodes.GetStore().GetByKey(p.Spec.NodeName); ok && n.(*corev1.Node).Labels[nodeRuntimeLabel] == "sim" {
		return true, "" // nothing listens on a simulated node
	}
	ip := p.Status.PodIP
	if ip == "" {
		return false, "the task has no address"
	}
	pr := probe(a, h, taskPorts(p))
	timeout := time.Duration(max(h.TimeoutSeconds, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dialer := &net.Dialer{Timeout: timeout}
	switch {
	case pr.TCPSocket != nil:
		addr := net.JoinHostPort(ip, strconv.Itoa(pr.TCPSocket.Port.IntValue()))
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			return false, err.Error()
		}
		_ = conn.Close()
		return true, ""
	case pr.HTTPGet != nil:
		g := pr.HTTPGet
		u := fmt.Sprintf("%s://%s%s", map[bool]string{true: "https", false: "http"}[g.Scheme == corev1.URISchemeHTTPS],
			net.JoinHostPort(ip, strconv.Itoa(g.Port.IntValue())), g.Path)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, err.Error()
		}
		cl := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // as Marathon's checks, no verification
		res, err := cl.Do(req)
		if err != nil {
			return false, err.Error()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 10<<10))
		_ = res.Body.Close()
		if res.StatusCode >= 200 && res.StatusCode < 400 || h.IgnoreHTTP1xx && res.StatusCode < 200 {
			return true, ""
		}
		return false, fmt.Sprintf("HTTP probe failed with statuscode: %d", res.StatusCode)
	}
	return false, "unsupported health check"
}

// checksPass says whether every check the server runs has found a task
// alive (a deployment waits for that, as for the probed check's
// readiness).
func (s *Server) checksPass(a *App, p *corev1.Pod) bool {
	for i := range a.HealthChecks {
		if !serverChecked(a, i) {
			continue
		}
		if c, ok := s.checks.result(p.UID, i); !ok || !c.alive {
			return false
		}
	}
	return true
}
