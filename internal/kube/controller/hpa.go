package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// The horizontal-pod-autoscaler controller scales Deployments,
// ReplicaSets, StatefulSets and ReplicationControllers on the Resource
// metrics (cpu, memory; Utilization or AverageValue targets) of
// metrics.k8s.io, as kube-controller-manager does every sync period
// (15 s):
//   - per metric, the usage ratio of the ready pods that have metrics
//     against the target; within the 10% tolerance nothing changes,
//     else the proposal is ceil(ratio × those pods);
//   - the largest proposal across metrics, held within min and max
//     replicas and the scale-up and scale-down rate policies, and, for a
//     scale down, the highest recommendation of the stabilization window
//     (default 300 s);
//   - status (current metrics, replicas, conditions AbleToScale,
//     ScalingActive, ScalingLimited) and a SuccessfulRescale event.
//
// Shortcuts: Pods, Object, External and ContainerResource metrics make
// ScalingActive False (no custom or external metrics API); pods missing
// metrics or not ready are left out of the ratio rather than assumed at
// 0% or 100% as upstream does; other scale targets than the four kinds
// above are not supported.

const (
	hpaComponent = "horizontal-pod-autoscaler"
	hpaTolerance = 0.1
)

type hpaController struct {
	m      *Manager
	loop   *loop
	lister autoscalinglisters.HorizontalPodAutoscalerLister
	pods   corelisters.PodLister
	rec    record.EventRecorder
	period time.Duration

	mu   sync.Mutex
	recs map[string][]timedReplicas // recommendations, for stabilization
	// scale events, for the rate policies
	events map[string][]timedReplicas
}

type timedReplicas struct {
	at       time.Time
	replicas int32
}

func (m *Manager) addHPA() {
	h := &hpaController{m: m, rec: m.recorder(hpaComponent), period: m.o.HPASyncPeriod,
		recs: map[string][]timedReplicas{}, events: map[string][]timedReplicas{}}
	if h.period <= 0 {
		h.period = 15 * time.Second
	}
	h.loop = m.newLoop("horizontalpodautoscaler", 2, h.sync)
	inf := m.factory.Autoscaling().V2().HorizontalPodAutoscalers()
	h.lister = inf.Lister()
	// Each autoscaler syncs once a period (the sync asks to come back);
	// its own status writes do not bring it back sooner, a spec change does.
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: h.loop.enqueue,
		UpdateFunc: func(old, obj any) {
			o, n := old.(*autoscalingv2.HorizontalPodAutoscaler), obj.(*autoscalingv2.HorizontalPodAutoscaler)
			if o.Generation != n.Generation {
				h.loop.enqueue(obj)
			}
		},
		DeleteFunc: h.loop.enqueue,
	})
	h.pods = m.factory.Core().V1().Pods().Lister()
}

// scaleOf reads the target's scale subresource.
func (h *hpaController) scaleOf(ctx context.Context, ns string, ref autoscalingv2.CrossVersionObjectReference) (*autoscalingv1.Scale, error) {
	c := h.m.o.Client
	switch ref.Kind {
	case "Deployment":
		return c.AppsV1().Deployments(ns).GetScale(ctx, ref.Name, metav1.GetOptions{})
	case "ReplicaSet":
		return c.AppsV1().ReplicaSets(ns).GetScale(ctx, ref.Name, metav1.GetOptions{})
	case "StatefulSet":
		return c.AppsV1().StatefulSets(ns).GetScale(ctx, ref.Name, metav1.GetOptions{})
	case "ReplicationController":
		return c.CoreV1().ReplicationControllers(ns).GetScale(ctx, ref.Name, metav1.GetOptions{})
	}
	return nil, fmt.Errorf("unsupported scale target kind %q", ref.Kind)
}

func (h *hpaController) updateScale(ctx context.Context, ns string, ref autoscalingv2.CrossVersionObjectReference, s *autoscalingv1.Scale) error {
	c := h.m.o.Client
	var err error
	switch ref.Kind {
	case "Deployment":
		_, err = c.AppsV1().Deployments(ns).UpdateScale(ctx, ref.Name, s, metav1.UpdateOptions{})
	case "ReplicaSet":
		_, err = c.AppsV1().ReplicaSets(ns).UpdateScale(ctx, ref.Name, s, metav1.UpdateOptions{})
	case "StatefulSet":
		_, err = c.AppsV1().StatefulSets(ns).UpdateScale(ctx, ref.Name, s, metav1.UpdateOptions{})
	case "ReplicationController":
		_, err = c.CoreV1().ReplicationControllers(ns).UpdateScale(ctx, ref.Name, s, metav1.UpdateOptions{})
	}
	return err
}

