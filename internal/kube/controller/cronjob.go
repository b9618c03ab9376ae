package controller

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// The cronjob controller creates a CronJob's Jobs on its schedule (in its
// time zone), honouring suspend, startingDeadlineSeconds and the
// concurrency policy (Allow, Forbid, Replace), keeps status.active,
// lastScheduleTime and lastSuccessfulTime, and deletes finished Jobs
// beyond the history limits, with the names, annotations and events of
// kube-controller-manager's cronjob controller (v2).
//
// Not done (yet): the "too many missed start times" warning (only the
// latest missed time is started, as upstream does, without the count).

const (
	cronJobComponent          = "cronjob-controller"
	cronJobScheduledTimestamp = "batch.kubernetes.io/cronjob-scheduled-timestamp"
)

type cronJobController struct {
	m      *Manager
	loop   *loop
	lister batchlisters.CronJobLister
	jobIdx cache.Indexer
	rec    record.EventRecorder
}

func (m *Manager) addCronJob() {
	c := &cronJobController{m: m, rec: m.recorder(cronJobComponent)}
	c.loop = m.newLoop("cronjob", m.o.Workers, c.sync)
	inf := m.factory.Batch().V1().CronJobs()
	c.lister = inf.Lister()
	_, _ = inf.Informer().AddEventHandler(c.loop.handler())
	jobs := m.factory.Batch().V1().Jobs().Informer()
	if _, ok := jobs.GetIndexer().GetIndexers()[controllerIndex]; !ok {
		_ = jobs.AddIndexers(cache.Indexers{controllerIndex: controllerIndexFunc})
	}
	c.jobIdx = jobs.GetIndexer()
	jobEvent := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		job, ok := obj.(*batchv1.Job)
		if !ok {
			return
		}
		if ref := metav1.GetControllerOfNoCopy(job); ref != nil && ref.Kind == "CronJob" {
			c.loop.q.Add(job.Namespace + "/" + ref.Name)
		}
	}
	_, _ = jobs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: jobEvent, DeleteFunc: jobEvent, UpdateFunc: func(_, obj any) { jobEvent(obj) },
	})
}

// schedule parses the CronJob's schedule in its time zone.
func cronSchedule(cj *batchv1.CronJob) (cron.Schedule, *time.Location, error) {
	loc := time.Local
	if tz := cj.Spec.TimeZone; tz != nil {
		l, err := time.LoadLocation(*tz)
		if err != nil {
			return nil, nil, fmt.Errorf("invalid timeZone: %q: %w", *tz, err)
		}
		loc = l
	}
	s, err := cron.ParseStandard(cj.Spec.Schedule)
	if err != nil {
		return nil, nil, fmt.Errorf("unparseable schedule: %q : %w", cj.Spec.Schedule, err)
	}
	return s, loc, nil
}

func (c *cronJobController) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	cj, err := c.lister.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || cj.DeletionTimestamp != nil {
		return 0, err
	}
	now := c.m.o.Clock.Now()
	var jobs []*batchv1.Job
	objs, _ := c.jobIdx.ByIndex(controllerIndex, string(cj.UID))
	for _, o := range objs {
		jobs = append(jobs, o.(*batchv1.Job))
	}
	st := cj.Status.DeepCopy()
	st.Active = nil
	var finished []*batchv1.Job
	for _, j := range jobs {
		done := finishedAt(j)
		if done == nil {
			st.Active = append(st.Active, corev1.ObjectReference{Kind: "Job", Namespace: j.Namespace, Name: j.Name,
				UID: j.UID, APIVersion: "batch/v1", ResourceVersion: j.ResourceVersion})
			continue
		}
		finished = append(finished, j)
		if jobCond(j, batchv1.JobComplete) != nil {
			if st.LastSuccessfulTime == nil || st.LastSuccessfulTime.Time.Before(*done) {
				t := metav1.NewTime(*done)
				st.LastSuccessfulTime = &t
			}
		}
		if wasActive(cj, j) {
			cond := "Complete"
			if jobCond(j, batchv1.JobFailed) != nil {
				cond = "Failed"
			}
			c.rec.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %s", j.Name, cond)
		}
	}
	sort.Slice(st.Active, func(a, b int) bool { return st.Active[a].Name < st.Active[b].Name })

	sched, loc, err := cronSchedule(cj)
	if err != nil {
		c.rec.Event(cj, corev1.EventTypeWarning, "UnparseableSchedule", err.Error())
		return 0, c.writeStatus(ctx, cj, st)
	}
	// The latest scheduled time not yet started, since the last one (or
	// the CronJob's creation).
	since := cj.CreationTimestamp.Time
	if st.LastScheduleTime != nil {
		since = st.LastScheduleTime.Time
	}
	var due *time.Time
	for t := sched.Next(since.In(loc)); !t.After(now); t = sched.Next(t) {
		tt := t
		due = &tt
	}
	if due != nil && !isSuspended(cj) {
		if d := cj.Spec.StartingDeadlineSeconds; d != nil && now.Sub(*due) > time.Duration(*d)*time.Second {
			c.rec.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", due.UTC().Format(time.RFC1123Z))
		} else if started, err := c.start(ctx, cj, st, *due); err != nil {
			return 0, err
		} else if started {
			t := metav1.NewTime(*due)
			st.LastScheduleTime = &t
		}
	}
	if err := c.cleanHistory(ctx, cj, finished); err != nil {
		return 0, err
	}
	if err := c.writeStatus(ctx, cj, st); err != nil {
		return 0, err
	}
	if isSuspended(cj) {
		return 0, nil
	}
	next := sched.Next(now.In(loc))
	return next.Sub(now) + 100*time.Millisecond, nil
}

