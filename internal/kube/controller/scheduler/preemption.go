package scheduler

import (
	"context"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Preemption, as kube-scheduler's DefaultPreemption plugin does it in
// outline: a pod that fits nowhere, and whose preemptionPolicy is not
// Never, looks for the node where deleting pods of lower priority (the
// lowest first, as few as needed) lets it fit; among those nodes the one
// whose highest victim has the lowest priority, then the fewest victims.
// The victims get the DisruptionTarget condition and a Preempted event and
// are deleted; the pod is nominated to the node (status.nominatedNodeName)
// and scheduled once they are gone.
//
// Shortcuts: PodDisruptionBudgets are not weighed; victims are not
// reprieved once chosen; the nominated node is not reserved against
// other pods.

type victim struct {
	uid      types.UID
	ns, name string
	prio     int32
}

type preemption struct {
	node    string
	victims []victim
}

func podPriority(p *corev1.Pod) int32 { return ptr.Deref(p.Spec.Priority, 0) }

// planPreemption finds where p could run by preempting (s.mu held).
func (s *Scheduler) planPreemption(p *corev1.Pod, vols *podVolumes) *preemption {
	if ptr.Deref(p.Spec.PreemptionPolicy, corev1.PreemptLowerPriority) == corev1.PreemptNever {
		return nil
	}
	prio := podPriority(p)
	if n := p.Status.NominatedNodeName; n != "" {
		// it preempted already: wait for those victims to go
		pods, _ := s.podLister.List(labels.Everything())
		for _, o := range pods {
			if o.Spec.NodeName == n && o.DeletionTimestamp != nil && podPriority(o) < prio {
				return nil
			}
		}
	}
	byNode := map[string][]victim{}
	for uid, a := range s.pods {
		if a.prio < prio {
			byNode[a.node] = append(byNode[a.node], victim{uid: uid, ns: a.namespace, name: a.name, prio: a.prio})
		}
	}
	var sel labels.Selector
	if len(p.Spec.NodeSelector) > 0 {
		sel = labels.SelectorFromSet(p.Spec.NodeSelector)
	}
	cpu, mem := podRequests(p)
	var best *preemption
	bestTop := int32(0)
	for _, name := range s.order {
		cands := byNode[name]
		ni := s.nodes[name]
		if len(cands) == 0 || ni == nil {
			continue
		}
		sort.Slice(cands, func(i, j int) bool { return cands[i].prio < cands[j].prio })
		saved := *ni
		var chosen []victim
		fits := false
		for _, v := range cands {
			a := s.pods[v.uid]
			ni.cpu, ni.mem, ni.pods = ni.cpu-a.cpu, ni.mem-a.mem, ni.pods-1
			chosen = append(chosen, v)
			if s.fit(p, sel, cpu, mem, ni, vols) == "" {
				fits = true
				break
			}
		}
		ni.cpu, ni.mem, ni.pods = saved.cpu, saved.mem, saved.pods
		if !fits {
			continue
		}
		top := chosen[len(chosen)-1].prio
		if best == nil || top < bestTop || (top == bestTop && len(chosen) < len(best.victims)) {
			best, bestTop = &preemption{node: name, victims: chosen}, top
		}
	}
	return best
}

// preempt deletes the victims and nominates the node.
func (s *Scheduler) preempt(ctx context.Context, p *corev1.Pod, plan *preemption) {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	for _, v := range plan.victims {
		vp, err := s.podLister.Pods(v.ns).Get(v.name)
		if err != nil || vp.UID != v.uid || vp.DeletionTimestamp != nil {
			continue
		}
		upd := vp.DeepCopy()
		upd.ManagedFields = nil // the shared informer's pods keep them; the write needs none
		upd.Status.Conditions = append(upd.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "PreemptionByScheduler", Message: Name + ": preempting to accommodate a higher priority pod", LastTransitionTime: now})
		if _, err := s.client.CoreV1().Pods(v.ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
			s.log.Debug("marking a victim", "pod", v.ns+"/"+v.name, "err", err)
		}
		if s.recorder != nil {
			s.recorder.Eventf(vp, corev1.EventTypeNormal, "Preempted", "Preempted by pod %s on node %s", p.UID, plan.node)
		}
		err = s.client.CoreV1().Pods(v.ns).Delete(ctx, v.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &v.uid}})
		if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
			s.log.Debug("deleting a victim", "pod", v.ns+"/"+v.name, "err", err)
		}
	}
	cur, err := s.podLister.Pods(p.Namespace).Get(p.Name)
	if err != nil || cur.Status.NominatedNodeName == plan.node {
		return
	}
	upd := cur.DeepCopy()
	upd.ManagedFields = nil
	upd.Status.NominatedNodeName = plan.node
	if _, err := s.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
		s.log.Debug("nominating", "pod", p.Namespace+"/"+p.Name, "err", err)
	}
}
