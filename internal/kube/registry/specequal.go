package registry

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// specEqual is semantic equality of two specs (apiequality.Semantic). The
// reflective comparison calls its equality functions for times and
// quantities through reflect.Value.Call, which costs more than the rest of
// a lease renewal's checks; node leases are renewed a hundred times a
// second in a pool of 1,000 nodes, so a lease's spec is compared field by
// field here.
func specEqual(a, b any) bool {
	if x, ok := a.(coordinationv1.LeaseSpec); ok {
		if y, ok := b.(coordinationv1.LeaseSpec); ok {
			return leaseSpecEqual(&x, &y)
		}
	}
	return apiequality.Semantic.DeepEqual(a, b)
}

func leaseSpecEqual(a, b *coordinationv1.LeaseSpec) bool {
	return eqPtr(a.HolderIdentity, b.HolderIdentity) && eqPtr(a.LeaseDurationSeconds, b.LeaseDurationSeconds) &&
		eqMicroTime(a.AcquireTime, b.AcquireTime) && eqMicroTime(a.RenewTime, b.RenewTime) &&
		eqPtr(a.LeaseTransitions, b.LeaseTransitions) && eqPtr(a.Strategy, b.Strategy) && eqPtr(a.PreferredHolder, b.PreferredHolder)
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// eqMicroTime is Semantic's rule for times: the same instant.
func eqMicroTime(a, b *metav1.MicroTime) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UTC() == b.UTC()
}
