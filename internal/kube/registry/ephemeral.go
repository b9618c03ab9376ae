package registry

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// withEphemeralContainers is the stored pod cur with the ephemeral
// containers of obj, as the pods/ephemeralcontainers subresource writes
// them: containers may be added, never changed or removed, and their names
// must be new in the pod.
func withEphemeralContainers(cur, obj runtime.Object) (runtime.Object, error) {
	old, ok1 := cur.(*corev1.Pod)
	pod, ok2 := obj.(*corev1.Pod)
	if !ok1 || !ok2 {
		return nil, apierrors.NewBadRequest("ephemeralcontainers is a subresource of pods only")
	}
	var errs field.ErrorList
	path := field.NewPath("spec", "ephemeralContainers")
	byName := map[string]*corev1.EphemeralContainer{}
	for i := range pod.Spec.EphemeralContainers {
		byName[pod.Spec.EphemeralContainers[i].Name] = &pod.Spec.EphemeralContainers[i]
	}
	for _, ec := range old.Spec.EphemeralContainers {
		if n, ok := byName[ec.Name]; !ok || !equality.Semantic.DeepEqual(*n, ec) {
			errs = append(errs, field.Forbidden(path, "existing ephemeral containers \""+ec.Name+"\" may not be changed"))
		}
	}
	names := map[string]bool{}
	for _, c := range old.Spec.Containers {
		names[c.Name] = true
	}
	for _, c := range old.Spec.InitContainers {
		names[c.Name] = true
	}
	for i, ec := range pod.Spec.EphemeralContainers {
		p := path.Index(i)
		if ec.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else if names[ec.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), ec.Name))
		}
		names[ec.Name] = true
		if ec.Image == "" {
			errs = append(errs, field.Required(p.Child("image"), ""))
		}
		if len(ec.Ports) > 0 {
			errs = append(errs, field.Forbidden(p.Child("ports"), "cannot be set for an Ephemeral Container"))
		}
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Pod").GroupKind(), old.Name, errs)
	}
	next := old.DeepCopy()
	next.Spec.EphemeralContainers = pod.Spec.EphemeralContainers
	for i := range next.Spec.EphemeralContainers {
		c := &next.Spec.EphemeralContainers[i]
		if c.TerminationMessagePath == "" {
			c.TerminationMessagePath = corev1.TerminationMessagePathDefault
		}
		if c.TerminationMessagePolicy == "" {
			c.TerminationMessagePolicy = corev1.TerminationMessageReadFile
		}
		if c.ImagePullPolicy == "" {
			c.ImagePullPolicy = corev1.PullIfNotPresent
		}
	}
	return next, nil
}
