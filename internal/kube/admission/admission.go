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
	"reflect"
	"sync"
	"sync/atomic"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

	"github.com/stratus-cloud/stratus/internal/kube/informersync"
)

// Options are what the plugins need from the API server they run in.
type Options struct {
	// Client and Dynamic reach the API (as an identity that may read
	// namespaces, configurations and policy parameters).
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Informers is the factory the plugins add their informers to; the
	// caller starts it after New and waits for it to sync. Informers a
	// plugin adds when it is built later are started by this package.
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
	// Equivalents are the served resources that are the same objects at
	// other versions, for matchPolicy Equivalent (nil: none).
	Equivalents runtime.EquivalentResourceMapper
	// CustomConvertor converts custom resources (unstructured) between
	// their CRD's versions, for a webhook registered for another version
	// than the request's (nil: none can be).
	CustomConvertor runtime.ObjectConvertor
	// Stop ends the plugins' background work.
	Stop <-chan struct{}
}

// Admission is the chain, in kube-apiserver's order: mutating webhooks
// (reinvoked once when a later one changed the object and a webhook asks
// for it), then ValidatingAdmissionPolicies and validating webhooks.
//
// A plugin is built only once a configuration of its kind exists (a
// webhook configuration, a policy binding): building one costs several
// milliseconds of CPU (a webhook plugin's CEL environments) and starts
// informers and loops, which most servers, and most tests' servers, never
// need. Until then a write skips it, as the plugin itself would with
// nothing configured; once one exists, writes wait for the plugin to be
// built and ready. A webhook plugin is built as soon as its first
// configuration is seen, and reads the configurations when called. The
// policy plugin compiles the policies and bindings when it starts and
// then at most once a second (later changes take up to a second to apply,
// as in kube-apiserver), so it is built by the first write it could apply
// to, whose check then sees every policy and binding stored before it:
// built on the first binding's arrival, it would leave the rest of a
// batch applied together waiting for the next compilation.
type Admission struct {
	o       Options
	objects admission.ObjectInterfaces
	// In the chain's order.
	mutating, policies, validating lazyPlugin
}

// lazyPlugin is one plugin, built once a configuration of its kind exists.
type lazyPlugin struct {
	name string
	inf  cache.SharedIndexInformer // its kind's configurations
	// onSight: build as soon as a configuration is seen (else on the
	// first write that needs the plugin).
	onSight bool
	// configured is how many configurations of its kind the informer
	// holds, as counted by the handler registered as counted.
	configured atomic.Int64
	counted    cache.ResourceEventHandlerRegistration
	once       sync.Once
	built      chan struct{} // closed once p or err is set
	p          admission.Interface
	err        error
}

// New registers the informers of the configurations with Options.Informers
// and counts them; the plugins are built when their kind is first used.
func New(o Options) (*Admission, error) {
	if o.Client == nil || o.Dynamic == nil || o.Informers == nil || o.Authorizer == nil || o.Scheme == nil || o.RESTMapper == nil || o.Stop == nil {
		return nil, errors.New("admission: every option but Resolver, Equivalents and CustomConvertor is required")
	}
	ar := o.Informers.Admissionregistration().V1()
	a := &Admission{o: o, objects: objectInterfaces(o),
		mutating:   lazyPlugin{name: mutating.PluginName, inf: ar.MutatingWebhookConfigurations().Informer(), onSight: true},
		policies:   lazyPlugin{name: validatingpolicy.PluginName, inf: ar.ValidatingAdmissionPolicyBindings().Informer()},
		validating: lazyPlugin{name: validating.PluginName, inf: ar.ValidatingWebhookConfigurations().Informer(), onSight: true},
	}
	for _, l := range a.plugins() {
		l.built = make(chan struct{})
		count := func(any) {
			n := len(l.inf.GetStore().ListKeys())
			l.configured.Store(int64(n))
			if n > 0 && l.onSight {
				a.build(l)
			}
		}
		reg, err := l.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: count, DeleteFunc: count})
		if err != nil {
			return nil, err
		}
		l.counted = reg
	}
	return a, nil
}

