package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/restartgate"
	"github.com/stratus-cloud/stratus/internal/runtime"
)

func typesUID(s string) types.UID { return types.UID(s) }

// waitingReasoner is implemented by runtime start errors that carry the
// kubelet's waiting reason (ErrImagePull, InvalidImageName, …).
type waitingReasoner interface{ WaitingReason() string }

// syncPod moves one pod toward its spec and reports its status. It returns
// how long until it wants to look again (0: only on change).
func (e *engine) syncPod(ctx context.Context, key string) (time.Duration, error) {
	ns, name := splitKey(key)
	pod, err := e.podLister.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		pod = nil
	} else if err != nil {
		return 0, err
	}
	e.mu.Lock()
	ps := e.pods[key]
	e.mu.Unlock()
	var n *node
	if pod != nil {
		n = e.node(pod.Spec.NodeName)
	}
	// gone, moved elsewhere, or replaced by a pod of the same name
	if ps != nil && (pod == nil || n == nil || ps.uid != pod.UID) {
		e.forget(ctx, key, ps)
		ps = nil
	}
	if pod == nil || n == nil {
		return 0, nil
	}
	if ps == nil {
		ps = &podState{key: key, uid: pod.UID, node: n}
		if pod.Status.StartTime != nil {
			ps.startTime = pod.Status.StartTime.Time
		}
		for _, cs := range pod.Status.ContainerStatuses {
			ps.ctrs.set(cs.Name, &ctrState{restarts: cs.RestartCount})
		}
		e.mu.Lock()
		e.pods[key] = ps
		e.mu.Unlock()
	}

	ps.mu.Lock()
	defer ps.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		return e.terminate(ctx, pod, ps)
	}
	terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if terminal {
		e.stopIDs(ctx, pod, ps, ps.runningIDs(), 0, false)
		return 0, nil
	}
	if ps.startTime.IsZero() {
		ps.startTime = e.clock.Now()
		ps.changes++
	}
	var requeue time.Duration
	if ps.ip == "" {
		if pod.Spec.HostNetwork {
			ps.ip = e.cfg.internalIP
		} else if ip, ok := n.podIP(pod.Status.PodIP); ok {
			ps.ip = ip
		}
		ps.changes++
	}
	if ps.ip != "" {
		for i := range pod.Spec.Containers {
			if d := e.syncContainer(ctx, pod, ps, &pod.Spec.Containers[i]); d > 0 && (requeue == 0 || d < requeue) {
				requeue = d
			}
		}
		for i := range pod.Spec.EphemeralContainers {
			c := corev1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
			e.syncEphemeral(ctx, pod, ps, &c)
		}
	}
	return requeue, e.writeStatus(ctx, pod, ps)
}

func splitKey(key string) (string, string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}

