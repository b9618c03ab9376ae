package controller

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

// The statefulset controller keeps pods <name>-0 … <name>-(N-1), each with
// its hostname and the governing Service as subdomain (so its DNS name is
// <pod>.<serviceName>), and a claim per volumeClaimTemplate named
// <template>-<pod>. With OrderedReady it creates them one at a time in
// order, each once the one before is Running and Ready, and removes them
// from the highest ordinal down; with Parallel it does both at once. A
// changed template rolls out from the highest ordinal down to the
// partition, one pod at a time, each after the pods below it are Ready.
//
// Revisions are ControllerRevisions (history.go); a pod's
// controller-revision-hash label is its revision's name, as upstream.
// Shortcuts: claims are bound by the persistentvolume controller;
// persistentVolumeClaimRetentionPolicy is not applied (claims stay,
// upstream's default Retain); minReadySeconds counts as 0.

const (
	statefulSetComponent  = "statefulset-controller"
	statefulSetPodName    = "statefulset.kubernetes.io/pod-name"
	statefulSetPodIndex   = "apps.kubernetes.io/pod-index"
	statefulSetRevisionLb = appsv1.ControllerRevisionHashLabelKey
)

type statefulSetController struct {
	m      *Manager
	loop   *loop
	lister appslisters.StatefulSetLister
	podIdx cache.Indexer
	rec    record.EventRecorder
}

func (m *Manager) addStatefulSet() {
	s := &statefulSetController{m: m, rec: m.recorder(statefulSetComponent)}
	s.loop = m.newLoop("statefulset", m.o.Workers, s.sync)
	inf := m.factory.Apps().V1().StatefulSets()
	s.lister = inf.Lister()
	_, _ = inf.Informer().AddEventHandler(s.loop.handler())
	pods := m.podInformerWithIndex()
	s.podIdx = pods.GetIndexer()
	podEvent := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			if ref := metav1.GetControllerOfNoCopy(pod); ref != nil && ref.Kind == "StatefulSet" {
				s.loop.q.Add(pod.Namespace + "/" + ref.Name)
			}
		}
	}
	_, _ = pods.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: podEvent, DeleteFunc: podEvent,
		UpdateFunc: func(_, obj any) { podEvent(obj) }})
}

func ordinalOf(set *appsv1.StatefulSet, pod *corev1.Pod) (int, bool) {
	rest, ok := strings.CutPrefix(pod.Name, set.Name+"-")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil && i >= 0
}

