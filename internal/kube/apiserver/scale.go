package apiserver

import (
	"fmt"
	"net/http"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

func (s *Server) scaleOf(res *registry.Resource, obj runtime.Object) *autoscalingv1.Scale {
	m, _ := meta.Accessor(obj)
	spec, status, sel := res.Scale.Get(obj)
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: spec},
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: sel},
	}
}

// serveScale serves the autoscaling/v1 Scale of rc, rs and deployments.
func (s *Server) serveScale(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
	t = target{mediaType: t.mediaType}
	res := ri.res
	if ri.verb == "get" {
		obj, err := s.storage.Get(r.Context(), res, ri.namespace, ri.name)
		if err != nil {
			s.writeError(w, err)
			return
		}
		s.writeObject(w, t, http.StatusOK, s.scaleOf(res, obj))
		return
	}
	if ri.verb != "update" && ri.verb != "patch" {
		s.writeError(w, newStatus(http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed, "the server does not allow this method on the requested resource"))
		return
	}
	var pt types.PatchType
	if ri.verb == "patch" {
		var err error
		if pt, err = patchTypeOf(r.Header.Get("Content-Type")); err != nil {
			s.writeError(w, err)
			return
		}
		if pt == types.ApplyYAMLPatchType {
			s.writeError(w, apierrors.NewBadRequest("server-side apply is not supported on the scale subresource"))
			return
		}
	}
	o, err := s.parseWriteOpts(r, ri.verb, pt)
	if err != nil {
		s.writeError(w, err)
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	scaleRes := &registry.Resource{Group: "autoscaling", Version: "v1", Kind: "Scale", Name: "scale", Namespaced: true,
		New: func() runtime.Object { return &autoscalingv1.Scale{} }}
	adm := s.subresourceAdmitter(w, r, ri, o.dryRun, o.fieldManager, autoscalingv1.SchemeGroupVersion.WithKind("Scale"))
	fn := func(cur runtime.Object) (runtime.Object, error) {
		sc := s.scaleOf(res, cur)
		var want *autoscalingv1.Scale
		if ri.verb == "update" {
			obj, _, err := s.decodeObject(r.Header.Get("Content-Type"), body, scaleRes, o.fieldValidation)
			if err != nil {
				return nil, err
			}
			want = obj.(*autoscalingv1.Scale)
		} else {
			curJSON, err := s.encode(target{mediaType: mtJSON}, sc)
			if err != nil {
				return nil, err
			}
			patched, err := applyJSONPatch(pt, curJSON, body, &autoscalingv1.Scale{})
			if err != nil {
				return nil, err
			}
			obj, _, err := s.decodeObject(mtJSON, patched, scaleRes, o.fieldValidation)
			if err != nil {
				return nil, err
			}
			want = obj.(*autoscalingv1.Scale)
		}
		if want.Name != "" && want.Name != ri.name {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", want.Name, ri.name))
		}
		if adm != nil {
			if err := adm.Mutate(r.Context(), want, sc); err != nil {
				return nil, err
			}
		}
		if want.Spec.Replicas < 0 {
			return nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), ri.name,
				fieldInvalid("spec.replicas", want.Spec.Replicas, "must be greater than or equal to 0"))
		}
		if adm != nil {
			if err := adm.Validate(r.Context(), want, sc); err != nil {
				return nil, err
			}
		}
		m, _ := meta.Accessor(cur)
		if want.ResourceVersion != "" {
			m.SetResourceVersion(want.ResourceVersion)
		}
		res.Scale.Set(cur, want.Spec.Replicas)
		return cur, nil
	}
	out, _, err := s.storage.Update(r.Context(), res, ri.namespace, ri.name, fn, o.storage(""))
	if err != nil {
		s.writeError(w, err)
		return
	}
	s.writeObject(w, t, http.StatusOK, s.scaleOf(res, out))
}

// serveBinding assigns a pod to a node (pods/binding), as the scheduler does.
func (s *Server) serveBinding(w http.ResponseWriter, r *http.Request, ri requestInfo, t target) {
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
	bres := &registry.Resource{Version: "v1", Kind: "Binding", Name: "bindings", Namespaced: true, New: func() runtime.Object { return &corev1.Binding{} }}
	obj, _, err := s.decodeObject(r.Header.Get("Content-Type"), body, bres, o.fieldValidation)
	if err != nil {
		s.writeError(w, err)
		return
	}
	b := obj.(*corev1.Binding)
	adm := s.subresourceAdmitter(w, r, ri, o.dryRun, o.fieldManager, corev1.SchemeGroupVersion.WithKind("Binding"))
	if adm != nil {
		if err := adm.Mutate(r.Context(), b, nil); err != nil {
			s.writeError(w, err)
			return
		}
		if err := adm.Validate(r.Context(), b, nil); err != nil {
			s.writeError(w, err)
			return
		}
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		s.writeError(w, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), ri.name, fieldNotSupported("target.kind", b.Target.Kind, []string{"Node"})))
		return
	}
	if b.Target.Name == "" {
		s.writeError(w, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), ri.name, fieldRequired("target.name", "")))
		return
	}
	fn := func(cur runtime.Object) (runtime.Object, error) {
		pod := cur.(*corev1.Pod)
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(ri.res.GroupResource(), ri.name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", ri.name))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(ri.res.GroupResource(), ri.name, fmt.Errorf("pod %s is already assigned to node %q", ri.name, pod.Spec.NodeName))
		}
		if b.UID != "" && b.UID != pod.UID {
			return nil, apierrors.NewConflict(ri.res.GroupResource(), ri.name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		// The node and the PodScheduled condition in one write, as the
		// real binding does: a second write would make the node's agent
		// act on a version about to be replaced.
		setPodCondition(pod, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(s.now())})
		return pod, nil
	}
	wo := o.storage("")
	wo.FieldManager = ""
	wo.Subresource = "binding"
	if _, _, err := s.storage.Update(r.Context(), ri.res, ri.namespace, ri.name, fn, wo); err != nil {
		s.writeError(w, err)
		return
	}
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated}
	s.writeObject(w, target{mediaType: t.mediaType}, http.StatusCreated, st)
}

func setPodCondition(pod *corev1.Pod, c corev1.PodCondition) {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == c.Type {
			if pod.Status.Conditions[i].Status == c.Status {
				return
			}
			pod.Status.Conditions[i] = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}