// syncContainer starts or restarts one container as its restart policy
// says; it returns when to look again for a pending back-off.
func (e *engine) syncContainer(ctx context.Context, pod *corev1.Pod, ps *podState, c *corev1.Container) time.Duration {
	cs := ps.ctrs.get(c.Name)
	if cs == nil {
		cs = &ctrState{}
		ps.ctrs.set(c.Name, cs)
	}
	if cs.id != "" {
		if st, err := e.rt.Status(ctx, cs.id); err == nil && st != cs.status {
			cs.status = st
			ps.changes++
		}
		if cs.status.State == runtime.StateRunning {
			return e.runProbes(ctx, pod, ps, c, cs)
		}
		if cs.status.State != runtime.StateExited {
			return 0
		}
		restart := pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == "" ||
			(pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && cs.status.ExitCode != 0)
		if !restart {
			return 0
		}
		now := e.clock.Now()
		if gate, gated := pod.Annotations[restartgate.Annotation]; gated {
			// The gate's writer decides when (the Marathon API's
			// launch back-off).
			cs.exitHandled = true
			wait, held := restartgate.Wait(gate, cs.restarts, now)
			if held {
				msg := fmt.Sprintf("back-off restarting failed container=%s pod=%s_%s(%s)", c.Name, pod.Name, pod.Namespace, pod.UID)
				if wait > 0 {
					msg = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", wait.Round(time.Second), c.Name, pod.Name, pod.Namespace, pod.UID)
				}
				if cs.waitReason != "CrashLoopBackOff" {
					ps.node.recorder.Eventf(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", c.Name, pod.Name, pod.Namespace, pod.UID)
				}
				if cs.waitReason != "CrashLoopBackOff" || cs.waitMessage != msg {
					ps.changes++
				}
				cs.waitReason, cs.waitMessage = "CrashLoopBackOff", msg
				return wait
			}
		} else if !cs.exitHandled {
			cs.exitHandled = true
			ran := cs.status.FinishedAt.Sub(cs.status.StartedAt)
			switch {
			case cs.backoff == 0 || ran >= 10*time.Minute:
				cs.backoff = e.timing.BackoffBase
				cs.backoffUntil = now // the first restart is at once
			default:
				cs.backoffUntil = now.Add(cs.backoff)
				cs.backoff = min(2*cs.backoff, e.timing.BackoffMax)
			}
		}
		if wait := cs.backoffUntil.Sub(now); wait > 0 {
			ps.changes++
			cs.waitReason = "CrashLoopBackOff"
			cs.waitMessage = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", wait.Round(time.Second), c.Name, pod.Name, pod.Namespace, pod.UID)
			ps.node.recorder.Eventf(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", c.Name, pod.Name, pod.Namespace, pod.UID)
			return wait
		}
	} else if !cs.backoffUntil.IsZero() {
		if wait := cs.backoffUntil.Sub(e.clock.Now()); wait > 0 {
			return wait
		}
	} else if _, held := pod.Annotations[restartgate.StartAnnotation]; held {
		// Its first start waits until the gate's writer removes it (the
		// pod's next update syncs it again).
		return 0
	}
	d := e.startContainer(ctx, pod, ps, c, cs)
	if cs.id != "" && cs.status.State == runtime.StateRunning {
		// Running at once: its probes are due from now on.
		d = e.runProbes(ctx, pod, ps, c, cs)
	}
	return d
}

// syncEphemeral starts an ephemeral container (kubectl debug) once; it is
// never restarted, whatever the pod's restart policy.
func (e *engine) syncEphemeral(ctx context.Context, pod *corev1.Pod, ps *podState, c *corev1.Container) {
	cs := ps.ctrs.get(c.Name)
	if cs == nil {
		cs = &ctrState{}
		ps.ctrs.set(c.Name, cs)
	}
	if cs.id == "" {
		e.startContainer(ctx, pod, ps, c, cs)
		return
	}
	if st, err := e.rt.Status(ctx, cs.id); err == nil && st != cs.status {
		cs.status = st
		ps.changes++
	}
}

// isEphemeral: name is one of pod's ephemeral containers.
func isEphemeral(pod *corev1.Pod, name string) bool {
	for i := range pod.Spec.EphemeralContainers {
		if pod.Spec.EphemeralContainers[i].Name == name {
			return true
		}
	}
	return false
}

func (e *engine) startContainer(ctx context.Context, pod *corev1.Pod, ps *podState, c *corev1.Container, cs *ctrState) time.Duration {
	ps.changes++
	spec := runtime.ContainerSpec{
		PodNamespace: pod.Namespace, PodName: pod.Name, PodUID: string(pod.UID), Name: c.Name, Labels: pod.Labels,
		Attempt: int(cs.restarts), Image: c.Image, Command: c.Command, Args: c.Args,
		WorkingDir: c.WorkingDir, PodIP: ps.ip, Annotations: pod.Annotations,
		Env:             e.containerEnv(pod, ps, c),
		RunToCompletion: pod.Spec.RestartPolicy == corev1.RestartPolicyNever || pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure,
		Ephemeral:       isEphemeral(pod, c.Name),
		HostAliases:     e.hostAliases(ctx, pod),
		Stdin:           c.Stdin, TTY: c.TTY,
	}
	for _, p := range c.Ports {
		spec.Ports = append(spec.Ports, runtime.Port{Name: p.Name, Port: p.ContainerPort, Protocol: string(p.Protocol)})
	}
	key := ps.key
	uid := pod.UID
	st, err := e.rt.Start(ctx, spec, func(runtime.Status) {
		// the runtime's goroutine: just look at the pod again
		e.mu.Lock()
		cur := e.pods[key]
		e.mu.Unlock()
		if cur != nil && cur.uid == uid {
			e.podQ.Add(key)
		}
	})
	rec := ps.node.recorder
	if err != nil {
		reason := "RunContainerError"
		var wr waitingReasoner
		if errors.As(err, &wr) {
			reason = wr.WaitingReason()
		}
		cs.waitReason, cs.waitMessage = reason, err.Error()
		rec.Eventf(pod, corev1.EventTypeWarning, "Failed", "Error: %v", err)
		if cs.backoff == 0 {
			cs.backoff = e.timing.BackoffBase
		}
		cs.backoffUntil = e.clock.Now().Add(cs.backoff)
		cs.backoff = min(2*cs.backoff, e.timing.BackoffMax)
		return cs.backoffUntil.Sub(e.clock.Now())
	}
	if cs.id != "" {
		// a restart: the run before becomes lastState, the one before that goes
		if cs.lastID != "" {
			_ = e.rt.Remove(ctx, cs.lastID)
		}
		prev := cs.status
		cs.last, cs.lastID = &prev, cs.id
		cs.restarts++
	} else {
		rec.Eventf(pod, corev1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.Image)
	}
	cs.id, cs.status = st.ID, st
	cs.exitHandled = false
	cs.waitReason, cs.waitMessage = "", ""
	rec.Eventf(pod, corev1.EventTypeNormal, "Created", "Created container: %s", c.Name)
	rec.Eventf(pod, corev1.EventTypeNormal, "Started", "Started container %s", c.Name)
	return 0
}

// containerEnv resolves the container's env (values and the downward-API
// fields a runtime can know).
func (e *engine) containerEnv(pod *corev1.Pod, ps *podState, c *corev1.Container) []runtime.EnvVar {
	env := make([]runtime.EnvVar, 0, len(c.Env))
	for _, v := range c.Env {
		val := v.Value
		if v.ValueFrom != nil && v.ValueFrom.FieldRef != nil {
			switch v.ValueFrom.FieldRef.FieldPath {
			case "metadata.name":
				val = pod.Name
			case "metadata.namespace":
				val = pod.Namespace
			case "metadata.uid":
				val = string(pod.UID)
			case "spec.nodeName":
				val = pod.Spec.NodeName
			case "spec.serviceAccountName":
				val = pod.Spec.ServiceAccountName
			case "status.podIP":
				val = ps.ip
			case "status.hostIP":
				val = e.cfg.internalIP
			default:
				val = metadataField(pod, v.ValueFrom.FieldRef.FieldPath)
			}
		}
		env = append(env, runtime.EnvVar{Name: v.Name, Value: val})
	}
	return env
}

// metadataField resolves the downward API's metadata.annotations['k'] and
// metadata.labels['k'] ("" for a key the pod lacks, as the kubelet).
func metadataField(pod *corev1.Pod, path string) string {
	m, rest := pod.Annotations, ""
	if r, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		rest = r
	} else if r, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		m, rest = pod.Labels, r
	}
	if k, ok := strings.CutSuffix(rest, "']"); ok {
		return m[k]
	}
	return ""
}

