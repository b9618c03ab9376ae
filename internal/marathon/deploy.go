package marathon

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Deployment actions, as Marathon names them.
const (
	actionStart   = "StartApplication"
	actionScale   = "ScaleApplication"
	actionRestart = "RestartApplication"
	actionStop    = "StopApplication"
)

// deployment is a Marathon deployment: steps of actions on apps, each
// step applied once the one before has finished.
type deployment struct {
	ID      string
	Version string
	Steps   []step
	Current int // index of the step in progress
	started time.Time
	stored  bool // its ConfigMap exists (persist.go)
}

// step is one step of a deployment: its actions and the changes that
// make them.
type step struct {
	Actions []action `json:"actions"`
	changes []change
}

type action struct {
	Action string `json:"action"`
	App    string `json:"app"`
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// affected lists the apps a deployment changes.
func (d *deployment) affected() []string {
	var ids []string
	seen := map[string]bool{}
	for _, st := range d.Steps {
		for _, a := range st.Actions {
			if !seen[a.App] {
				seen[a.App] = true
				ids = append(ids, a.App)
			}
		}
	}
	return ids
}

// view is the deployment as /v2/deployments lists it.
func (d *deployment) view() map[string]any {
	steps := make([]map[string]any, 0, len(d.Steps))
	for _, st := range d.Steps {
		steps = append(steps, map[string]any{"actions": st.Actions})
	}
	var current []map[string]any
	if d.Current < len(d.Steps) {
		for _, a := range d.Steps[d.Current].Actions {
			current = append(current, map[string]any{"action": a.Action, "app": a.App, "readinessCheckResults": []any{}})
		}
	}
	if current == nil {
		current = []map[string]any{}
	}
	return map[string]any{"id": d.ID, "version": d.Version, "affectedApps": d.affected(), "affectedPods": []string{},
		"steps": steps, "currentActions": current, "currentStep": d.Current + 1, "totalSteps": len(d.Steps)}
}

// lockedBy returns the ids of active deployments that change any of ids
// (s.mu held).
func (s *Server) lockedBy(ids ...string) []string {
	var out []string
	for _, d := range s.active {
		for _, a := range d.affected() {
			for _, id := range ids {
				if a == id {
					out = append(out, d.ID)
				}
			}
		}
	}
	return out
}

// checkLock answers 409 when an active deployment changes one of ids,
// unless force, which cancels those deployments (s.mu held).
func (s *Server) checkLock(ctx context.Context, force bool, ids ...string) error {
	locked := s.lockedBy(ids...)
	if len(locked) == 0 {
		return nil
	}
	if !force {
		return errLocked(locked...)
	}
	for _, id := range locked {
		if d := s.active[id]; d != nil {
			delete(s.active, id)
			s.unpersist(ctx, d)
			s.events.publish("deployment_failed", map[string]any{"id": d.ID, "plan": s.plan(d)})
		}
	}
	s.mDeployments.Set(float64(len(s.active)))
	return nil
}

// begin registers a deployment whose first step has been applied (s.mu
// held) and announces it.
func (s *Server) begin(d *deployment) {
	s.active[d.ID] = d
	s.mDeployments.Set(float64(len(s.active)))
	s.events.publish("deployment_info", map[string]any{"plan": s.plan(d), "currentStep": d.Steps[d.Current]})
	s.poke()
}

// plan is a deployment's plan as the deployment events carry it.
func (s *Server) plan(d *deployment) map[string]any {
	return map[string]any{"id": d.ID, "version": d.Version, "steps": d.view()["steps"]}
}

// track finishes deployments whose current step is done and applies the
// next steps, on every change of the Deployments and pods (and on a tick
// while any is active); it also forgets old launch delays (delay.go).
func (s *Server) track(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	cleanup := time.NewTicker(cleanupEvery)
	defer cleanup.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-tick.C:
		case now := <-cleanup.C:
			s.delays.cleanup(now)
			continue
		}
		s.progress(ctx)
		// At most one check per 20 ms: a rollout of thousands of pods
		// sends as many events, and each check reads every pod.
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Server) progress(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, d := range s.active {
		failed := false
		for d.Current < len(d.Steps) && s.stepDone(d.Steps[d.Current]) {
			s.events.publish("deployment_step_success", map[string]any{"plan": s.plan(d), "currentStep": d.Steps[d.Current]})
			d.Current++
			if d.Current == len(d.Steps) {
				break
			}
			// Applied, then recorded: a restart in between applies the
			// step again, which changes nothing the second time.
			err := s.applyStep(ctx, d.Steps[d.Current])
			if err == nil {
				err = s.persist(ctx, d)
			}
			if err != nil {
				s.log.Warn("marathon: deployment step failed", "deployment", d.ID, "err", err)
				delete(s.active, id)
				s.unpersist(ctx, d)
				s.events.publish("deployment_failed", map[string]any{"id": d.ID, "plan": s.plan(d)})
				failed = true
				break
			}
			s.events.publish("deployment_info", map[string]any{"plan": s.plan(d), "currentStep": d.Steps[d.Current]})
		}
		if !failed && d.Current >= len(d.Steps) {
			delete(s.active, id)
			s.unpersist(ctx, d)
			s.log.Debug("marathon: deployment finished", "deployment", d.ID, "took", time.Since(d.started))
			s.events.publish("deployment_success", map[string]any{"id": d.ID, "plan": s.plan(d)})
		}
	}
	s.mDeployments.Set(float64(len(s.active)))
}

// stepDone reports whether every action of a step has reached its end.
func (s *Server) stepDone(st step) bool {
	for _, a := range st.Actions {
		if !s.actionDone(a) {
			return false
		}
	}
	return true
}

// actionDone: a stopped app has neither Deployment nor pods left; any
// other has rolled out its template to exactly its instances, all ready,
// with no other pods left.
func (s *Server) actionDone(a action) bool {
	obj, exists, _ := s.deps.GetStore().GetByKey(Namespace + "/" + kubeName(a.App))
	if a.Action == actionStop {
		if exists {
			return false
		}
		pods, _ := s.pods.GetIndexer().IndexKeys(LabelApp, appLabel(a.App))
		return len(pods) == 0
	}
	if !exists {
		return false
	}
	d := obj.(*appsv1.Deployment)
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	if st.ObservedGeneration < d.Generation || st.UpdatedReplicas != want || st.Replicas != want || st.ReadyReplicas != want {
		return false
	}
	// Only now the pods: listing 10,000 at every look while the replicas
	// are not all ready yet was most of the server's work in a scale.
	pods, _ := s.pods.GetIndexer().ByIndex(LabelApp, appLabel(a.App))
	version := d.Spec.Template.Annotations[annotationVersion]
	var app *App // with checks the server runs, which must pass too
	if multiCheck(d) {
		app = s.appOf(d)
	}
	n := int32(0)
	for _, o := range pods {
		p := o.(*corev1.Pod)
		if p.Annotations[annotationVersion] != version || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			return false
		}
		if p.DeletionTimestamp != nil || taskState(p) != TaskRunning {
			return false
		}
		if app != nil && !s.checksPass(app, p) {
			return false
		}
		n++
	}
	return n == want
}

// deploymentsOf lists the ids of the active deployments changing an app
// (s.mu held).
func (s *Server) deploymentsOf(id string) []map[string]string {
	out := []map[string]string{}
	for _, d := range s.lockedBy(id) {
		out = append(out, map[string]string{"id": d})
	}
	return out
}
