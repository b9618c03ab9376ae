package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// Annotations and labels of the deployment controller.
const (
	annRevision        = "deployment.kubernetes.io/revision"
	annDesiredReplicas = "deployment.kubernetes.io/desired-replicas"
	annMaxReplicas     = "deployment.kubernetes.io/max-replicas"
	labelTemplateHash  = appsv1.DefaultDeploymentUniqueLabelKey // "pod-template-hash"
)

// deployments rolls Deployments out through ReplicaSets: one per pod
// template (named <deployment>-<template hash>, revision-numbered), scaled
// up and down within maxSurge and maxUnavailable (or all at once for
// Recreate), old ones kept up to revisionHistoryLimit, with the Available
// and Progressing conditions `kubectl rollout status` reads. Rollback is
// kubectl's own (it copies an old ReplicaSet's template back), so the new
// revision number goes to the reused ReplicaSet as in Kubernetes.
type deployments struct {
	m        *Manager
	loop     *loop
	dLister  appslisters.DeploymentLister
	rsLister appslisters.ReplicaSetLister
	rsIdx    cache.Indexer
	rec      record.EventRecorder
}

func (m *Manager) addDeployment() {
	d := &deployments{m: m, rec: m.recorder("deployment-controller")}
	d.loop = m.newLoop("deployment", m.o.Workers, d.sync)
	di := m.factory.Apps().V1().Deployments()
	d.dLister = di.Lister()
	_, _ = di.Informer().AddEventHandler(d.loop.handler())
	ri := m.factory.Apps().V1().ReplicaSets()
	d.rsLister = ri.Lister()
	inf := ri.Informer()
	if _, ok := inf.GetIndexer().GetIndexers()[controllerIndex]; !ok {
		_ = inf.AddIndexers(cache.Indexers{controllerIndex: controllerIndexFunc})
	}
	d.rsIdx = inf.GetIndexer()
	enqOwner := func(obj any) {
		if dfs, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = dfs.Obj
		}
		rs, ok := obj.(*appsv1.ReplicaSet)
		if !ok {
			return
		}
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.Kind == "Deployment" {
			d.loop.q.Add(rs.Namespace + "/" + ref.Name)
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: enqOwner, UpdateFunc: func(_, obj any) { enqOwner(obj) }, DeleteFunc: enqOwner,
	})
}

// templateHash hashes a pod template (without its hash label) and the
// collision count.
func templateHash(t *corev1.PodTemplateSpec, collisions *int32) string {
	c := t.DeepCopy()
	delete(c.Labels, labelTemplateHash)
	b, _ := json.Marshal(c)
	h := fnv.New32a()
	_, _ = h.Write(b)
	if collisions != nil {
		_, _ = h.Write([]byte(strconv.Itoa(int(*collisions))))
	}
	return safeEncode(h.Sum32())
}

func sameTemplate(a, b *corev1.PodTemplateSpec) bool {
	x, y := a.DeepCopy(), b.DeepCopy()
	delete(x.Labels, labelTemplateHash)
	delete(y.Labels, labelTemplateHash)
	return equality.Semantic.DeepEqual(x, y)
}

func revisionOf(rs *appsv1.ReplicaSet) int64 {
	v, _ := strconv.ParseInt(rs.Annotations[annRevision], 10, 64)
	return v
}

func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

func (d *deployments) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := cache.SplitMetaNamespaceKey(key)
	dep, err := d.dLister.Deployments(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || dep.DeletionTimestamp != nil {
		return 0, err
	}
	objs, _ := d.rsIdx.ByIndex(controllerIndex, string(dep.UID))
	var newRS *appsv1.ReplicaSet
	var olds []*appsv1.ReplicaSet
	maxRev := int64(0)
	for _, o := range objs {
		rs := o.(*appsv1.ReplicaSet)
		if rs.DeletionTimestamp != nil {
			continue
		}
		maxRev = max(maxRev, revisionOf(rs))
		if newRS == nil && sameTemplate(&rs.Spec.Template, &dep.Spec.Template) {
			newRS = rs
		} else {
			olds = append(olds, rs)
		}
	}
	sort.Slice(olds, func(i, j int) bool { return revisionOf(olds[i]) < revisionOf(olds[j]) })
	replicas := replicasOf(dep.Spec.Replicas)
	surge, unavail := rollingBounds(dep, replicas)

	if newRS == nil {
		newRS, err = d.createRS(ctx, dep, maxRev+1, olds, replicas, surge)
		if err != nil {
			return 0, err
		}
		if newRS == nil {
			return time.Second, nil
		}
	} else if revisionOf(newRS) < maxRev && len(olds) > 0 && revisionOf(newRS) != maxRev {
		// rolled back to an older template: it becomes the newest revision
		if newRS, err = d.setRevision(ctx, newRS, maxRev+1, dep, replicas, surge); err != nil {
			return 0, err
		}
	}
	if dep.Spec.Paused {
		return 0, d.status(ctx, dep, newRS, olds, false)
	}
	if dep.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		err = d.recreate(ctx, dep, newRS, olds, replicas)
	} else {
		err = d.rolling(ctx, dep, newRS, olds, replicas, surge, unavail)
	}
	if err != nil {
		return 0, err
	}
	if err := d.cleanup(ctx, dep, olds); err != nil {
		return 0, err
	}
	return d.progressRequeue(dep), d.status(ctx, dep, newRS, olds, true)
}