func (s *statefulSetController) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	set, err := s.lister.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || set.DeletionTimestamp != nil {
		return 0, err
	}
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		return 0, err
	}
	replicas := int(deref32(set.Spec.Replicas, 1))
	start := 0
	if o := set.Spec.Ordinals; o != nil {
		start = int(o.Start)
	}
	used := map[string]bool{set.Status.CurrentRevision: true} // revisions pods use
	pods := map[int]*corev1.Pod{}
	var extra []*corev1.Pod // beyond the wanted ordinals
	objs, _ := s.podIdx.ByIndex(controllerIndex, string(set.UID))
	for _, o := range objs {
		p := o.(*corev1.Pod)
		i, ok := ordinalOf(set, p)
		if p.Namespace != set.Namespace || !ok || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		used[p.Labels[statefulSetRevisionLb]] = true
		if i < start || i >= start+replicas {
			extra = append(extra, p)
			continue
		}
		pods[i] = p
	}
	cur, err := s.m.history().current(ctx, revisionSpec{owner: set, kind: "StatefulSet", selector: sel, template: &set.Spec.Template,
		hashLabel: "controller.kubernetes.io/hash", collisions: set.Status.CollisionCount, limit: deref32(set.Spec.RevisionHistoryLimit, 10),
		inUse: func(r *appsv1.ControllerRevision) bool { return used[r.Name] }})
	if err != nil {
		return 0, err
	}
	hash := cur.Name // pods carry the revision's name
	parallel := set.Spec.PodManagementPolicy == appsv1.ParallelPodManagement
	st := appsv1.StatefulSetStatus{ObservedGeneration: set.Generation, CollisionCount: set.Status.CollisionCount,
		Conditions: set.Status.Conditions, UpdateRevision: hash, CurrentRevision: set.Status.CurrentRevision}
	// Create what is missing (failed pods are deleted and come back).
	acted := false
	for i := start; i < start+replicas; i++ {
		p := pods[i]
		if p != nil && p.Status.Phase == corev1.PodFailed && p.DeletionTimestamp == nil {
			if err := s.deletePod(ctx, set, p); err != nil {
				return 0, err
			}
			acted = true
			if !parallel {
				break
			}
			continue
		}
		if p == nil {
			if err := s.createPod(ctx, set, i, hash); err != nil {
				return 0, err
			}
			acted = true
			if !parallel {
				break
			}
			continue
		}
		if ready, _ := podReady(p); !parallel && (!ready || p.DeletionTimestamp != nil) {
			break // OrderedReady: wait for this one
		}
	}
	// Scale down: the highest ordinal first (all at once when Parallel).
	sort.Slice(extra, func(a, b int) bool {
		x, _ := ordinalOf(set, extra[a])
		y, _ := ordinalOf(set, extra[b])
		return x > y
	})
	if !acted {
		for _, p := range extra {
			if p.DeletionTimestamp != nil {
				if !parallel {
					break
				}
				continue
			}
			if err := s.deletePod(ctx, set, p); err != nil {
				return 0, err
			}
			acted = true
			if !parallel {
				break
			}
		}
	}
	// Rolling update, from the highest ordinal to the partition.
	allReady := true
	for i := start; i < start+replicas; i++ {
		p := pods[i]
		if p == nil {
			allReady = false
			continue
		}
		st.Replicas++
		ready, _ := podReady(p)
		if ready {
			st.ReadyReplicas++
			st.AvailableReplicas++
		} else {
			allReady = false
		}
		if p.Labels[statefulSetRevisionLb] == hash {
			st.UpdatedReplicas++
		} else {
			st.CurrentReplicas++
		}
	}
	if !acted && allReady && set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType {
		partition := 0
		if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
			partition = int(*ru.Partition)
		}
		for i := start + replicas - 1; i >= start+partition; i-- {
			if p := pods[i]; p != nil && p.Labels[statefulSetRevisionLb] != hash {
				if err := s.deletePod(ctx, set, p); err != nil {
					return 0, err
				}
				break
			}
		}
	}
	if st.UpdatedReplicas == st.Replicas && int(st.Replicas) == replicas {
		st.CurrentRevision, st.CurrentReplicas = st.UpdateRevision, st.UpdatedReplicas
	} else if st.CurrentRevision == "" {
		st.CurrentRevision = st.UpdateRevision
	}
	if !equality.Semantic.DeepEqual(&st, &set.Status) {
		upd := set.DeepCopy()
		upd.Status = st
		if _, err := s.m.o.Client.AppsV1().StatefulSets(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return 0, err
		}
	}
	return 0, nil
}

func (s *statefulSetController) deletePod(ctx context.Context, set *appsv1.StatefulSet, p *corev1.Pod) error {
	err := s.m.o.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return err
	}
	s.rec.Eventf(set, corev1.EventTypeNormal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", p.Name, set.Name)
	return nil
}

func (s *statefulSetController) createPod(ctx context.Context, set *appsv1.StatefulSet, ordinal int, hash string) error {
	pod := newStatefulPod(set, ordinal, hash)
	for _, tpl := range set.Spec.VolumeClaimTemplates {
		claim := tpl.DeepCopy()
		claim.Name = tpl.Name + "-" + pod.Name
		claim.Namespace = set.Namespace
		claim.ResourceVersion = ""
		if claim.Labels == nil {
			claim.Labels = map[string]string{}
		}
		for k, v := range set.Spec.Selector.MatchLabels {
			claim.Labels[k] = v
		}
		_, err := s.m.o.Client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			s.rec.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %v", claim.Name, pod.Name, set.Name, err)
			return err
		}
		if err == nil {
			s.rec.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod.Name, set.Name)
		}
		found := false
		for i := range pod.Spec.Volumes {
			if pod.Spec.Volumes[i].Name == tpl.Name {
				pod.Spec.Volumes[i].VolumeSource = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name}}
				found = true
			}
		}
		if !found {
			pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: tpl.Name,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name}}})
		}
	}
	_, err := s.m.o.Client.CoreV1().Pods(set.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil // the informer will bring it
	}
	if err != nil {
		s.rec.Eventf(set, corev1.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return err
	}
	s.rec.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	return nil
}

func newStatefulPod(set *appsv1.StatefulSet, ordinal int, hash string) *corev1.Pod {
	t := &set.Spec.Template
	name := fmt.Sprintf("%s-%d", set.Name, ordinal)
	lbl := copyMap(t.Labels)
	if lbl == nil {
		lbl = map[string]string{}
	}
	lbl[statefulSetPodName] = name
	lbl[statefulSetPodIndex] = strconv.Itoa(ordinal)
	lbl[statefulSetRevisionLb] = hash
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: set.Namespace, Labels: lbl, Annotations: copyMap(t.Annotations),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: set.Name, UID: set.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: *t.Spec.DeepCopy(),
	}
	pod.Spec.Hostname = name
	pod.Spec.Subdomain = set.Spec.ServiceName
	return pod
}
