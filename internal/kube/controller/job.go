package controller

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// The job controller runs a Job's pods to completion: up to parallelism at
// once until completions succeeded (NonIndexed), or one success per index
// (Indexed, each pod carrying its index); it fails the Job once more pods
// failed than backoffLimit or it ran past activeDeadlineSeconds, and it
// deletes a finished Job ttlSecondsAfterFinished later. Status and
// conditions are the ones kube-controller-manager writes.
//
// Not done (yet): the exponential back-off between re-creating failed pods,
// pod failure and success policies, backoffLimitPerIndex, and the
// job-tracking finalizer on pods.

// Names the real job controller uses.
const (
	jobCompletionIndex = "batch.kubernetes.io/job-completion-index"
	jobIndexEnv        = "JOB_COMPLETION_INDEX"
	jobComponent       = "job-controller"
)

type jobController struct {
	m      *Manager
	loop   *loop
	lister batchlisters.JobLister
	podIdx cache.Indexer
	rec    record.EventRecorder
	exp    *expectations
	// started remembers when each job was first seen running, for
	// activeDeadlineSeconds before status.startTime is visible.
	started sync.Map
}

func (m *Manager) addJob() {
	j := &jobController{m: m, exp: &expectations{m: map[string]*expect{}}, rec: m.recorder(jobComponent)}
	j.loop = m.newLoop("job", m.o.Workers, j.sync)
	inf := m.factory.Batch().V1().Jobs()
	j.lister = inf.Lister()
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: j.loop.enqueue, DeleteFunc: j.loop.enqueue,
		UpdateFunc: func(_, obj any) { j.loop.enqueue(obj) },
	})
	pods := m.podInformerWithIndex()
	j.podIdx = pods.GetIndexer()
	_, _ = pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { j.podEvent(obj, true, false) },
		UpdateFunc: func(_, obj any) { j.podEvent(obj, false, false) },
		DeleteFunc: func(obj any) { j.podEvent(obj, false, true) },
	})
}

func (j *jobController) podEvent(obj any, added, deleted bool) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "Job" {
		return
	}
	key := pod.Namespace + "/" + ref.Name
	switch {
	case added:
		j.exp.observe(key, true)
	case deleted:
		j.exp.observe(key, false)
	}
	// Pod events come in streams (a wave of parallelism pods created,
	// started, finished), and each sync walks all the job's pods: batched,
	// as kube-controller-manager's job controller batches them, a stream
	// brings one sync per period instead of one per event (10,000
	// completions made thousands of syncs over up to 10,000 pods each).
	j.loop.q.AddAfter(key, jobPodBatch)
}

// jobPodBatch is how long a pod event waits for others of the same job
// before they bring its sync (upstream waits a second; short here, so a
// wave of short pods is replaced at once).
const jobPodBatch = 50 * time.Millisecond

