package marathon

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stratus-cloud/stratus/internal/kube/restartgate"
)

// The launch back-off, as Marathon's rate limiter keeps it: one delay
// per app and config version. A task that fails makes it backoffSeconds,
// and each failure after multiplies it by backoffFactor up to
// maxLaunchDelaySeconds; a failed task (TASK_FAILED, or TASK_FINISHED for
// an exit 0, which launches again at once and does not count) is replaced
// by a new task, with an id of its own, once the delay set at its failure
// has passed: its pod is deleted and the replica set creates another.
// Until then the pod stays, its container held by the restart gate
// annotation (internal/kube/restartgate, honoured by the node agent
// instead of the kubelet's back-off), and the app is in the queue. A
// delay is forgotten by the first cleanup (every 10 s) after
// maxLaunchDelaySeconds have gone by since it was last set, by a config
// change (a new version), or by DELETE /v2/queue/{app}/delay.

// launchDelay is an app's launch delay.
type launchDelay struct {
	version string        // the config version it is for
	current time.Duration // the delay now
	max     time.Duration
	ref     time.Time // when it was last set
}

func (d *launchDelay) deadline() time.Time { return d.ref.Add(d.current) }

// delays holds the apps' launch delays and the failures already counted.
type delays struct {
	mu sync.Mutex
	m  map[string]*launchDelay // by app id
	// counted holds, by pod, 1 + the restarts of the last failure that
	// made the delay grow, so that a failure counts once.
	counted map[types.UID]int32
	// relaunch holds, by failed pod, when its task is launched again.
	relaunch map[types.UID]time.Time
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// currentLocked is a's delay at now, or nil (d.mu held).
func (d *delays) currentLocked(a *App, now time.Time) *launchDelay {
	ld := d.m[a.ID]
	if ld == nil {
		return nil
	}
	if ld.version != a.configVersion() {
		delete(d.m, a.ID)
		return nil
	}
	return ld
}

// delayOf is a's delay at now, if it has one.
func (d *delays) delayOf(a *App, now time.Time) (launchDelay, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ld := d.currentLocked(a, now); ld != nil {
		return *ld, true
	}
	return launchDelay{}, false
}

// add makes a's delay grow for one failure at now and returns when the
// next launch may be.
func (d *delays) add(a *App, now time.Time) time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	maxDelay := seconds(a.MaxLaunchDelaySeconds)
	ld := d.currentLocked(a, now)
	if ld == nil {
		ld = &launchDelay{version: a.configVersion(), current: min(seconds(a.BackoffSeconds), maxDelay), max: maxDelay}
		d.m[a.ID] = ld
	} else {
		ld.current = min(maxDelay, time.Duration(float64(ld.current)*a.BackoffFactor))
		ld.max = maxDelay
	}
	ld.ref = now
	return ld.deadline()
}

// cleanupEvery is how often delays older than their maximum are
// forgotten, as Marathon's rate limiter actor does.
const cleanupEvery = 10 * time.Second

// cleanup forgets the delays set more than their maximum ago: the next
// failure of such an app starts again from backoffSeconds.
func (d *delays) cleanup(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, ld := range d.m {
		if now.After(ld.ref.Add(ld.max)) {
			delete(d.m, id)
		}
	}
}

// reset forgets an app's delay.
func (d *delays) reset(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.m, id)
}

// count reports whether the failure of pod uid after restarts restarts
// is new, and remembers it.
func (d *delays) count(uid types.UID, restarts int32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.counted[uid] > restarts {
		return false
	}
	d.counted[uid] = restarts + 1
	return true
}

func (d *delays) forgetPod(uid types.UID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.counted, uid)
	delete(d.relaunch, uid)
}

// relaunchAt sets when failed pod uid is launched again.
func (d *delays) relaunchAt(uid types.UID, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.relaunch[uid] = at
}

// relaunchTime is when failed pod uid is launched again.
func (d *delays) relaunchTime(uid types.UID) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	at, ok := d.relaunch[uid]
	return at, ok
}

