package controller

import (
	"context"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// The daemonset controller runs one pod of a DaemonSet on every node that
// should run it (node selector and required node affinity match, taints
// tolerated, with the tolerations kube-controller-manager adds to every
// daemon pod), follows nodes as they come and go, replaces failed pods,
// rolls a changed template out under RollingUpdate's maxUnavailable, and
// writes the status counters kubectl reads.
//
// Shortcuts: pods are created already bound (spec.nodeName) besides the
// upstream node affinity on metadata.name, rather than placed by the
// scheduler; maxSurge is not honoured. Revisions are ControllerRevisions
// (history.go), so `kubectl rollout history` and `undo` work.

const daemonSetComponent = "daemonset-controller"

type daemonSetController struct {
	m      *Manager
	loop   *loop
	lister appslisters.DaemonSetLister
	nodes  corelisters.NodeLister
	podIdx cache.Indexer
	rec    record.EventRecorder
	exp    *expectations
}

func (m *Manager) addDaemonSet() {
	d := &daemonSetController{m: m, rec: m.recorder(daemonSetComponent), exp: &expectations{m: map[string]*expect{}}}
	d.loop = m.newLoop("daemonset", m.o.Workers, d.sync)
	inf := m.factory.Apps().V1().DaemonSets()
	d.lister = inf.Lister()
	_, _ = inf.Informer().AddEventHandler(d.loop.handler())
	nodes := m.factory.Core().V1().Nodes()
	d.nodes = nodes.Lister()
	all := func(any) {
		dss, _ := d.lister.List(labels.Everything())
		for _, ds := range dss {
			d.loop.enqueue(ds)
		}
	}
	_, _ = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: all, DeleteFunc: all,
		UpdateFunc: func(old, cur any) {
			o, n := old.(*corev1.Node), cur.(*corev1.Node)
			if o.Spec.Unschedulable != n.Spec.Unschedulable || !labels.Equals(o.Labels, n.Labels) || len(o.Spec.Taints) != len(n.Spec.Taints) || nodeReadyChanged(o, n) {
				all(cur)
			}
		}})
	pods := m.podInformerWithIndex()
	d.podIdx = pods.GetIndexer()
	podEvent := func(obj any, added, deleted bool) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		pod, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil || ref.Kind != "DaemonSet" {
			return
		}
		key := pod.Namespace + "/" + ref.Name
		if added {
			d.exp.observe(key, true)
		} else if deleted {
			d.exp.observe(key, false)
		}
		d.loop.q.Add(key)
	}
	_, _ = pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { podEvent(obj, true, false) },
		UpdateFunc: func(_, obj any) { podEvent(obj, false, false) },
		DeleteFunc: func(obj any) { podEvent(obj, false, true) },
	})
}

func nodeReadyChanged(a, b *corev1.Node) bool {
	ready := func(n *corev1.Node) corev1.ConditionStatus {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status
			}
		}
		return ""
	}
	return ready(a) != ready(b)
}

// daemonTolerations are the tolerations the real controller adds to every
// daemon pod (AddOrUpdateDaemonPodTolerations).
func daemonTolerations(spec *corev1.PodSpec) {
	add := func(key string, effect corev1.TaintEffect) {
		for _, t := range spec.Tolerations {
			if t.Key == key && t.Effect == effect && t.Operator == corev1.TolerationOpExists {
				return
			}
		}
		spec.Tolerations = append(spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect})
	}
	add(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)
	if spec.HostNetwork {
		add(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)
	}
}

// shouldRun reports whether a daemon pod belongs on node: the template's
// node selector and required affinity match, and every NoSchedule and
// NoExecute taint is tolerated.
func shouldRun(ds *appsv1.DaemonSet, node *corev1.Node) bool {
	pod := &corev1.Pod{Spec: *ds.Spec.Template.Spec.DeepCopy()}
	daemonTolerations(&pod.Spec)
	if ok, _ := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); !ok {
		return false
	}
	_, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), node.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}, false)
	return !untolerated
}