// terminate stops a deleted pod's containers within its grace period, then
// removes the pod object (as the kubelet does with a zero-grace delete).
func (e *engine) terminate(ctx context.Context, pod *corev1.Pod, ps *podState) (time.Duration, error) {
	if !ps.terminating {
		ps.terminating = true
		grace := int64(30)
		if pod.DeletionGracePeriodSeconds != nil {
			grace = *pod.DeletionGracePeriodSeconds
		} else if pod.Spec.TerminationGracePeriodSeconds != nil {
			grace = *pod.Spec.TerminationGracePeriodSeconds
		}
		podCopy := pod.DeepCopy()
		key := ps.key
		ids := ps.runningIDs()
		if e.rt.Info().Capabilities.GracefulStop && grace > 0 && len(ids) > 0 {
			// a real process may take its grace period: do not hold a worker
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				e.stopIDs(ctx, podCopy, ps, ids, time.Duration(grace)*time.Second, true)
				ps.mu.Lock()
				ps.stopped = true
				ps.mu.Unlock()
				e.podQ.Add(key)
			}()
			return 0, nil
		}
		e.stopIDs(ctx, podCopy, ps, ids, 0, true)
		ps.stopped = true
	}
	if !ps.stopped {
		return 0, nil
	}
	// The containers' exits look at the pod again before the informer has
	// seen it go: one final delete is enough unless the pod lingers.
	if !ps.finalDelete.IsZero() {
		if wait := finalDeleteRetry - e.clock.Since(ps.finalDelete); wait > 0 {
			return wait, nil
		}
	}
	zero := int64(0)
	err := e.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return 0, err
	}
	ps.finalDelete = e.clock.Now()
	return 0, nil
}