// taskContainer is the container of a task's pod.
func taskContainer(p *corev1.Pod) *corev1.ContainerStatus {
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == "task" {
			return &p.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// crashed reports whether a running pod's task has exited and waits to
// be launched again, and after how many restarts.
func crashed(p *corev1.Pod) (int32, bool) {
	c := taskContainer(p)
	if c == nil || c.State.Running != nil {
		return 0, false
	}
	if c.State.Terminated != nil || c.State.Waiting != nil && c.State.Waiting.Reason == "CrashLoopBackOff" {
		return c.RestartCount, true
	}
	return 0, false
}

// exitCode is the exit code of a crashed task's last run.
func exitCode(p *corev1.Pod) int32 {
	c := taskContainer(p)
	if c == nil {
		return 0
	}
	if c.State.Terminated != nil {
		return c.State.Terminated.ExitCode
	}
	if c.LastTerminationState.Terminated != nil {
		return c.LastTerminationState.Terminated.ExitCode
	}
	return 0
}

// failed counts a task's failure into its app's delay (an exit 0, a
// finished task, launches again at once, without counting) and queues
// its relaunch for when the delay has passed: then its pod is deleted and
// the replica set creates another, a new task with an id of its own, as
// Marathon launches a new task for a failed one. The pod's restart gate
// holds its container meanwhile (from the pod informer's handler).
func (s *Server) failed(p *corev1.Pod, restarts int32) {
	if _, gated := p.Annotations[restartgate.Annotation]; !gated || p.DeletionTimestamp != nil {
		return
	}
	if !s.delays.count(p.UID, restarts) {
		return
	}
	id := p.Annotations[annotationID]
	a := s.app(id)
	if a == nil {
		return
	}
	now := time.Now()
	at := now
	if exitCode(p) != 0 {
		at = s.delays.add(a, now)
	}
	s.delays.relaunchAt(p.UID, at)
	s.log.Debug("marathon: task failed, launch delayed", "app", id, "pod", p.Name, "until", at)
	s.relaunchQ.AddAfter(p.Name, time.Until(at))
}

// relaunchWorker deletes the failed tasks' pods whose delay has passed,
// until the queue shuts down.
func (s *Server) relaunchWorker(ctx context.Context) {
	for {
		name, quit := s.relaunchQ.Get()
		if quit {
			return
		}
		if err := s.relaunch(ctx, name); err != nil && ctx.Err() == nil {
			s.log.Warn("marathon: relaunch failed task", "pod", name, "err", err)
			s.relaunchQ.AddAfter(name, time.Second)
		}
		s.relaunchQ.Done(name)
	}
}

// relaunch deletes a failed task's pod once its delay has passed.
func (s *Server) relaunch(ctx context.Context, name string) error {
	o, ok, err := s.pods.GetStore().GetByKey(Namespace + "/" + name)
	if err != nil || !ok {
		return err
	}
	p := o.(*corev1.Pod)
	if _, ok := crashed(p); !ok || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return nil
	}
	at, ok := s.delays.relaunchTime(p.UID)
	if !ok {
		return nil // not counted by this server yet: its informer event will
	}
	if wait := time.Until(at); wait > 0 {
		s.relaunchQ.AddAfter(name, wait)
		return nil
	}
	uid := p.UID
	grace := int64(0) // nothing runs in it any more
	err = s.kc.CoreV1().Pods(Namespace).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace,
		Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// delayView is a queue item's delay.
func (s *Server) delayView(a *App, now time.Time) map[string]any {
	ld, ok := s.delays.delayOf(a, now)
	if !ok {
		return map[string]any{"timeLeftSeconds": 0, "overdue": true}
	}
	left := ld.deadline().Sub(now)
	return map[string]any{"timeLeftSeconds": int64(max(left, 0) / time.Second), "overdue": left < 0}
}

// resetDelay is DELETE /v2/queue/{app}/delay: the app's delay goes and
// its failed tasks are launched at once (204); an app with nothing to
// launch is not in the queue (404).
func (s *Server) resetDelay(w http.ResponseWriter, r *http.Request) error {
	rest := r.PathValue("rest")
	raw, ok := strings.CutSuffix(rest, "/delay")
	if !ok {
		return errNotFound("The requested resource could not be found but may be available again in the future.")
	}
	id, ok := canonicalID(raw, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	var a *App
	if ok {
		a = s.app(id)
	}
	if a == nil || s.waiting(a) == 0 {
		if !ok {
			id = "/" + strings.Trim(raw, "/")
		}
		return errNotFound("Application " + id + " not found in tasks queue.")
	}
	s.delays.reset(a.ID)
	now := time.Now()
	for _, p := range s.podsOf(a.ID) {
		if _, ok := crashed(p); ok && p.DeletionTimestamp == nil {
			s.delays.relaunchAt(p.UID, now)
			s.relaunchQ.Add(p.Name)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// waiting counts an app's tasks waiting to be launched: pods no node has
// taken yet, and failed tasks waiting for their launch delay (s.mu held).
func (s *Server) waiting(a *App) int {
	n := 0
	for _, p := range s.appPods(a.ID) {
		if p.DeletionTimestamp != nil {
			continue
		}
		if p.Spec.NodeName == "" && p.Status.Phase == corev1.PodPending {
			n++
		} else if _, ok := crashed(p); ok && p.Status.Phase == corev1.PodRunning {
			n++
		}
	}
	return n
}