// rollingBounds resolves maxSurge (rounded up) and maxUnavailable (rounded
// down); both zero would stall, so unavailable becomes 1.
func rollingBounds(dep *appsv1.Deployment, replicas int32) (int32, int32) {
	if dep.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return 0, replicas
	}
	def := intstr.FromString("25%")
	s, u := &def, &def
	if ru := dep.Spec.Strategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			s = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			u = ru.MaxUnavailable
		}
	}
	surge, _ := intstr.GetScaledValueFromIntOrPercent(s, int(replicas), true)
	unavail, _ := intstr.GetScaledValueFromIntOrPercent(u, int(replicas), false)
	if surge == 0 && unavail == 0 {
		unavail = 1
	}
	return int32(surge), int32(unavail)
}

func (d *deployments) createRS(ctx context.Context, dep *appsv1.Deployment, rev int64, olds []*appsv1.ReplicaSet, replicas, surge int32) (*appsv1.ReplicaSet, error) {
	hash := templateHash(&dep.Spec.Template, dep.Status.CollisionCount)
	tmpl := dep.Spec.Template.DeepCopy()
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[labelTemplateHash] = hash
	sel := dep.Spec.Selector.DeepCopy()
	if sel == nil {
		sel = &metav1.LabelSelector{}
	}
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[labelTemplateHash] = hash
	start := int32(0)
	if len(olds) == 0 || activeReplicas(olds) == 0 {
		start = replicas // nothing to replace: go straight to the size
	}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name: dep.Name + "-" + hash, Namespace: dep.Namespace, Labels: copyMap(tmpl.Labels),
			Annotations: map[string]string{annRevision: strconv.FormatInt(rev, 10),
				annDesiredReplicas: strconv.Itoa(int(replicas)), annMaxReplicas: strconv.Itoa(int(replicas + surge))},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: dep.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: &start, MinReadySeconds: dep.Spec.MinReadySeconds, Selector: sel, Template: *tmpl},
	}
	got, err := d.m.o.Client.AppsV1().ReplicaSets(dep.Namespace).Create(ctx, rs, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// a hash collision with a different template: count it and retry
		cur, gerr := d.m.o.Client.AppsV1().ReplicaSets(dep.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
		if gerr == nil && metav1.IsControlledBy(cur, dep) && sameTemplate(&cur.Spec.Template, &dep.Spec.Template) {
			return nil, nil // our own, not in the cache yet
		}
		upd := dep.DeepCopy()
		n := int32(0)
		if upd.Status.CollisionCount != nil {
			n = *upd.Status.CollisionCount
		}
		n++
		upd.Status.CollisionCount = &n
		_, err = d.m.o.Client.AppsV1().Deployments(dep.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			return nil, err
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if start > 0 {
		// kube-controller-manager says nothing of a replica set created at
		// zero (a rolling update's new set before it may surge).
		d.rec.Eventf(dep, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", got.Name, start)
	}
	return got, nil
}

func (d *deployments) setRevision(ctx context.Context, rs *appsv1.ReplicaSet, rev int64, dep *appsv1.Deployment, replicas, surge int32) (*appsv1.ReplicaSet, error) {
	upd := rs.DeepCopy()
	if upd.Annotations == nil {
		upd.Annotations = map[string]string{}
	}
	upd.Annotations[annRevision] = strconv.FormatInt(rev, 10)
	upd.Annotations[annDesiredReplicas] = strconv.Itoa(int(replicas))
	upd.Annotations[annMaxReplicas] = strconv.Itoa(int(replicas + surge))
	return d.m.o.Client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, upd, metav1.UpdateOptions{})
}

func activeReplicas(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += replicasOf(rs.Spec.Replicas)
	}
	return n
}

func (d *deployments) scale(ctx context.Context, dep *appsv1.Deployment, rs *appsv1.ReplicaSet, to int32, surge int32) (*appsv1.ReplicaSet, error) {
	from := replicasOf(rs.Spec.Replicas)
	desired := strconv.Itoa(int(replicasOf(dep.Spec.Replicas)))
	if from == to && rs.Annotations[annDesiredReplicas] == desired {
		return rs, nil
	}
	upd := rs.DeepCopy()
	upd.Spec.Replicas = &to
	if upd.Annotations == nil {
		upd.Annotations = map[string]string{}
	}
	upd.Annotations[annDesiredReplicas] = desired
	upd.Annotations[annMaxReplicas] = strconv.Itoa(int(replicasOf(dep.Spec.Replicas) + surge))
	got, err := d.m.o.Client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, upd, metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	if from != to {
		dir := "up"
		if to < from {
			dir = "down"
		}
		d.rec.Eventf(dep, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", dir, rs.Name, from, to)
	}
	return got, nil
}

func (d *deployments) rolling(ctx context.Context, dep *appsv1.Deployment, newRS *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet, replicas, surge, unavail int32) error {
	var err error
	oldActive := activeReplicas(olds)
	if oldActive == 0 {
		_, err = d.scale(ctx, dep, newRS, replicas, surge)
		return err
	}
	// scale the new one up within the surge
	total := oldActive + replicasOf(newRS.Spec.Replicas)
	if room := replicas + surge - total; room > 0 && replicasOf(newRS.Spec.Replicas) < replicas {
		to := min(replicasOf(newRS.Spec.Replicas)+room, replicas)
		if newRS, err = d.scale(ctx, dep, newRS, to, surge); err != nil {
			return err
		}
	}
	// scale old ones down within the unavailability budget: first their
	// replicas that are not available anyway, then as many available ones
	// as keep minAvailable
	minAvailable := replicas - unavail
	newSpec := replicasOf(newRS.Spec.Replicas)
	maxDown := oldActive + newSpec - minAvailable - (newSpec - newRS.Status.AvailableReplicas)
	if maxDown <= 0 {
		return nil
	}
	available := newRS.Status.AvailableReplicas
	for _, rs := range olds {
		available += rs.Status.AvailableReplicas
	}
	byAvail := available - minAvailable
	for _, rs := range olds {
		r := replicasOf(rs.Spec.Replicas)
		if r == 0 || maxDown <= 0 {
			continue
		}
		cut := min(max(r-rs.Status.AvailableReplicas, 0), maxDown)
		if extra := min(r-cut, max(byAvail, 0)); extra > 0 {
			cut += extra
			byAvail -= extra
		}
		cut = min(cut, maxDown)
		if cut <= 0 {
			continue
		}
		maxDown -= cut
		if _, err := d.scale(ctx, dep, rs, r-cut, surge); err != nil {
			return err
		}
	}
	return nil
}

func (d *deployments) recreate(ctx context.Context, dep *appsv1.Deployment, newRS *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet, replicas int32) error {
	running := int32(0)
	for _, rs := range olds {
		if replicasOf(rs.Spec.Replicas) > 0 {
			if _, err := d.scale(ctx, dep, rs, 0, 0); err != nil {
				return err
			}
		}
		running += rs.Status.Replicas
	}
	if running > 0 {
		return nil // wait for old pods to go
	}
	_, err := d.scale(ctx, dep, newRS, replicas, 0)
	return err
}

// cleanup deletes the oldest scaled-down ReplicaSets beyond
// revisionHistoryLimit.
func (d *deployments) cleanup(ctx context.Context, dep *appsv1.Deployment, olds []*appsv1.ReplicaSet) error {
	limit := int32(10)
	if dep.Spec.RevisionHistoryLimit != nil {
		limit = *dep.Spec.RevisionHistoryLimit
	}
	var idle []*appsv1.ReplicaSet
	for _, rs := range olds {
		if replicasOf(rs.Spec.Replicas) == 0 && rs.Status.Replicas == 0 {
			idle = append(idle, rs)
		}
	}
	for i := 0; i < len(idle)-int(limit); i++ {
		err := d.m.o.Client.AppsV1().ReplicaSets(dep.Namespace).Delete(ctx, idle[i].Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (d *deployments) progressRequeue(dep *appsv1.Deployment) time.Duration {
	if dep.Spec.ProgressDeadlineSeconds == nil {
		return 0
	}
	return time.Duration(*dep.Spec.ProgressDeadlineSeconds)*time.Second + time.Second
}

func condition(conds []appsv1.DeploymentCondition, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

func (d *deployments) status(ctx context.Context, dep *appsv1.Deployment, newRS *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet, progressing bool) error {
	replicas := replicasOf(dep.Spec.Replicas)
	_, unavail := rollingBounds(dep, replicas)
	st := appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, CollisionCount: dep.Status.CollisionCount}
	all := append([]*appsv1.ReplicaSet{newRS}, olds...)
	for _, rs := range all {
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
	}
	st.UpdatedReplicas = newRS.Status.Replicas
	st.UnavailableReplicas = max(0, max(replicas, st.Replicas)-st.AvailableReplicas)
	if st.Replicas < replicas {
		st.UnavailableReplicas = replicas - st.AvailableReplicas
	}
	st.UnavailableReplicas = max(0, st.UnavailableReplicas)

	now := metav1.NewTime(d.m.o.Clock.Now().Truncate(time.Second))
	conds := append([]appsv1.DeploymentCondition(nil), dep.Status.Conditions...)
	set := func(c appsv1.DeploymentCondition) {
		if old := condition(conds, c.Type); old != nil {
			if old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message {
				return
			}
			c.LastTransitionTime = old.LastTransitionTime
			if old.Status != c.Status {
				c.LastTransitionTime = now
			}
			c.LastUpdateTime = now
			*old = c
			return
		}
		c.LastTransitionTime, c.LastUpdateTime = now, now
		conds = append(conds, c)
	}
	if st.AvailableReplicas >= replicas-unavail {
		set(appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
			Reason: "MinimumReplicasAvailable", Message: "Deployment has minimum availability."})
	} else {
		set(appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse,
			Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability."})
	}
	complete := st.UpdatedReplicas == replicas && st.Replicas == replicas && st.AvailableReplicas == replicas && replicasOf(newRS.Spec.Replicas) == replicas
	if progressing {
		switch {
		case complete:
			set(appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue,
				Reason: "NewReplicaSetAvailable", Message: fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name)})
		default:
			prev := condition(dep.Status.Conditions, appsv1.DeploymentProgressing)
			changed := prev == nil || dep.Status.UpdatedReplicas != st.UpdatedReplicas || dep.Status.AvailableReplicas != st.AvailableReplicas ||
				dep.Status.ObservedGeneration != st.ObservedGeneration || prev.Reason == "NewReplicaSetAvailable"
			deadline := dep.Spec.ProgressDeadlineSeconds
			switch {
			case changed:
				reason, msg := "ReplicaSetUpdated", fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name)
				if prev == nil || prev.Reason == "NewReplicaSetAvailable" && dep.Status.ObservedGeneration != st.ObservedGeneration {
					reason, msg = "NewReplicaSetCreated", fmt.Sprintf("Created new replica set %q", newRS.Name)
				}
				c := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: reason, Message: msg}
				if old := condition(conds, c.Type); old != nil && old.Status == c.Status {
					old.Reason, old.Message, old.LastUpdateTime = reason, msg, now
				} else {
					set(c)
				}
			case deadline != nil && prev.Reason != "ProgressDeadlineExceeded" && now.Sub(prev.LastUpdateTime.Time) > time.Duration(*deadline)*time.Second:
				set(appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
					Reason: "ProgressDeadlineExceeded", Message: fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name)})
			}
		}
	}
	st.Conditions = conds
	if equality.Semantic.DeepEqual(dep.Status, st) && dep.Annotations[annRevision] == newRS.Annotations[annRevision] {
		return nil
	}
	client := d.m.o.Client.AppsV1().Deployments(dep.Namespace)
	cur := dep
	if dep.Annotations[annRevision] != newRS.Annotations[annRevision] {
		upd := dep.DeepCopy()
		if upd.Annotations == nil {
			upd.Annotations = map[string]string{}
		}
		upd.Annotations[annRevision] = newRS.Annotations[annRevision]
		got, err := client.Update(ctx, upd, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		cur = got
	}
	upd := cur.DeepCopy()
	upd.Status = st
	_, err := client.UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	return err
}