// finalDeleteRetry is how long after its final delete a pod still listed
// is deleted again.
const finalDeleteRetry = 10 * time.Second

// runningIDs maps container names to their current runtime ids (ps.mu held).
func (ps *podState) runningIDs() map[string]string {
	ids := make(map[string]string, len(ps.ctrs))
	for _, c := range ps.ctrs {
		if c.cs.id != "" {
			ids[c.name] = c.cs.id
		}
	}
	return ids
}

// stopIDs stops the given containers of a pod.
func (e *engine) stopIDs(ctx context.Context, pod *corev1.Pod, ps *podState, ids map[string]string, grace time.Duration, events bool) {
	for name, id := range ids {
		st, err := e.rt.Status(ctx, id)
		if err != nil || st.State == runtime.StateExited {
			continue
		}
		if events {
			ps.node.recorder.Eventf(pod, corev1.EventTypeNormal, "Killing", "Stopping container %s", name)
		}
		if err := e.rt.Stop(ctx, id, grace); err != nil {
			e.log.Warn("stop container", "pod", ps.key, "container", name, "err", err)
		}
	}
}

// forget tears down everything of a pod the agent no longer runs.
func (e *engine) forget(ctx context.Context, key string, ps *podState) {
	e.mu.Lock()
	if e.pods[key] == ps {
		delete(e.pods, key)
	}
	e.mu.Unlock()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, c := range ps.ctrs {
		cs := c.cs
		for _, id := range []string{cs.id, cs.lastID} {
			if id != "" {
				_ = e.rt.Stop(ctx, id, 0)
				_ = e.rt.Remove(ctx, id)
			}
		}
	}
	if ps.ip != "" && ps.ip != e.cfg.internalIP {
		ps.node.releaseIP(ps.ip)
	}
}

// writeStatus computes the pod's status and writes it if it changed.
func (e *engine) writeStatus(ctx context.Context, pod *corev1.Pod, ps *podState) error {
	if pod.ResourceVersion != "" && ps.verifiedRV == pod.ResourceVersion && ps.verifiedChanges == ps.changes {
		return nil // nothing it depends on changed since it was found right
	}
	st := e.podStatus(pod, ps)
	if sameStatus(&pod.Status, &st) {
		ps.verifiedRV, ps.verifiedChanges = pod.ResourceVersion, ps.changes
		return nil
	}
	// The shared informer's pods keep their managed fields; the write
	// carries none (the server keeps the stored ones), nor copies them.
	noMF := *pod
	noMF.ManagedFields = nil
	upd := noMF.DeepCopy()
	upd.Status = st
	got, err := e.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if err == nil && got != nil && got.ResourceVersion != "" {
		// The version just written holds the status computed from what the
		// agent knows now: the sync its own watch event brings finds it
		// right without computing it again.
		ps.verifiedRV, ps.verifiedChanges = got.ResourceVersion, ps.changes
	}
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		// A conflict means a newer version of the pod exists, and the pod
		// informer is about to bring it, which syncs the pod again: no
		// back-off needed (the scheduler's binding writes the pod twice).
		return nil
	}
	return err
}

