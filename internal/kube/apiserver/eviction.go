package apiserver

import (
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// serveEviction answers POST pods/<name>/eviction as kube-apiserver's
// eviction REST does: the pod is deleted unless the PodDisruptionBudget
// that covers it allows no disruption now (429, with the budget's numbers),
// in which case nothing changes; an allowed eviction takes one disruption
// off the budget's status (and records the pod in disruptedPods) before
// the delete, so concurrent evictions cannot overdraw it.
func (s *Server) serveEviction(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	o, err := s.parseWriteOpts(r, "create", "")
	if err != nil {
		s.writeError(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	eres := &registry.Resource{Group: "policy", Version: "v1", Kind: "Eviction", Name: "evictions", Namespaced: true,
		New: func() runtime.Object { return &policyv1.Eviction{} }}
	obj, _, err := s.decodeObject(r.Header.Get("Content-Type"), body, eres, o.fieldValidation)
	if err != nil {
		s.writeError(w, err)
		return
	}
	ev := obj.(*policyv1.Eviction)
	if ev.Name != "" && ev.Name != ri.name {
		s.writeError(w, apierrors.NewBadRequest("name in URL does not match name in Eviction object"))
		return
	}
	ctx := r.Context()
	if adm := s.subresourceAdmitter(w, r, ri, o.dryRun, o.fieldManager, policyv1.SchemeGroupVersion.WithKind("Eviction")); adm != nil {
		if err := adm.Mutate(ctx, ev, nil); err != nil {
			s.writeError(w, err)
			return
		}
		if err := adm.Validate(ctx, ev, nil); err != nil {
			s.writeError(w, err)
			return
		}
	}
	pdbRes := s.reg.Lookup("policy", "v1", "poddisruptionbudgets")
	for attempt := 0; ; attempt++ {
		cur, err := s.storage.Get(ctx, ri.res, ri.namespace, ri.name)
		if err != nil {
			s.writeError(w, err)
			return
		}
		pod := cur.(*corev1.Pod)
		if err := s.evictionAllowed(r, pdbRes, pod, o.dryRun); err != nil {
			if apierrors.IsConflict(err) && attempt < 10 {
				continue
			}
			s.writeError(w, err)
			return
		}
		break
	}
	opts := ev.DeleteOptions
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	if _, err := s.storage.Delete(ctx, ri.res, ri.namespace, ri.name, opts, o.storage("")); err != nil {
		s.writeError(w, err)
		return
	}
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated}
	s.writeObject(w, target{mediaType: t.mediaType}, http.StatusCreated, st)
}

// evictionAllowed checks the pod's budget and takes a disruption from it.
func (s *Server) evictionAllowed(r *http.Request, pdbRes *registry.Resource, pod *corev1.Pod, dryRun bool) error {
	// As upstream: pods that are not running or already going need no budget.
	if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodPending {
		return nil
	}
	lr, err := s.storage.List(r.Context(), pdbRes, pod.Namespace, registry.Predicate{}, 0, "")
	if err != nil {
		return err
	}
	var pdbs []*policyv1.PodDisruptionBudget
	for _, o := range lr.Items {
		pdb := o.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		pdbs = append(pdbs, pdb)
	}
	switch {
	case len(pdbs) == 0:
		return nil
	case len(pdbs) > 1:
		return apierrors.NewInternalError(fmt.Errorf("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."))
	}
	pdb := pdbs[0]
	tooMany := func(msg string) error {
		err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause, Message: msg})
		return err
	}
	if pdb.Status.ObservedGeneration < pdb.Generation {
		return tooMany(fmt.Sprintf("The disruption budget %s is still being processed by the server.", pdb.Name))
	}
	if pdb.Status.DisruptionsAllowed <= 0 {
		return tooMany(fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy))
	}
	if dryRun {
		return nil
	}
	rv := pdb.ResourceVersion
	_, _, err = s.storage.Update(r.Context(), pdbRes, pdb.Namespace, pdb.Name, func(cur runtime.Object) (runtime.Object, error) {
		next := cur.(*policyv1.PodDisruptionBudget)
		if next.ResourceVersion != rv {
			return nil, apierrors.NewConflict(pdbRes.GroupResource(), pdb.Name, fmt.Errorf("the budget changed"))
		}
		next.Status.DisruptionsAllowed--
		if next.Status.DisruptedPods == nil {
			next.Status.DisruptedPods = map[string]metav1.Time{}
		}
		next.Status.DisruptedPods[pod.Name] = metav1.NewTime(s.now())
		return next, nil
	}, registry.WriteOptions{Subresource: "status", FieldManager: "kube-apiserver"})
	return err
}