// podUsage is one pod's summed container usage, by resource.
type podUsage map[corev1.ResourceName]int64 // milli-units

// podMetrics asks metrics.k8s.io for the pods of sel.
func (h *hpaController) podMetrics(ctx context.Context, ns string, sel labels.Selector) (map[string]podUsage, error) {
	raw, err := h.m.o.Client.Discovery().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces/"+ns+"/pods").
		Param("labelSelector", sel.String()).SetHeader("Accept", "application/json").Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []struct {
			Metadata   metav1.ObjectMeta `json:"metadata"`
			Containers []struct {
				Usage corev1.ResourceList `json:"usage"`
			} `json:"containers"`
		} `json:"items"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	out := make(map[string]podUsage, len(list.Items))
	for _, it := range list.Items {
		u := podUsage{}
		for _, c := range it.Containers {
			for n, q := range c.Usage {
				u[n] += q.MilliValue()
			}
		}
		out[it.Metadata.Name] = u
	}
	return out, nil
}

func podRequest(p *corev1.Pod, r corev1.ResourceName) (int64, bool) {
	var sum int64
	for _, c := range p.Spec.Containers {
		q, ok := c.Resources.Requests[r]
		if !ok {
			return 0, false
		}
		sum += q.MilliValue()
	}
	return sum, true
}

func (h *hpaController) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	hpa, err := h.lister.HorizontalPodAutoscalers(ns).Get(name)
	if apierrors.IsNotFound(err) {
		h.mu.Lock()
		delete(h.recs, key)
		delete(h.events, key)
		h.mu.Unlock()
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := h.m.o.Clock.Now()
	st := hpa.Status.DeepCopy()
	ref := hpa.Spec.ScaleTargetRef
	scale, err := h.scaleOf(ctx, ns, ref)
	if err != nil {
		h.rec.Eventf(hpa, corev1.EventTypeWarning, "FailedGetScale", "%v", err)
		setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale", "the HPA controller was unable to get the target's current scale: %v", err)
		return h.period, h.writeStatus(ctx, hpa, st)
	}
	setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
	current := scale.Spec.Replicas
	st.CurrentReplicas = scale.Status.Replicas
	minR := ptr.Deref(hpa.Spec.MinReplicas, 1)
	desired := current
	var metricName string
	switch {
	case current == 0 && minR != 0:
		// scaling is off for a target scaled to zero
		setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
		st.DesiredReplicas = 0
		return h.period, h.writeStatus(ctx, hpa, st)
	default:
		proposal, metrics, mname, err := h.compute(ctx, hpa, scale, current)
		if err != nil {
			h.rec.Eventf(hpa, corev1.EventTypeWarning, "FailedGetResourceMetric", "%v", err)
			setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "FailedGetResourceMetric", "the HPA was unable to compute the replica count: %v", err)
			st.CurrentMetrics = nil
			st.DesiredReplicas = current
			return h.period, h.writeStatus(ctx, hpa, st)
		}
		setHPACondition(st, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound",
			"the HPA was able to successfully calculate a replica count from %s", mname)
		st.CurrentMetrics = metrics
		desired, metricName = proposal, mname
	}
	desired = h.stabilize(key, hpa, now, current, desired)
	limited := desired
	switch {
	case desired > hpa.Spec.MaxReplicas:
		limited = hpa.Spec.MaxReplicas
		setHPACondition(st, autoscalingv2.ScalingLimited, corev1.ConditionTrue, "TooManyReplicas", "the desired replica count is more than the maximum replica count")
	case desired < minR:
		limited = minR
		setHPACondition(st, autoscalingv2.ScalingLimited, corev1.ConditionTrue, "TooFewReplicas", "the desired replica count is less than the minimum replica count")
	default:
		setHPACondition(st, autoscalingv2.ScalingLimited, corev1.ConditionFalse, "DesiredWithinRange", "the desired count is within the acceptable range")
	}
	limited = h.ratePolicies(key, hpa, now, current, limited)
	st.DesiredReplicas = limited
	if limited != current {
		scale.Spec.Replicas = limited
		if err := h.updateScale(ctx, ns, ref, scale); err != nil {
			h.rec.Eventf(hpa, corev1.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", limited, rescaleReason(metricName, limited > current), err)
			setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale", "the HPA controller was unable to update the target scale: %v", err)
			return h.period, h.writeStatus(ctx, hpa, st)
		}
		setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale", "the HPA controller was able to update the target scale to %d", limited)
		h.rec.Eventf(hpa, corev1.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", limited, rescaleReason(metricName, limited > current))
		st.LastScaleTime = ptr.To(metav1.NewTime(now.Truncate(time.Second)))
		h.mu.Lock()
		h.events[key] = append(h.events[key], timedReplicas{at: now, replicas: limited - current})
		h.mu.Unlock()
	} else {
		setHPACondition(st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", "recommended size matches current size")
	}
	st.ObservedGeneration = ptr.To(hpa.Generation)
	return h.period, h.writeStatus(ctx, hpa, st)
}

func rescaleReason(metric string, up bool) string {
	dir := "below"
	if up {
		dir = "above"
	}
	if metric == "" {
		return "All metrics " + dir + " target"
	}
	return metric + " " + dir + " target"
}

// compute is the largest replica proposal across hpa's metrics, the
// current metrics for status, and the name of the metric that decided.
func (h *hpaController) compute(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, scale *autoscalingv1.Scale, current int32) (int32, []autoscalingv2.MetricStatus, string, error) {
	sel, err := labels.Parse(scale.Status.Selector)
	if err != nil || scale.Status.Selector == "" {
		return 0, nil, "", fmt.Errorf("the scale target has no valid selector %q", scale.Status.Selector)
	}
	usage, err := h.podMetrics(ctx, hpa.Namespace, sel)
	if err != nil {
		return 0, nil, "", fmt.Errorf("unable to get metrics for resource: unable to fetch metrics from resource metrics API: %v", err)
	}
	pods, err := h.pods.Pods(hpa.Namespace).List(sel)
	if err != nil {
		return 0, nil, "", err
	}
	best, bestName := int32(-1), ""
	var statuses []autoscalingv2.MetricStatus
	for _, m := range hpa.Spec.Metrics {
		if m.Type != autoscalingv2.ResourceMetricSourceType || m.Resource == nil {
			return 0, nil, "", fmt.Errorf("metric type %s is not supported (no custom or external metrics API)", m.Type)
		}
		res := m.Resource.Name
		var used, requested int64
		n := 0
		for _, p := range pods {
			u, ok := usage[p.Name]
			if !ok || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
				continue
			}
			if ready, _ := podReady(p); !ready {
				continue
			}
			req, ok := podRequest(p, res)
			if m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && !ok {
				return 0, nil, "", fmt.Errorf("failed to get %s utilization: missing request for %s in container of Pod %s", res, res, p.Name)
			}
			used += u[res]
			requested += req
			n++
		}
		if n == 0 {
			return 0, nil, "", fmt.Errorf("failed to get %s utilization: unable to get metrics for resource %s: no metrics returned from resource metrics API", res, res)
		}
		var ratio float64
		cur := autoscalingv2.MetricValueStatus{AverageValue: milliQuantity(used/int64(n), res)}
		switch m.Resource.Target.Type {
		case autoscalingv2.UtilizationMetricType:
			util := int32(used * 100 / max(requested, 1))
			cur.AverageUtilization = ptr.To(util)
			ratio = float64(util) / float64(ptr.Deref(m.Resource.Target.AverageUtilization, 80))
		case autoscalingv2.AverageValueMetricType:
			target := m.Resource.Target.AverageValue
			if target == nil || target.MilliValue() == 0 {
				return 0, nil, "", fmt.Errorf("invalid target average value for %s", res)
			}
			ratio = float64(used/int64(n)) / float64(target.MilliValue())
		default:
			return 0, nil, "", fmt.Errorf("target type %s is not supported for resource metrics", m.Resource.Target.Type)
		}
		statuses = append(statuses, autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: res, Current: cur}})
		proposal := current
		if math.Abs(ratio-1) > hpaTolerance {
			proposal = int32(math.Ceil(ratio * float64(n)))
		}
		if proposal > best {
			kind := "resource utilization (percentage of request)"
			if m.Resource.Target.Type == autoscalingv2.AverageValueMetricType {
				kind = "resource"
			}
			best, bestName = proposal, fmt.Sprintf("%s %s", res, kind)
		}
	}
	return best, statuses, bestName, nil
}

func milliQuantity(milli int64, res corev1.ResourceName) *resource.Quantity {
	if res == corev1.ResourceCPU {
		return resource.NewMilliQuantity(milli, resource.DecimalSI)
	}
	return resource.NewQuantity(milli/1000, resource.BinarySI)
}

// stabilize keeps desired's recommendation and, for a scale down, returns
// the highest recommendation of the window (a scale up uses the lowest
// of its window, 0 s by default).
func (h *hpaController) stabilize(key string, hpa *autoscalingv2.HorizontalPodAutoscaler, now time.Time, current, desired int32) int32 {
	upWin, downWin := int32(0), int32(300)
	if b := hpa.Spec.Behavior; b != nil {
		if b.ScaleUp != nil && b.ScaleUp.StabilizationWindowSeconds != nil {
			upWin = *b.ScaleUp.StabilizationWindowSeconds
		}
		if b.ScaleDown != nil && b.ScaleDown.StabilizationWindowSeconds != nil {
			downWin = *b.ScaleDown.StabilizationWindowSeconds
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	keep := time.Duration(max(upWin, downWin)) * time.Second
	recs := h.recs[key][:0]
	for _, r := range h.recs[key] {
		if now.Sub(r.at) <= keep {
			recs = append(recs, r)
		}
	}
	recs = append(recs, timedReplicas{at: now, replicas: desired})
	h.recs[key] = recs
	upRec, downRec := desired, desired
	for _, r := range recs {
		age := now.Sub(r.at)
		if age <= time.Duration(upWin)*time.Second {
			upRec = min(upRec, r.replicas)
		}
		if age <= time.Duration(downWin)*time.Second {
			downRec = max(downRec, r.replicas)
		}
	}
	switch {
	case desired > current:
		return max(upRec, current)
	case desired < current:
		return min(downRec, current)
	}
	return current
}

// ratePolicies holds a change within the behavior's policies (defaults:
// up by max(4 pods, 100%) per 15 s, down by 100% per 15 s).
func (h *hpaController) ratePolicies(key string, hpa *autoscalingv2.HorizontalPodAutoscaler, now time.Time, current, desired int32) int32 {
	if desired == current {
		return desired
	}
	up := desired > current
	rules := &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}, {Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
	if !up {
		rules = &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
	}
	if b := hpa.Spec.Behavior; b != nil {
		if up && b.ScaleUp != nil {
			rules = b.ScaleUp
		} else if !up && b.ScaleDown != nil {
			rules = b.ScaleDown
		}
	}
	if ptr.Deref(rules.SelectPolicy, autoscalingv2.MaxChangePolicySelect) == autoscalingv2.DisabledPolicySelect {
		return current
	}
	h.mu.Lock()
	evs := h.events[key]
	h.mu.Unlock()
	// replicas added (or removed) within a period, to find where it began
	changedWithin := func(period int32) int32 {
		var sum int32
		for _, e := range evs {
			if now.Sub(e.at) < time.Duration(period)*time.Second && (e.replicas > 0) == up {
				sum += e.replicas
			}
		}
		return sum
	}
	limit := int32(-1)
	minPolicy := ptr.Deref(rules.SelectPolicy, autoscalingv2.MaxChangePolicySelect) == autoscalingv2.MinChangePolicySelect
	for _, p := range rules.Policies {
		start := current - changedWithin(p.PeriodSeconds)
		var l int32
		switch {
		case up && p.Type == autoscalingv2.PodsScalingPolicy:
			l = start + p.Value
		case up:
			l = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		case p.Type == autoscalingv2.PodsScalingPolicy:
			l = start - p.Value
		default:
			l = int32(math.Ceil(float64(start) * (1 - float64(p.Value)/100)))
		}
		switch {
		case limit < 0:
			limit = l
		case up != minPolicy:
			limit = max(limit, l)
		default:
			limit = min(limit, l)
		}
	}
	if limit < 0 {
		return desired
	}
	if up {
		return min(desired, limit)
	}
	return max(desired, limit)
}

func setHPACondition(st *autoscalingv2.HorizontalPodAutoscalerStatus, t autoscalingv2.HorizontalPodAutoscalerConditionType, s corev1.ConditionStatus, reason, format string, args ...any) {
	c := autoscalingv2.HorizontalPodAutoscalerCondition{Type: t, Status: s, Reason: reason, Message: fmt.Sprintf(format, args...),
		LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second))}
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			if st.Conditions[i].Status == s {
				c.LastTransitionTime = st.Conditions[i].LastTransitionTime
			}
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

func (h *hpaController) writeStatus(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, st *autoscalingv2.HorizontalPodAutoscalerStatus) error {
	if equality.Semantic.DeepEqual(st, &hpa.Status) {
		return nil
	}
	upd := hpa.DeepCopy()
	upd.Status = *st
	_, err := h.m.o.Client.AutoscalingV2().HorizontalPodAutoscalers(hpa.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{})
	return ignoreGone(err)
}