// sameStatus reports whether two pod statuses are semantically equal. The
// cheap fields that differ whenever a status moves on (phase, addresses,
// the number of conditions and container statuses) are compared first, so
// a status that changed is told apart without the reflective comparison.
func sameStatus(a, b *corev1.PodStatus) bool {
	if a.Phase != b.Phase || a.PodIP != b.PodIP || a.HostIP != b.HostIP || a.Reason != b.Reason ||
		len(a.Conditions) != len(b.Conditions) || len(a.ContainerStatuses) != len(b.ContainerStatuses) ||
		len(a.InitContainerStatuses) != len(b.InitContainerStatuses) || (a.StartTime == nil) != (b.StartTime == nil) {
		return false
	}
	for i := range a.Conditions {
		if a.Conditions[i].Type != b.Conditions[i].Type || a.Conditions[i].Status != b.Conditions[i].Status {
			return false
		}
	}
	for i := range a.ContainerStatuses {
		x, y := &a.ContainerStatuses[i], &b.ContainerStatuses[i]
		if x.Ready != y.Ready || x.RestartCount != y.RestartCount || x.ContainerID != y.ContainerID ||
			(x.State.Running == nil) != (y.State.Running == nil) || (x.State.Waiting == nil) != (y.State.Waiting == nil) ||
			(x.State.Terminated == nil) != (y.State.Terminated == nil) {
			return false
		}
	}
	return equality.Semantic.DeepEqual(a, b)
}

func mtime(t time.Time) metav1.Time {
	if t.IsZero() {
		return metav1.Time{}
	}
	return metav1.NewTime(t.Truncate(time.Second))
}

// podStatus is the status the kubelet would report for pod now.
func (e *engine) podStatus(pod *corev1.Pod, ps *podState) corev1.PodStatus {
	old := &pod.Status
	st := corev1.PodStatus{
		HostIP:   e.cfg.internalIP,
		HostIPs:  []corev1.HostIP{{IP: e.cfg.internalIP}},
		QOSClass: old.QOSClass,
	}
	if !ps.startTime.IsZero() {
		t := mtime(ps.startTime)
		if old.StartTime != nil {
			t = *old.StartTime
		}
		st.StartTime = &t
	}
	if ps.ip != "" {
		st.PodIP = ps.ip
		st.PodIPs = []corev1.PodIP{{IP: ps.ip}}
	}
	var tally containerTally
	st.ContainerStatuses, st.EphemeralContainerStatuses, tally = e.containerStatuses(pod, ps)
	st.Phase = tally.phase(pod.Spec.RestartPolicy)
	if ps.terminating && ps.stopped {
		st.Phase = old.Phase
	}
	st.Conditions = e.podConditions(old, st.Phase, ps.ip != "", tally.notReady, tally.total)
	return st
}

// containerTally counts a pod's containers by state, as its phase needs
// them.
type containerTally struct {
	total, waiting, running, stopped, succeeded, failed int
	notReady                                            []string
}

// containerStatuses is the status of each container and ephemeral
// container of the pod, and the tally of the (regular) containers.
func (e *engine) containerStatuses(pod *corev1.Pod, ps *podState) (ctrs, ephemeral []corev1.ContainerStatus, t containerTally) {
	t.total = len(pod.Spec.Containers)
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		s := e.containerStatus(c, ps.ctrs.get(c.Name))
		switch {
		case s.State.Running != nil:
			t.running++
		case s.State.Terminated != nil:
			t.stopped++
			if s.State.Terminated.ExitCode == 0 {
				t.succeeded++
			} else {
				t.failed++
			}
		case s.LastTerminationState.Terminated != nil:
			t.stopped++ // waiting to restart
			t.failed++
		default:
			t.waiting++
		}
		if !s.Ready {
			t.notReady = append(t.notReady, c.Name)
		}
		ctrs = append(ctrs, s)
	}
	for i := range pod.Spec.EphemeralContainers {
		c := corev1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		s := e.containerStatus(&c, ps.ctrs.get(c.Name))
		s.Ready = false // ephemeral containers are never ready, as the kubelet reports them
		ephemeral = append(ephemeral, s)
	}
	return ctrs, ephemeral, t
}

// phase is the pod phase the kubelet derives from its containers' states
// under the pod's restart policy.
func (t containerTally) phase(policy corev1.RestartPolicy) corev1.PodPhase {
	switch {
	case t.waiting > 0:
		return corev1.PodPending
	case t.running > 0:
		return corev1.PodRunning
	case t.stopped == t.total && t.total > 0:
		switch policy {
		case corev1.RestartPolicyNever:
			if t.failed > 0 {
				return corev1.PodFailed
			}
			return corev1.PodSucceeded
		case corev1.RestartPolicyOnFailure:
			if t.succeeded == t.total {
				return corev1.PodSucceeded
			}
			return corev1.PodRunning
		default:
			return corev1.PodRunning
		}
	default:
		return corev1.PodPending
	}
}