func jobCond(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if c := &j.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

func (j *jobController) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	job, err := j.lister.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		j.exp.forget(key)
		j.started.Delete(key)
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if job.DeletionTimestamp != nil {
		return 0, nil
	}
	now := j.m.o.Clock.Now()
	if done := finishedAt(job); done != nil {
		return j.expire(ctx, job, *done, now)
	}
	pods, err := j.pods(job)
	if err != nil {
		return 0, err
	}
	var active []*corev1.Pod
	var succeeded, failed int32
	doneIdx := map[int]bool{}
	activeIdx := map[int]bool{}
	for _, p := range pods {
		switch {
		case p.Status.Phase == corev1.PodSucceeded:
			succeeded++
			if i, ok := podIndex(p); ok {
				doneIdx[i] = true
			}
		case p.Status.Phase == corev1.PodFailed:
			failed++
		case p.DeletionTimestamp == nil:
			active = append(active, p)
			if i, ok := podIndex(p); ok {
				activeIdx[i] = true
			}
		}
	}
	indexed := job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
	if indexed {
		succeeded = int32(len(doneIdx))
	}
	st := job.Status.DeepCopy()
	st.Succeeded, st.Failed = succeeded, failed
	suspended := job.Spec.Suspend != nil && *job.Spec.Suspend
	if st.StartTime == nil && !suspended {
		t := metav1.NewTime(now)
		st.StartTime = &t
	}
	completions := job.Spec.Completions
	complete := false
	switch {
	case indexed:
		complete = completions != nil && int32(len(doneIdx)) >= *completions
	case completions != nil:
		complete = succeeded >= *completions
	default:
		complete = succeeded > 0 && len(active) == 0
	}
	var requeue time.Duration
	switch {
	case complete:
		if err := j.deleteAll(ctx, job, active); err != nil {
			return 0, err
		}
		active = nil
		t := metav1.NewTime(now)
		st.CompletionTime = &t
		setJobCond(st, batchv1.JobSuccessCriteriaMet, "CompletionsReached", "Reached expected number of succeeded pods", now)
		setJobCond(st, batchv1.JobComplete, "CompletionsReached", "Reached expected number of succeeded pods", now)
		j.rec.Event(job, corev1.EventTypeNormal, "Completed", "Job completed")
		if ttl := job.Spec.TTLSecondsAfterFinished; ttl != nil {
			requeue = time.Duration(*ttl) * time.Second
		}
	case failed > deref32(job.Spec.BackoffLimit, 6):
		if err := j.fail(ctx, job, st, active, "BackoffLimitExceeded", "Job has reached the specified backoff limit", now); err != nil {
			return 0, err
		}
		active = nil
	case job.Spec.ActiveDeadlineSeconds != nil && st.StartTime != nil &&
		now.Sub(st.StartTime.Time) >= time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second:
		if err := j.fail(ctx, job, st, active, "DeadlineExceeded", "Job was active longer than specified deadline", now); err != nil {
			return 0, err
		}
		active = nil
	case suspended:
		if err := j.deleteAll(ctx, job, active); err != nil {
			return 0, err
		}
		active = nil
		setJobCond(st, batchv1.JobSuspended, "JobSuspended", "Job suspended", now)
	default:
		if c := jobCond(job, batchv1.JobSuspended); c != nil {
			setJobCondStatus(st, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", now)
		}
		if j.exp.satisfied(key) {
			n, err := j.manage(ctx, job, active, succeeded, indexed, doneIdx, activeIdx)
			if err != nil {
				return 0, err
			}
			if n > 0 {
				return 0, nil // the new pods' events bring the next sync
			}
		}
		if ads := job.Spec.ActiveDeadlineSeconds; ads != nil && st.StartTime != nil {
			requeue = st.StartTime.Add(time.Duration(*ads) * time.Second).Sub(now)
			if requeue <= 0 {
				requeue = time.Millisecond
			}
		}
	}
	st.Active = int32(len(active))
	var ready int32
	for _, p := range active {
		if ok, _ := podReady(p); ok {
			ready++
		}
	}
	st.Ready = &ready
	st.Terminating = ptr.To(int32(0))
	if st.UncountedTerminatedPods == nil {
		st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	if indexed {
		st.CompletedIndexes = formatIndexes(doneIdx)
	}
	if !jobStatusEqual(&job.Status, st) {
		upd := job.DeepCopy()
		upd.Status = *st
		if _, err := j.m.o.Client.BatchV1().Jobs(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return 0, err
		}
	}
	return requeue, nil
}

// expire deletes a finished job once its ttlSecondsAfterFinished is over.
func (j *jobController) expire(ctx context.Context, job *batchv1.Job, done, now time.Time) (time.Duration, error) {
	ttl := job.Spec.TTLSecondsAfterFinished
	if ttl == nil {
		return 0, nil
	}
	if left := done.Add(time.Duration(*ttl) * time.Second).Sub(now); left > 0 {
		return left, nil
	}
	bg := metav1.DeletePropagationBackground
	err := j.m.o.Client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name,
		metav1.DeleteOptions{PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &job.UID}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return 0, nil
	}
	return 0, err
}

func finishedAt(job *batchv1.Job) *time.Time {
	for _, t := range []batchv1.JobConditionType{batchv1.JobComplete, batchv1.JobFailed} {
		if c := jobCond(job, t); c != nil {
			at := c.LastTransitionTime.Time
			if t == batchv1.JobComplete && job.Status.CompletionTime != nil {
				at = job.Status.CompletionTime.Time
			}
			return &at
		}
	}
	return nil
}

func (j *jobController) fail(ctx context.Context, job *batchv1.Job, st *batchv1.JobStatus, active []*corev1.Pod, reason, msg string, now time.Time) error {
	if err := j.deleteAll(ctx, job, active); err != nil {
		return err
	}
	setJobCond(st, batchv1.JobFailureTarget, reason, msg, now)
	setJobCond(st, batchv1.JobFailed, reason, msg, now)
	j.rec.Event(job, corev1.EventTypeWarning, reason, msg)
	return nil
}

// pods are the job's pods: those it controls, and orphans its selector
// matches (which it adopts, as the real controller does, by owner reference
// on its next write; here only counted).
func (j *jobController) pods(job *batchv1.Job) ([]*corev1.Pod, error) {
	objs, err := j.podIdx.ByIndex(controllerIndex, string(job.UID))
	if err != nil {
		return nil, err
	}
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p := o.(*corev1.Pod); p.Namespace == job.Namespace && (sel.Empty() || sel.Matches(labels.Set(p.Labels))) {
			out = append(out, p)
		}
	}
	return out, nil
}