func isSuspended(cj *batchv1.CronJob) bool { return cj.Spec.Suspend != nil && *cj.Spec.Suspend }

func wasActive(cj *batchv1.CronJob, j *batchv1.Job) bool {
	for _, a := range cj.Status.Active {
		if a.UID == j.UID {
			return true
		}
	}
	return false
}

// start creates the Job of scheduled time at, as the concurrency policy
// allows; it reports whether the time counts as started.
func (c *cronJobController) start(ctx context.Context, cj *batchv1.CronJob, st *batchv1.CronJobStatus, at time.Time) (bool, error) {
	job := newCronJobJob(cj, at)
	for _, a := range st.Active {
		if a.Name == job.Name {
			return true, nil // started already (this sync read an older status)
		}
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(st.Active) > 0 {
			c.rec.Event(cj, corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return false, nil
		}
	case batchv1.ReplaceConcurrent:
		for _, a := range st.Active {
			bg := metav1.DeletePropagationBackground
			err := c.m.o.Client.BatchV1().Jobs(a.Namespace).Delete(ctx, a.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
			if err != nil && !apierrors.IsNotFound(err) {
				return false, err
			}
			c.rec.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %s", a.Name)
		}
		st.Active = nil
	}
	created, err := c.m.o.Client.BatchV1().Jobs(cj.Namespace).Create(ctx, job, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return true, nil // started before (a lost status write)
	case err != nil:
		c.rec.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return false, err
	}
	c.rec.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %s", created.Name)
	st.Active = append(st.Active, corev1.ObjectReference{Kind: "Job", Namespace: created.Namespace, Name: created.Name,
		UID: created.UID, APIVersion: "batch/v1", ResourceVersion: created.ResourceVersion})
	return true, nil
}

// newCronJobJob is the Job of one scheduled time: named after the
// CronJob and the time in minutes, as the real controller names it.
func newCronJobJob(cj *batchv1.CronJob, at time.Time) *batchv1.Job {
	t := cj.Spec.JobTemplate
	ann := copyMap(t.Annotations)
	if ann == nil {
		ann = map[string]string{}
	}
	ann[cronJobScheduledTimestamp] = at.Format(time.RFC3339)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("%s-%d", cj.Name, at.Unix()/60), Namespace: cj.Namespace,
			Labels: copyMap(t.Labels), Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec: *t.Spec.DeepCopy(),
	}
}

// cleanHistory deletes the oldest finished Jobs beyond the limits
// (successful 3, failed 1 by default).
func (c *cronJobController) cleanHistory(ctx context.Context, cj *batchv1.CronJob, finished []*batchv1.Job) error {
	var ok, failed []*batchv1.Job
	for _, j := range finished {
		if jobCond(j, batchv1.JobComplete) != nil {
			ok = append(ok, j)
		} else {
			failed = append(failed, j)
		}
	}
	for _, g := range []struct {
		jobs  []*batchv1.Job
		limit int32
	}{{ok, deref32(cj.Spec.SuccessfulJobsHistoryLimit, 3)}, {failed, deref32(cj.Spec.FailedJobsHistoryLimit, 1)}} {
		if int32(len(g.jobs)) <= g.limit {
			continue
		}
		// Oldest first: by start (the scheduled time, for this controller's
		// Jobs), then creation.
		sort.Slice(g.jobs, func(a, b int) bool {
			ja, jb := g.jobs[a], g.jobs[b]
			if sa, sb := ja.Annotations[cronJobScheduledTimestamp], jb.Annotations[cronJobScheduledTimestamp]; sa != sb && sa != "" && sb != "" {
				return sa < sb
			}
			return ja.CreationTimestamp.Before(&jb.CreationTimestamp)
		})
		for _, j := range g.jobs[:len(g.jobs)-int(g.limit)] {
			bg := metav1.DeletePropagationBackground
			err := c.m.o.Client.BatchV1().Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			c.rec.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %s", j.Name)
		}
	}
	return nil
}

func (c *cronJobController) writeStatus(ctx context.Context, cj *batchv1.CronJob, st *batchv1.CronJobStatus) error {
	if cronStatusEqual(&cj.Status, st) {
		return nil
	}
	upd := cj.DeepCopy()
	upd.Status = *st
	_, err := c.m.o.Client.BatchV1().CronJobs(cj.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	return err
}

func cronStatusEqual(a, b *batchv1.CronJobStatus) bool {
	if len(a.Active) != len(b.Active) || !timeEq(a.LastScheduleTime, b.LastScheduleTime) || !timeEq(a.LastSuccessfulTime, b.LastSuccessfulTime) {
		return false
	}
	for i := range a.Active {
		if a.Active[i].UID != b.Active[i].UID {
			return false
		}
	}
	return true
}

func timeEq(a, b *metav1.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(b)) }
