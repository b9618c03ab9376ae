package controller

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	validatingpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/cel/openapi/resolver"
	admissionregistrationv1apply "k8s.io/client-go/applyconfigurations/admissionregistration/v1"
	"k8s.io/client-go/discovery/cached/memory"
	admissionregistrationlisters "k8s.io/client-go/listers/admissionregistration/v1"
	"k8s.io/client-go/restmapper"
)

// vapStatusController is kube-controller-manager's name for it, which is
// also the field manager of the status it applies.
const vapStatusController = "validatingadmissionpolicy-status-controller"

// vapStatus is kube-controller-manager's validatingadmissionpolicy-status
// controller: each ValidatingAdmissionPolicy whose generation it has not
// seen has its expressions type-checked against the kinds it matches, by
// k8s.io/apiserver's own TypeChecker with the schemas of the server's
// OpenAPI v3, and gets status.typeChecking.expressionWarnings and
// status.observedGeneration by server-side apply. The checker (a
// discovery REST mapper, schema downloads) is built on the first policy.
type vapStatus struct {
	m      *Manager
	loop   *loop
	lister admissionregistrationlisters.ValidatingAdmissionPolicyLister

	once    sync.Once
	checker *validatingpolicy.TypeChecker
}

func (m *Manager) addVAPStatus() {
	v := &vapStatus{m: m}
	v.loop = m.newLoop("validatingadmissionpolicy-status", 1, v.sync)
	inf := m.factory.Admissionregistration().V1().ValidatingAdmissionPolicies()
	v.lister = inf.Lister()
	_, _ = inf.Informer().AddEventHandler(v.loop.handler())
}

func (v *vapStatus) typeChecker() *validatingpolicy.TypeChecker {
	v.once.Do(func() {
		// One cache for discovery and the OpenAPI documents: the checker
		// resets the mapper, and so both, when a kind is not found (a
		// CRD added since).
		disc := memory.NewMemCacheClient(v.m.o.Client.Discovery())
		v.checker = &validatingpolicy.TypeChecker{SchemaResolver: &resolver.ClientDiscoveryResolver{Discovery: disc},
			RestMapper: restmapper.NewDeferredDiscoveryRESTMapper(disc)}
	})
	return v.checker
}

func (v *vapStatus) sync(ctx context.Context, name string) (time.Duration, error) {
	p, err := v.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil || p.Generation <= p.Status.ObservedGeneration {
		return 0, err
	}
	warnings := v.typeChecker().Check(p)
	tc := admissionregistrationv1apply.TypeChecking()
	for _, w := range warnings {
		tc.WithExpressionWarnings(admissionregistrationv1apply.ExpressionWarning().WithFieldRef(w.FieldRef).WithWarning(w.Warning))
	}
	apply := admissionregistrationv1apply.ValidatingAdmissionPolicy(p.Name).WithStatus(
		admissionregistrationv1apply.ValidatingAdmissionPolicyStatus().WithObservedGeneration(p.Generation).WithTypeChecking(tc))
	_, err = v.m.o.Client.AdmissionregistrationV1().ValidatingAdmissionPolicies().ApplyStatus(ctx, apply,
		metav1.ApplyOptions{FieldManager: vapStatusController, Force: true})
	return 0, err
}
