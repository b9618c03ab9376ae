package apiserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8sadmission "k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/warning"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"

	"github.com/stratus-cloud/stratus/internal/kube/admission"
	"github.com/stratus-cloud/stratus/internal/kube/auth"
	"github.com/stratus-cloud/stratus/internal/kube/registry"
)

// setupAdmission builds the webhook and policy plugins over the loopback
// client, adding their informers to the RBAC informers' factory (which
// startAuthz starts and waits for).
func (s *Server) setupAdmission(cs kubernetes.Interface) error {
	cfg := s.LoopbackConfig()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	a, err := admission.New(admission.Options{
		Client: cs, Dynamic: dyn, Informers: s.auth.informers,
		Authorizer: authorizerAdapter{s}, Scheme: s.codecs.Scheme,
		RESTMapper:  restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
		Resolver:    serviceResolver{s},
		Equivalents: s.reg.Equivalents(), CustomConvertor: s.reg.CustomConvertor(),
		Stop: s.base.Done(),
	})
	if err != nil {
		return err
	}
	s.admission = a
	return nil
}

// admitter is admission for one write (a registry.Admitter), or nil when
// no webhook configuration or policy binding exists. Warnings the
// webhooks and policies give go into w's headers.
func (s *Server) admitter(w http.ResponseWriter, r *http.Request, ri requestInfo, dryRun bool, fieldManager string, del *metav1.DeleteOptions) registry.Admitter {
	if !s.admission.Active() {
		return nil
	}
	u := userFrom(r.Context())
	info := &user.DefaultInfo{}
	if u != nil {
		info = &user.DefaultInfo{Name: u.Name, UID: u.UID, Groups: u.Groups, Extra: u.Extra}
	}
	return &admitter{s: s, w: w, ri: ri, user: info, dryRun: dryRun, fieldManager: fieldManager, del: del}
}

type admitter struct {
	s            *Server
	w            http.ResponseWriter
	ri           requestInfo
	user         user.Info
	dryRun       bool
	fieldManager string
	del          *metav1.DeleteOptions

	// kind is the kind of the object admitted when it is not the
	// resource's own: a subresource's (Scale, Binding, Eviction).
	kind *schema.GroupVersionKind

	mu   sync.Mutex
	seen map[string]bool
}

// subresourceAdmitter is admission for a write to a subresource whose
// object is of its own kind (autoscaling/v1 Scale, v1 Binding, policy/v1
// Eviction): webhooks and policies see that object, under the parent's
// resource and the subresource, as kube-apiserver sends them. nil when
// nothing would be called.
func (s *Server) subresourceAdmitter(w http.ResponseWriter, r *http.Request, ri requestInfo, dryRun bool, fieldManager string, kind schema.GroupVersionKind) registry.Admitter {
	a, ok := s.admitter(w, r, ri, dryRun, fieldManager, nil).(*admitter)
	if !ok {
		return nil
	}
	a.kind = &kind
	return a
}

var _ registry.Admitter = (*admitter)(nil)

// AddWarning implements warning.Recorder: each text once, as a Warning
// header (validating webhooks run in parallel).
func (a *admitter) AddWarning(_, text string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen[text] {
		return
	}
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	a.seen[text] = true
	addWarnings(a.w, []string{text})
}

// attributes are the admission attributes of this write for obj and old.
func (a *admitter) attributes(obj, old runtime.Object) k8sadmission.Attributes {
	var dry []string
	if a.dryRun {
		dry = []string{metav1.DryRunAll}
	}
	op, opts := k8sadmission.Update, runtime.Object(&metav1.UpdateOptions{DryRun: dry, FieldManager: a.fieldManager})
	name := a.ri.name
	switch {
	case obj == nil:
		op, opts = k8sadmission.Delete, &metav1.DeleteOptions{}
		if a.del != nil {
			opts = a.del
		}
	case old == nil:
		op, opts = k8sadmission.Create, &metav1.CreateOptions{DryRun: dry, FieldManager: a.fieldManager}
	}
	named := obj
	if named == nil {
		named = old
	}
	if m, err := meta.Accessor(named); err == nil && m.GetName() != "" {
		name = m.GetName()
	}
	res := a.ri.res
	kind := res.GVK()
	if a.kind != nil {
		kind = *a.kind
	}
	return k8sadmission.NewAttributesRecord(obj, old, kind, a.ri.namespace, name, res.GVR(), a.ri.subresource,
		op, opts, a.dryRun, a.user)
}

