package apiserver

import (
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/warning"
)

// connectOptions decodes the query of a CONNECT to pods/exec, attach or
// portforward into its options object (v1 PodExecOptions,
// PodAttachOptions, PodPortForwardOptions), kind set, as kube-apiserver's
// ConnectResource does before admission; a query it cannot decode is a
// BadRequest.
func (s *Server) connectOptions(subresource string, q url.Values) (runtime.Object, error) {
	var opts runtime.Object
	switch subresource {
	case "exec":
		opts = &corev1.PodExecOptions{}
	case "attach":
		opts = &corev1.PodAttachOptions{}
	default:
		opts = &corev1.PodPortForwardOptions{}
	}
	if err := s.codecs.Params.DecodeParameters(q, corev1.SchemeGroupVersion, opts); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	kinds, _, err := s.codecs.Scheme.ObjectKinds(opts)
	if err != nil {
		return nil, err
	}
	opts.GetObjectKind().SetGroupVersionKind(kinds[0])
	return opts, nil
}

// admitConnect runs dynamic admission on a CONNECT with its options
// object, as kube-apiserver does before it dials the node: mutating
// webhooks (which may change opts: what they patch is what reaches the
// node), then ValidatingAdmissionPolicies and validating webhooks. The
// attributes are kube-apiserver's: operation CONNECT, no operation
// options, the options' kind under pods and the subresource, the pod's
// name; a record each for mutation and validation. Nothing runs when no configuration exists.
func (s *Server) admitConnect(w http.ResponseWriter, r *http.Request, ri requestInfo, opts runtime.Object) error {
	a, ok := s.admitter(w, r, ri, false, "", nil).(*admitter)
	if !ok {
		return nil
	}
	ctx := warning.WithWarningRecorder(r.Context(), a)
	attrs := func() k8sadmission.Attributes {
		return k8sadmission.NewAttributesRecord(opts, nil, opts.GetObjectKind().GroupVersionKind(), ri.namespace, ri.name,
			ri.res.GVR(), ri.subresource, k8sadmission.Connect, nil, false, a.user)
	}
	if err := s.admission.Mutate(ctx, attrs()); err != nil {
		return err
	}
	return s.admission.Validate(ctx, attrs())
}