// manage creates or deletes pods so that the right number run; it returns
// how many it created.
func (j *jobController) manage(ctx context.Context, job *batchv1.Job, active []*corev1.Pod, succeeded int32, indexed bool, doneIdx, activeIdx map[int]bool) (int, error) {
	key := job.Namespace + "/" + job.Name
	want := deref32(job.Spec.Parallelism, 1)
	if c := job.Spec.Completions; c != nil && !indexed {
		want = min(want, *c-succeeded)
	}
	var todo []int // indexes to start (Indexed), or -1 each
	if indexed {
		for i := 0; i < int(deref32(job.Spec.Completions, 0)) && len(active)+len(todo) < int(want); i++ {
			if !doneIdx[i] && !activeIdx[i] {
				todo = append(todo, i)
			}
		}
	} else {
		for n := int(want) - len(active); n > 0; n-- {
			todo = append(todo, -1)
		}
	}
	if extra := len(active) - int(max(want, 0)); extra > 0 {
		// parallelism went down: stop the newest
		sort.Slice(active, func(a, b int) bool { return active[a].CreationTimestamp.After(active[b].CreationTimestamp.Time) })
		j.exp.set(key, 0, int64(extra))
		return 0, j.deleteAll(ctx, job, active[:extra])
	}
	if len(todo) == 0 {
		return 0, nil
	}
	todo = todo[:min(len(todo), burstReplicas)]
	j.exp.set(key, int64(len(todo)), 0)
	var mu sync.Mutex
	next := 0
	n, err := slowStart(ctx, len(todo), func(ctx context.Context) error {
		mu.Lock()
		idx := todo[next]
		next++
		mu.Unlock()
		pod := newJobPod(job, idx)
		created, err := j.m.o.Client.CoreV1().Pods(job.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			j.exp.observe(key, true)
			j.rec.Eventf(job, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			return err
		}
		j.rec.Eventf(job, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", created.Name)
		return nil
	})
	// the creates never made will never be observed
	for range len(todo) - n {
		j.exp.observe(key, true)
	}
	return n, err
}

func newJobPod(job *batchv1.Job, idx int) *corev1.Pod {
	t := &job.Spec.Template
	gen := job.Name + "-"
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: job.Namespace, Labels: copyMap(t.Labels), Annotations: copyMap(t.Annotations),
			Finalizers: append([]string(nil), t.Finalizers...),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec: *t.Spec.DeepCopy(),
	}
	if idx >= 0 {
		s := strconv.Itoa(idx)
		gen = job.Name + "-" + s + "-"
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		if pod.Labels == nil {
			pod.Labels = map[string]string{}
		}
		pod.Annotations[jobCompletionIndex], pod.Labels[jobCompletionIndex] = s, s
		if pod.Spec.Hostname == "" {
			pod.Spec.Hostname = job.Name + "-" + s
		}
		env := corev1.EnvVar{Name: jobIndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			APIVersion: "v1", FieldPath: "metadata.labels['" + jobCompletionIndex + "']"}}}
		for i := range pod.Spec.Containers {
			pod.Spec.Containers[i].Env = append(pod.Spec.Containers[i].Env, env)
		}
		for i := range pod.Spec.InitContainers {
			pod.Spec.InitContainers[i].Env = append(pod.Spec.InitContainers[i].Env, env)
		}
	}
	pod.GenerateName = gen
	return pod
}

func (j *jobController) deleteAll(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod) error {
	for _, p := range pods {
		err := j.m.o.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		j.rec.Eventf(job, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
	}
	return nil
}

func podIndex(p *corev1.Pod) (int, bool) {
	v, ok := p.Annotations[jobCompletionIndex]
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(v)
	return i, err == nil && i >= 0
}

// formatIndexes writes indexes as the API does: "0-2,5,7-8".
func formatIndexes(set map[int]bool) string {
	idx := make([]int, 0, len(set))
	for i := range set {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var b strings.Builder
	for k := 0; k < len(idx); {
		e := k
		for e+1 < len(idx) && idx[e+1] == idx[e]+1 {
			e++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if e == k {
			fmt.Fprintf(&b, "%d", idx[k])
		} else {
			fmt.Fprintf(&b, "%d-%d", idx[k], idx[e])
		}
		k = e + 1
	}
	return b.String()
}

func setJobCond(st *batchv1.JobStatus, t batchv1.JobConditionType, reason, msg string, now time.Time) {
	setJobCondStatus(st, t, corev1.ConditionTrue, reason, msg, now)
}

func setJobCondStatus(st *batchv1.JobStatus, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string, now time.Time) {
	ts := metav1.NewTime(now)
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = ts
		}
		c.Status, c.Reason, c.Message, c.LastProbeTime = status, reason, msg, ts
		return
	}
	st.Conditions = append(st.Conditions, batchv1.JobCondition{Type: t, Status: status, Reason: reason, Message: msg, LastProbeTime: ts, LastTransitionTime: ts})
}

func jobStatusEqual(a, b *batchv1.JobStatus) bool {
	return a.Active == b.Active && a.Succeeded == b.Succeeded && a.Failed == b.Failed && derefEq(a.Ready, b.Ready) &&
		derefEq(a.Terminating, b.Terminating) && a.CompletedIndexes == b.CompletedIndexes &&
		(a.StartTime == nil) == (b.StartTime == nil) && (a.CompletionTime == nil) == (b.CompletionTime == nil) &&
		len(a.Conditions) == len(b.Conditions) && condsEqual(a.Conditions, b.Conditions) &&
		(a.UncountedTerminatedPods == nil) == (b.UncountedTerminatedPods == nil)
}

func condsEqual(a, b []batchv1.JobCondition) bool {
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Status != b[i].Status || a[i].Reason != b[i].Reason {
			return false
		}
	}
	return true
}

func derefEq(a, b *int32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}