// podConditions are the conditions the kubelet owns (sandbox ready,
// initialized, ready, containers ready) with their transition times kept
// from the old status, then the conditions others own (PodScheduled,
// readiness gates, DisruptionTarget) as they were.
func (e *engine) podConditions(old *corev1.PodStatus, phase corev1.PodPhase, sandboxReady bool, notReady []string, total int) []corev1.PodCondition {
	ready := len(notReady) == 0 && total > 0
	readyReason, readyMsg := "", ""
	if !ready {
		readyReason, readyMsg = "ContainersNotReady", fmt.Sprintf("containers with unready status: %v", notReady)
		if phase == corev1.PodSucceeded || phase == corev1.PodFailed {
			readyReason = "PodCompleted"
			readyMsg = ""
		}
	}
	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) corev1.PodCondition {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg}
		if ok {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, "", ""
		}
		c.LastTransitionTime = mtime(e.clock.Now())
		for _, oc := range old.Conditions {
			if oc.Type == t && oc.Status == c.Status {
				c.LastTransitionTime = oc.LastTransitionTime
				c.LastProbeTime = oc.LastProbeTime
			}
		}
		return c
	}
	conds := []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, sandboxReady, "", ""),
		cond(corev1.PodInitialized, true, "", ""),
		cond(corev1.PodReady, ready, readyReason, readyMsg),
		cond(corev1.ContainersReady, ready, readyReason, readyMsg),
	}
	// a bound pod is scheduled even if the API's binding did not say so
	scheduled := false
	for _, oc := range old.Conditions {
		scheduled = scheduled || oc.Type == corev1.PodScheduled
	}
	if !scheduled {
		conds = append(conds, cond(corev1.PodScheduled, true, "", ""))
	}
	for _, oc := range old.Conditions {
		switch oc.Type {
		case corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady:
		default:
			conds = append(conds, oc)
		}
	}
	return conds
}

func terminated(s *runtime.Status, rt string) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{
		ExitCode: int32(s.ExitCode), Reason: s.Reason, Message: s.Message,
		StartedAt: mtime(s.StartedAt), FinishedAt: mtime(s.FinishedAt),
		ContainerID: rt + "://" + s.ID,
	}
}

// containerStatus is one container's status as the kubelet reports it.
func (e *engine) containerStatus(c *corev1.Container, cs *ctrState) corev1.ContainerStatus {
	s := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: e.rtName + "://" + c.Image}
	if cs != nil {
		s.RestartCount = cs.restarts
		if cs.last != nil {
			s.LastTerminationState.Terminated = terminated(cs.last, e.rtName)
		}
	}
	switch {
	case cs == nil || (cs.id == "" && cs.waitReason == ""):
		s.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
	case cs.waitReason != "":
		s.State.Waiting = &corev1.ContainerStateWaiting{Reason: cs.waitReason, Message: cs.waitMessage}
		if cs.id != "" && cs.status.State == runtime.StateExited {
			// in back-off: the exit just seen is the last state
			s.LastTerminationState.Terminated = terminated(&cs.status, e.rtName)
		}
	case cs.status.State == runtime.StateCreated:
		s.State.Waiting = &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}
		s.ContainerID = e.rtName + "://" + cs.id
	case cs.status.State == runtime.StateRunning:
		s.State.Running = &corev1.ContainerStateRunning{StartedAt: mtime(cs.status.StartedAt)}
		s.Ready, s.Started = cs.probes.ready(c, cs.id), ptr.To(cs.probes.started(c, cs.id))
		s.ContainerID = e.rtName + "://" + cs.id
	default:
		s.State.Terminated = terminated(&cs.status, e.rtName)
		s.ContainerID = e.rtName + "://" + cs.id
	}
	if s.Started == nil {
		s.Started = ptr.To(false)
	}
	return s
}