// Mutate implements registry.Admitter.
func (a *admitter) Mutate(ctx context.Context, obj, old runtime.Object) error {
	return a.s.admission.Mutate(warning.WithWarningRecorder(ctx, a), a.attributes(obj, old))
}

// Validate implements registry.Admitter.
func (a *admitter) Validate(ctx context.Context, obj, old runtime.Object) error {
	return a.s.admission.Validate(warning.WithWarningRecorder(ctx, a), a.attributes(obj, old))
}

// authorizerAdapter answers the authorizer checks of CEL expressions
// (matchConditions, policies) with the server's authorizer chain.
type authorizerAdapter struct{ s *Server }

var _ authorizer.Authorizer = authorizerAdapter{}

func (z authorizerAdapter) Authorize(ctx context.Context, at authorizer.Attributes) (authorizer.Decision, string, error) {
	a := &auth.Attributes{Verb: at.GetVerb(), ResourceRequest: at.IsResourceRequest(), Namespace: at.GetNamespace(),
		APIGroup: at.GetAPIGroup(), APIVersion: at.GetAPIVersion(), Resource: at.GetResource(),
		Subresource: at.GetSubresource(), Name: at.GetName(), Path: at.GetPath()}
	if u := at.GetUser(); u != nil {
		a.User = &auth.User{Name: u.GetName(), UID: u.GetUID(), Groups: u.GetGroups(), Extra: u.GetExtra()}
	}
	d, why := z.s.authorizer().Authorize(ctx, a)
	switch d {
	case auth.DecisionAllow:
		return authorizer.DecisionAllow, why, nil
	case auth.DecisionDeny:
		return authorizer.DecisionDeny, why, nil
	}
	return authorizer.DecisionNoOpinion, why, nil
}

func (z authorizerAdapter) ConditionsAwareAuthorize(ctx context.Context, at authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(z.Authorize(ctx, at))
}

func (authorizerAdapter) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

// serviceResolver finds where a webhook's service answers, as
// kube-apiserver does with --enable-aggregator-routing: a ready endpoint
// of the service port from its EndpointSlices (the first, as the real
// one picks at random; pod addresses are
// reachable from the server: loopback ones on this machine), so it works
// without the service proxy; an ExternalName service is its name. It
// reads the store, as webhook calls are rare.
type serviceResolver struct{ s *Server }

func (z serviceResolver) ResolveEndpoint(namespace, name string, port int32) (*url.URL, error) {
	ctx := z.s.base
	obj, err := z.s.storage.Get(ctx, z.s.reg.Lookup("", "v1", "services"), namespace, name)
	if err != nil {
		return nil, err
	}
	svc := obj.(*corev1.Service)
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return &url.URL{Scheme: "https", Host: net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port)))}, nil
	}
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
		}
	}
	if sp == nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no service port %d found for service %q", port, svc.Name))
	}
	sel := registry.Predicate{Label: labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: name})}
	lr, err := z.s.storage.List(ctx, z.s.reg.Lookup("discovery.k8s.io", "v1", "endpointslices"), namespace, sel, 0, "")
	if err != nil {
		return nil, err
	}
	for _, o := range lr.Items {
		sl := o.(*discoveryv1.EndpointSlice)
		for _, p := range sl.Ports {
			if p.Port == nil || ptr.Deref(p.Name, "") != sp.Name {
				continue
			}
			for _, ep := range sl.Endpoints {
				if len(ep.Addresses) == 0 || (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) {
					continue
				}
				return &url.URL{Scheme: "https", Host: net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(*p.Port)))}, nil
			}
		}
	}
	return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", svc.Name))
}