func (d *daemonSetController) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	ds, err := d.lister.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		d.exp.forget(key)
		return 0, nil
	}
	if err != nil || ds.DeletionTimestamp != nil {
		return 0, err
	}
	nodes, err := d.nodes.List(labels.Everything())
	if err != nil {
		return 0, err
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return 0, err
	}
	byNode := map[string][]*corev1.Pod{}
	used := map[string]bool{} // revision hashes of live pods
	objs, _ := d.podIdx.ByIndex(controllerIndex, string(ds.UID))
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if p.Namespace == ds.Namespace && sel.Matches(labels.Set(p.Labels)) && p.DeletionTimestamp == nil {
			byNode[p.Spec.NodeName] = append(byNode[p.Spec.NodeName], p)
			used[p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] = true
		}
	}
	cur, err := d.m.history().current(ctx, revisionSpec{owner: ds, kind: "DaemonSet", selector: sel, template: &ds.Spec.Template,
		hashLabel: appsv1.DefaultDaemonSetUniqueLabelKey, collisions: ds.Status.CollisionCount, limit: deref32(ds.Spec.RevisionHistoryLimit, 10),
		inUse: func(r *appsv1.ControllerRevision) bool { return used[r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] }})
	if err != nil {
		return 0, err
	}
	hash := cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	var create []string
	var remove []*corev1.Pod
	var st appsv1.DaemonSetStatus
	var oldReady []*corev1.Pod
	unavailable := 0
	nodeNames := map[string]bool{}
	for _, node := range nodes {
		nodeNames[node.Name] = true
		pods := byNode[node.Name]
		run := shouldRun(ds, node)
		if run {
			st.DesiredNumberScheduled++
		}
		var live []*corev1.Pod
		for _, p := range pods {
			if p.Status.Phase == corev1.PodFailed {
				remove = append(remove, p) // replaced by a new one
				continue
			}
			live = append(live, p)
		}
		switch {
		case !run:
			st.NumberMisscheduled += int32(len(live))
			remove = append(remove, live...)
			continue
		case len(live) == 0:
			create = append(create, node.Name)
			unavailable++
			continue
		case len(live) > 1:
			remove = append(remove, live[1:]...)
		}
		p := live[0]
		st.CurrentNumberScheduled++
		ready, _ := podReady(p)
		if ready {
			st.NumberReady++
			st.NumberAvailable++
		} else {
			unavailable++
		}
		if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
			st.UpdatedNumberScheduled++
		} else if ready {
			oldReady = append(oldReady, p)
		}
	}
	for n, pods := range byNode { // pods on nodes that are gone
		if !nodeNames[n] {
			remove = append(remove, pods...)
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	// Rolling update: replace old pods while fewer than maxUnavailable are down.
	if ds.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType && len(oldReady) > 0 {
		maxUn := 1
		if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
			v, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, int(st.DesiredNumberScheduled), true)
			if err == nil {
				maxUn = max(v, 1)
			}
		}
		for _, p := range oldReady {
			if unavailable >= maxUn {
				break
			}
			remove = append(remove, p)
			unavailable++
		}
	}
	if d.exp.satisfied(key) && (len(create) > 0 || len(remove) > 0) {
		if err := d.manage(ctx, ds, key, hash, create, remove); err != nil {
			return 0, err
		}
	}
	st.ObservedGeneration = ds.Generation
	st.CollisionCount = ds.Status.CollisionCount
	st.Conditions = ds.Status.Conditions
	if !equality.Semantic.DeepEqual(&st, &ds.Status) {
		upd := ds.DeepCopy()
		upd.Status = st
		if _, err := d.m.o.Client.AppsV1().DaemonSets(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return 0, err
		}
	}
	return 0, nil
}

func (d *daemonSetController) manage(ctx context.Context, ds *appsv1.DaemonSet, key, hash string, create []string, remove []*corev1.Pod) error {
	create = create[:min(len(create), burstReplicas)]
	d.exp.set(key, int64(len(create)), int64(len(remove)))
	for _, p := range remove {
		err := d.m.o.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			d.exp.observe(key, false)
			return err
		}
		if apierrors.IsNotFound(err) {
			d.exp.observe(key, false)
		}
		d.rec.Eventf(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
	}
	for i, node := range create {
		pod := newDaemonPod(ds, node, hash)
		created, err := d.m.o.Client.CoreV1().Pods(ds.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			for range len(create) - i {
				d.exp.observe(key, true)
			}
			d.rec.Eventf(ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			return err
		}
		d.rec.Eventf(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", created.Name)
	}
	return nil
}

func newDaemonPod(ds *appsv1.DaemonSet, node, hash string) *corev1.Pod {
	t := &ds.Spec.Template
	lbl := copyMap(t.Labels)
	if lbl == nil {
		lbl = map[string]string{}
	}
	lbl[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	lbl["pod-template-generation"] = strconv.FormatInt(ds.Generation, 10)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: ds.Name + "-", Namespace: ds.Namespace, Labels: lbl, Annotations: copyMap(t.Annotations),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: *t.Spec.DeepCopy(),
	}
	daemonTolerations(&pod.Spec)
	// As upstream: the pod is tied to its node by affinity on metadata.name.
	if pod.Spec.Affinity == nil {
		pod.Spec.Affinity = &corev1.Affinity{}
	}
	pod.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{
			Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}}}}
	pod.Spec.NodeName = node // shortcut: bound at creation, not by the scheduler
	return pod
}