func (a *Admission) plugins() []*lazyPlugin {
	return []*lazyPlugin{&a.mutating, &a.policies, &a.validating}
}

// HasSynced reports whether the configurations the informers held when
// they synced have been counted: until then Active may answer false for
// configurations that exist.
func (a *Admission) HasSynced() bool {
	for _, l := range a.plugins() {
		if !l.counted.HasSynced() {
			return false
		}
	}
	return true
}

// Active reports whether any webhook configuration or policy binding
// exists; when none does, admission allows everything and may be skipped.
func (a *Admission) Active() bool {
	if a == nil {
		return false
	}
	for _, l := range a.plugins() {
		if l.configured.Load() > 0 {
			return true
		}
	}
	return false
}

// build starts building l's plugin in the background, once.
func (a *Admission) build(l *lazyPlugin) {
	l.once.Do(func() {
		go func() {
			defer close(l.built)
			defer func() {
				// A plugin adding handlers to informers that stopped
				// meanwhile panics (it ignores AddEventHandler's error):
				// a server stopping while a plugin is built.
				if r := recover(); r != nil {
					if !stopped(a.o.Stop) {
						panic(r)
					}
					l.p, l.err = nil, errStopped
				}
			}()
			l.p, l.err = a.newPlugin(l.name)
			if l.err != nil {
				l.err = fmt.Errorf("admission: %w", l.err)
			}
		}()
	})
}

// newPlugin builds the plugin called name and waits until it is ready
// (registrations). The informers it reads are started and synced first:
// the policy plugin's first compilation waits for them, polling every
// 100 ms.
func (a *Admission) newPlugin(name string) (admission.Interface, error) {
	f := a.o.Informers
	f.Core().V1().Namespaces().Informer()
	if name == validatingpolicy.PluginName {
		f.Admissionregistration().V1().ValidatingAdmissionPolicies().Informer()
	}
	f.Start(a.o.Stop)
	if !informersync.Factory(a.o.Stop, f) {
		return nil, errStopped
	}
	plugins := admission.NewPlugins()
	switch name {
	case mutating.PluginName:
		mutating.Register(plugins)
	case validatingpolicy.PluginName:
		validatingpolicy.Register(plugins)
	case validating.PluginName:
		validating.Register(plugins)
	}
	regs := &registrations{}
	init := admission.PluginInitializers{resolverInit{a.o.Resolver},
		initializer.New(a.o.Client, a.o.Dynamic, recordingFactory{f, regs}, a.o.Authorizer, utilfeature.DefaultFeatureGate, nil, a.o.Stop, a.o.RESTMapper)}
	// InitPlugin, not NewFromPlugins: the chain is ours (Mutate,
	// Validate), and NewFromPlugins logs each time it makes one. No
	// plugin has a configuration file.
	p, err := plugins.InitPlugin(name, nil, init)
	if err != nil {
		return nil, err
	}
	regs.wait(a.o.Stop)
	return p, nil
}

var errStopped = errors.New("the server is stopping")

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// plugin is l's plugin once built, or nil while no configuration of its
// kind exists (nothing to check).
func (l *lazyPlugin) plugin(ctx context.Context, a *Admission) (admission.Interface, error) {
	if l.configured.Load() == 0 {
		return nil, nil
	}
	a.build(l)
	select {
	case <-l.built:
	case <-ctx.Done():
		return nil, apierrors.NewTimeoutError(fmt.Sprintf("waiting for the %s admission plugin: %v", l.name, context.Cause(ctx)), 1)
	}
	if l.err != nil {
		return nil, apierrors.NewInternalError(l.err)
	}
	return l.p, nil
}

// Mutate runs the mutating webhooks on attrs' object, changing it in place.
func (a *Admission) Mutate(ctx context.Context, attrs admission.Attributes) error {
	p, err := a.mutating.plugin(ctx, a)
	if err != nil || p == nil || !p.Handles(attrs.GetOperation()) {
		return err
	}
	m, ok := p.(admission.MutationInterface)
	if !ok {
		return nil
	}
	if err := m.Admit(ctx, attrs, a.objects); err != nil {
		return err
	}
	// A webhook whose reinvocationPolicy is IfNeeded runs once more when
	// a later one changed the object.
	if rc := attrs.GetReinvocationContext(); rc.ShouldReinvoke() {
		rc.SetIsReinvoke()
		return m.Admit(ctx, attrs, a.objects)
	}
	return nil
}

