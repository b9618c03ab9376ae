package registry

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// SystemPriorityClasses are the classes every cluster has (the API server
// creates them at start, as kube-apiserver does).
func SystemPriorityClasses() []*schedulingv1.PriorityClass {
	mk := func(name string, v int32, desc string) *schedulingv1.PriorityClass {
		pc := &schedulingv1.PriorityClass{Value: v, Description: desc}
		pc.Name = name
		return pc
	}
	return []*schedulingv1.PriorityClass{
		mk("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their current node."),
		mk("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
	}
}

// admitPriority is kube-apiserver's Priority plugin for a new pod: the
// priority and preemption policy come from its priorityClassName, or from
// the global default class, or are 0; an unknown class, or a priority
// given without its class's value, is refused with 403.
func (st *Storage) admitPriority(ctx context.Context, r *Resource, obj runtime.Object) error {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil
	}
	items, err := st.listIn(ctx, "scheduling.k8s.io", "priorityclasses", "")
	if err != nil {
		return err
	}
	var pc *schedulingv1.PriorityClass
	for _, it := range items {
		c := it.(*schedulingv1.PriorityClass)
		if p.Spec.PriorityClassName == "" && c.GlobalDefault && (pc == nil || c.Value < pc.Value) {
			pc = c
		}
		if p.Spec.PriorityClassName != "" && c.Name == p.Spec.PriorityClassName {
			pc = c
		}
	}
	if p.Spec.PriorityClassName != "" && pc == nil {
		return apierrors.NewForbidden(r.GroupResource(), p.Name, fmt.Errorf("no PriorityClass with name %s was found", p.Spec.PriorityClassName))
	}
	value, policy := int32(0), corev1.PreemptLowerPriority
	if pc != nil {
		value = pc.Value
		if pc.PreemptionPolicy != nil {
			policy = *pc.PreemptionPolicy
		}
		p.Spec.PriorityClassName = pc.Name
	}
	if p.Spec.Priority != nil && *p.Spec.Priority != value {
		return apierrors.NewForbidden(r.GroupResource(), p.Name, fmt.Errorf(
			"the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *p.Spec.Priority, value))
	}
	p.Spec.Priority = ptr.To(value)
	if p.Spec.PreemptionPolicy == nil {
		p.Spec.PreemptionPolicy = ptr.To(policy)
	}
	return nil
}
