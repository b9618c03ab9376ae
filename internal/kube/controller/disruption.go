package controller

import (
	"context"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
)

// The disruption controller keeps each PodDisruptionBudget's status (the
// pods it covers, how many are healthy, how many must be, and so how many
// may be disrupted), which the pods/eviction subresource reads, so
// `kubectl drain` honours budgets.
//
// Shortcut: the expected pod count is the number of pods the selector
// matches, not the scale of their controllers (upstream reads the
// owners' replicas for percentages and maxUnavailable).

type disruptionController struct {
	m      *Manager
	loop   *loop
	lister policylisters.PodDisruptionBudgetLister
	pods   corelisters.PodLister
}

func (m *Manager) addDisruption() {
	d := &disruptionController{m: m}
	d.loop = m.newLoop("disruption", m.o.Workers, d.sync)
	inf := m.factory.Policy().V1().PodDisruptionBudgets()
	d.lister = inf.Lister()
	_, _ = inf.Informer().AddEventHandler(d.loop.handler())
	pods := m.factory.Core().V1().Pods()
	d.pods = pods.Lister()
	podEvent := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		pdbs, _ := d.lister.PodDisruptionBudgets(pod.Namespace).List(labels.Everything())
		for _, pdb := range pdbs {
			if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
				d.loop.enqueue(pdb)
			}
		}
	}
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: podEvent, DeleteFunc: podEvent,
		UpdateFunc: func(_, obj any) { podEvent(obj) }})
}

func (d *disruptionController) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	pdb, err := d.lister.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return 0, nil
	}
	var pods []*corev1.Pod
	if !sel.Empty() {
		if pods, err = d.pods.Pods(ns).List(sel); err != nil {
			return 0, err
		}
	}
	st := pdb.Status.DeepCopy()
	st.ObservedGeneration = pdb.Generation
	st.ExpectedPods, st.CurrentHealthy = 0, 0
	for _, p := range pods {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		st.ExpectedPods++
		if ok, _ := podReady(p); ok {
			st.CurrentHealthy++
		}
	}
	switch {
	case pdb.Spec.MinAvailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(st.ExpectedPods), true)
		if err != nil {
			return 0, nil
		}
		st.DesiredHealthy = int32(v)
	case pdb.Spec.MaxUnavailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(st.ExpectedPods), true)
		if err != nil {
			return 0, nil
		}
		st.DesiredHealthy = max(st.ExpectedPods-int32(v), 0)
	}
	// Pods the eviction subresource just let go count until their delete
	// shows (upstream's DisruptedPods, with its two-minute timeout).
	now := d.m.o.Clock.Now()
	pending := int32(0)
	for podName, at := range st.DisruptedPods {
		if now.Sub(at.Time) > 2*time.Minute {
			delete(st.DisruptedPods, podName)
			continue
		}
		if p, err := d.pods.Pods(ns).Get(podName); err == nil && p.DeletionTimestamp == nil {
			pending++
		} else {
			delete(st.DisruptedPods, podName)
		}
	}
	st.DisruptionsAllowed = max(st.CurrentHealthy-pending-st.DesiredHealthy, 0)
	cond := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionTrue, Reason: policyv1.SufficientPodsReason,
		ObservedGeneration: pdb.Generation, LastTransitionTime: metav1.NewTime(now)}
	if st.DisruptionsAllowed == 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, policyv1.InsufficientPodsReason
	}
	setMetaCondition(&st.Conditions, cond)
	if equality.Semantic.DeepEqual(st, &pdb.Status) {
		return 0, nil
	}
	upd := pdb.DeepCopy()
	upd.Status = *st
	_, err = d.m.o.Client.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		d.loop.q.Add(key)
		return 0, nil
	}
	return 0, err
}

// setMetaCondition sets c in conds, keeping its transition time when its
// status did not change.
func setMetaCondition(conds *[]metav1.Condition, c metav1.Condition) {
	for i := range *conds {
		old := &(*conds)[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return
	}
	*conds = append(*conds, c)
}
