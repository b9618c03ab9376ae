// Package admission runs a cluster's dynamic admission: mutating and
// validating webhooks (admissionregistration.k8s.io/v1 webhook
// configurations) and ValidatingAdmissionPolicies with their bindings.
//
// It does not reimplement them: it wires k8s.io/apiserver's own admission
// plugins (webhook/mutating, webhook/validating, policy/validating), so
// calling webhooks over TLS with the caBundle, timeouts, failurePolicy,
// namespace and object selectors, matchConditions and policies in CEL,
// sideEffects on dry runs, reinvocation, JSON patches, warnings and the
// error texts are the real server's. What stratus supplies is what a
// kube-apiserver would: a client and informers over its own API, an
// authorizer, a scheme, a REST mapper and a service resolver.
package admission

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/initializer"
	validatingpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/mutating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/validating"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	webhookutil "k8s.io/apiserver/pkg/util/webhook"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Options are what the plugins need from the API server they run in.
type Options struct {
	// Client and Dynamic reach the API (as an identity that may read
	// namespaces, configurations and policy parameters).
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Informers is the factory the plugins add their informers to; the
	// caller starts it after New and waits for it to sync.
	Informers informers.SharedInformerFactory
	// Authorizer answers CEL's authorizer checks.
	Authorizer authorizer.Authorizer
	// Scheme creates, defaults and converts the built-in kinds.
	Scheme *runtime.Scheme
	// RESTMapper finds a policy's paramKind resource.
	RESTMapper meta.RESTMapper
	// Resolver turns a webhook's service reference into an address the
	// server can dial (nil: the service's cluster DNS name).
	Resolver webhookutil.ServiceResolver
	// Stop ends the plugins' background work.
	Stop <-chan struct{}
}

// Admission is the chain: mutating webhooks (reinvoked once when a later
// one changed the object and a webhook asks for it), then validating
// webhooks and ValidatingAdmissionPolicies.
type Admission struct {
	chain   admission.Interface // reinvokes the mutating ones when asked
	objects admission.ObjectInterfaces
	// configured counts the stored webhook configurations and policy
	// bindings: with none, a write skips admission entirely.
	configured atomic.Int64
	counts     [3]atomic.Int64
}

// New builds the plugins and registers their informers with
// Options.Informers.
func New(o Options) (*Admission, error) {
	if o.Client == nil || o.Dynamic == nil || o.Informers == nil || o.Authorizer == nil || o.Scheme == nil || o.RESTMapper == nil || o.Stop == nil {
		return nil, errors.New("admission: every option but Resolver is required")
	}
	plugins := admission.NewPlugins()
	mutating.Register(plugins)
	validatingpolicy.Register(plugins)
	validating.Register(plugins)
	init := admission.PluginInitializers{resolverInit{o.Resolver},
		initializer.New(o.Client, o.Dynamic, o.Informers, o.Authorizer, utilfeature.DefaultFeatureGate, nil, o.Stop, o.RESTMapper)}
	// The order of kube-apiserver's defaults.
	chain, err := plugins.NewFromPlugins([]string{mutating.PluginName, validatingpolicy.PluginName, validating.PluginName},
		noConfig{}, init, nil)
	if err != nil {
		return nil, fmt.Errorf("admission: %w", err)
	}
	a := &Admission{chain: chain, objects: objectInterfaces(o.Scheme)}
	ar := o.Informers.Admissionregistration().V1()
	for i, inf := range []cache.SharedIndexInformer{ar.MutatingWebhookConfigurations().Informer(),
		ar.ValidatingWebhookConfigurations().Informer(), ar.ValidatingAdmissionPolicyBindings().Informer()} {
		count := func(any) { a.recount(i, inf) }
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: count, DeleteFunc: count}); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *Admission) recount(i int, inf cache.SharedIndexInformer) {
	a.counts[i].Store(int64(len(inf.GetStore().ListKeys())))
	var n int64
	for j := range a.counts {
		n += a.counts[j].Load()
	}
	a.configured.Store(n)
}

// Active reports whether any webhook configuration or policy binding
// exists; when none does, admission allows everything and may be skipped.
func (a *Admission) Active() bool { return a != nil && a.configured.Load() > 0 }

// Mutate runs the mutating webhooks on attrs' object, changing it in place.
func (a *Admission) Mutate(ctx context.Context, attrs admission.Attributes) error {
	m, ok := a.chain.(admission.MutationInterface)
	if !ok || !m.Handles(attrs.GetOperation()) {
		return nil
	}
	return m.Admit(ctx, attrs, a.objects)
}

// Validate runs the validating webhooks and policies; the first refusal is
// the answer.
func (a *Admission) Validate(ctx context.Context, attrs admission.Attributes) error {
	v, ok := a.chain.(admission.ValidationInterface)
	if !ok || !v.Handles(attrs.GetOperation()) {
		return nil
	}
	return v.Validate(ctx, attrs, a.objects)
}

// noConfig: no plugin has a configuration file.
type noConfig struct{}

func (noConfig) ConfigFor(string) (io.Reader, error) { return nil, nil }

// wantsResolver is what the webhook plugins offer for service resolution.
type wantsResolver interface {
	SetServiceResolver(webhookutil.ServiceResolver)
}

// resolverInit gives the webhook plugins the server's service resolver
// (kube-apiserver's own initializer does the same).
type resolverInit struct{ r webhookutil.ServiceResolver }

func (i resolverInit) Initialize(p admission.Interface) {
	if w, ok := p.(wantsResolver); ok && i.r != nil {
		w.SetServiceResolver(i.r)
	}
}

// objectInterfaces are the scheme's, with one difference: stratus keeps
// versioned objects (no internal version), so the plugins' conversion back
// from the version a webhook saw is often between objects of the same
// type, which the scheme has no function for; that is a copy.
func objectInterfaces(s *runtime.Scheme) admission.ObjectInterfaces {
	return &admission.RuntimeObjectInterfaces{ObjectCreater: s, ObjectTyper: s, ObjectDefaulter: s,
		ObjectConvertor: sameTypeConvertor{s}, EquivalentResourceMapper: runtime.NewEquivalentResourceRegistry()}
}

type sameTypeConvertor struct{ runtime.ObjectConvertor }

// Convert copies in into out when both are the same Go type.
func (c sameTypeConvertor) Convert(in, out, context any) error {
	iv, ov := reflect.ValueOf(in), reflect.ValueOf(out)
	if iv.Kind() == reflect.Pointer && iv.Type() == ov.Type() && !iv.IsNil() && !ov.IsNil() {
		if _, u := in.(runtime.Unstructured); !u {
			ov.Elem().Set(iv.Elem())
			return nil
		}
	}
	return c.ObjectConvertor.Convert(in, out, context)
}