// Validate runs the policies and then the validating webhooks; the first
// refusal is the answer.
func (a *Admission) Validate(ctx context.Context, attrs admission.Attributes) error {
	for _, l := range []*lazyPlugin{&a.policies, &a.validating} {
		if l == &a.policies && policyConfig[attrs.GetResource().GroupResource()] {
			// The policy plugin leaves these alone (no policy applies to
			// policies and bindings), and building it here would compile
			// before the rest of a batch of them is stored.
			continue
		}
		p, err := l.plugin(ctx, a)
		if err != nil {
			return err
		}
		if p == nil || !p.Handles(attrs.GetOperation()) {
			continue
		}
		if v, ok := p.(admission.ValidationInterface); ok {
			if err := v.Validate(ctx, attrs, a.objects); err != nil {
				return err
			}
		}
	}
	return nil
}

// policyConfig are the resources no API-defined policy applies to.
var policyConfig = map[schema.GroupResource]bool{
	{Group: admissionregistrationv1.GroupName, Resource: "validatingadmissionpolicies"}:       true,
	{Group: admissionregistrationv1.GroupName, Resource: "validatingadmissionpolicybindings"}: true,
	{Group: admissionregistrationv1.GroupName, Resource: "mutatingadmissionpolicies"}:         true,
	{Group: admissionregistrationv1.GroupName, Resource: "mutatingadmissionpolicybindings"}:   true,
}

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

// objectInterfaces are the scheme's for the built-in kinds, with one
// difference: stratus keeps versioned objects (no internal version), so the
// plugins' conversion back from the version a webhook saw is often between
// objects of the same type, which the scheme has no function for; that is
// a copy. Custom resources (unstructured) are created as such and
// converted by their CRD's conversion, and matchPolicy Equivalent finds
// the other versions of a resource in o.Equivalents.
func objectInterfaces(o Options) admission.ObjectInterfaces {
	eq := o.Equivalents
	if eq == nil {
		eq = runtime.NewEquivalentResourceRegistry()
	}
	return &admission.RuntimeObjectInterfaces{ObjectCreater: creater{o.Scheme}, ObjectTyper: o.Scheme, ObjectDefaulter: o.Scheme,
		ObjectConvertor: convertor{o.Scheme, o.CustomConvertor}, EquivalentResourceMapper: eq}
}

// creater makes the scheme's kinds, and any other kind (a custom
// resource's) as unstructured.
type creater struct{ s *runtime.Scheme }

func (c creater) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	if c.s.Recognizes(gvk) {
		return c.s.New(gvk)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// convertor converts built-in kinds with the scheme and custom resources
// with their CRD's conversion.
type convertor struct {
	runtime.ObjectConvertor
	custom runtime.ObjectConvertor
}

// Convert copies in into out when both are the same Go type.
func (c convertor) Convert(in, out, context any) error {
	_, uin := in.(*unstructured.Unstructured)
	_, uout := out.(*unstructured.Unstructured)
	if uin && uout && c.custom != nil {
		return c.custom.Convert(in, out, context)
	}
	iv, ov := reflect.ValueOf(in), reflect.ValueOf(out)
	if iv.Kind() == reflect.Pointer && iv.Type() == ov.Type() && !iv.IsNil() && !ov.IsNil() {
		if _, u := in.(runtime.Unstructured); !u {
			ov.Elem().Set(iv.Elem())
			return nil
		}
	}
	return c.ObjectConvertor.Convert(in, out, context)
}

func (c convertor) ConvertToVersion(in runtime.Object, gv runtime.GroupVersioner) (runtime.Object, error) {
	if _, u := in.(*unstructured.Unstructured); u && c.custom != nil {
		return c.custom.ConvertToVersion(in, gv)
	}
	return c.ObjectConvertor.ConvertToVersion(in, gv)
}
