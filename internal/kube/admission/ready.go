package admission

import (
	"sync"
	"time"

	"k8s.io/client-go/informers"
	arinformers "k8s.io/client-go/informers/admissionregistration"
	arv1informers "k8s.io/client-go/informers/admissionregistration/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/kube/informersync"
)

// A plugin is ready once its event handlers on the configuration
// informers have been given what those informers hold (the webhook
// plugins add theirs when built; the policy plugin adds its own once it
// has compiled the policies). It checks that itself before each request,
// but every 100 ms, which a plugin built on the first request would
// always pay; registrations lets us wait for the same thing without the
// poll.

// readyWithin bounds the wait for a plugin's handlers: past it, the
// plugin's own readiness check decides.
const readyWithin = time.Second

// registrations are the event handlers a plugin added to the
// configuration informers.
type registrations struct {
	mu   sync.Mutex
	regs []cache.ResourceEventHandlerRegistration
}

func (r *registrations) add(reg cache.ResourceEventHandlerRegistration) {
	if reg == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.regs = append(r.regs, reg)
}

// synced reports whether the plugin has added handlers and each has been
// given the informer's items.
func (r *registrations) synced() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, reg := range r.regs {
		if !reg.HasSynced() {
			return false
		}
	}
	return len(r.regs) > 0
}

// wait waits for synced, at most readyWithin or until stop closes.
func (r *registrations) wait(stop <-chan struct{}) {
	t := time.NewTimer(readyWithin)
	defer t.Stop()
	done := make(chan struct{})
	go func() {
		select {
		case <-stop:
		case <-t.C:
		}
		close(done)
	}()
	informersync.Wait(done, r.synced)
}

// recordingFactory is the informer factory a plugin is given: the same
// informers, except that handlers added to the configuration informers
// are recorded in r.
type recordingFactory struct {
	informers.SharedInformerFactory
	r *registrations
}

func (f recordingFactory) Admissionregistration() arinformers.Interface {
	return recordingGroup{f.SharedInformerFactory.Admissionregistration(), f.r}
}

type recordingGroup struct {
	arinformers.Interface
	r *registrations
}

func (g recordingGroup) V1() arv1informers.Interface { return recordingV1{g.Interface.V1(), g.r} }

type recordingV1 struct {
	arv1informers.Interface
	r *registrations
}

func (v recordingV1) MutatingWebhookConfigurations() arv1informers.TypedMutatingWebhookConfigurationInformer {
	return mutatingConfigs{v.Interface.MutatingWebhookConfigurations(), v.r}
}

func (v recordingV1) ValidatingWebhookConfigurations() arv1informers.TypedValidatingWebhookConfigurationInformer {
	return validatingConfigs{v.Interface.ValidatingWebhookConfigurations(), v.r}
}

func (v recordingV1) ValidatingAdmissionPolicyBindings() arv1informers.TypedValidatingAdmissionPolicyBindingInformer {
	return policyBindings{v.Interface.ValidatingAdmissionPolicyBindings(), v.r}
}

type mutatingConfigs struct {
	arv1informers.TypedMutatingWebhookConfigurationInformer
	r *registrations
}

func (i mutatingConfigs) Informer() cache.SharedIndexInformer {
	return recordingInformer{i.TypedMutatingWebhookConfigurationInformer.Informer(), i.r}
}

type validatingConfigs struct {
	arv1informers.TypedValidatingWebhookConfigurationInformer
	r *registrations
}

func (i validatingConfigs) Informer() cache.SharedIndexInformer {
	return recordingInformer{i.TypedValidatingWebhookConfigurationInformer.Informer(), i.r}
}

type policyBindings struct {
	arv1informers.TypedValidatingAdmissionPolicyBindingInformer
	r *registrations
}

func (i policyBindings) Informer() cache.SharedIndexInformer {
	return recordingInformer{i.TypedValidatingAdmissionPolicyBindingInformer.Informer(), i.r}
}

// recordingInformer records the handlers added to it.
type recordingInformer struct {
	cache.SharedIndexInformer
	r *registrations
}

func (i recordingInformer) AddEventHandler(h cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	reg, err := i.SharedIndexInformer.AddEventHandler(h)
	i.r.add(reg)
	return reg, err
}

func (i recordingInformer) AddEventHandlerWithResyncPeriod(h cache.ResourceEventHandler, d time.Duration) (cache.ResourceEventHandlerRegistration, error) {
	reg, err := i.SharedIndexInformer.AddEventHandlerWithResyncPeriod(h, d)
	i.r.add(reg)
	return reg, err
}

func (i recordingInformer) AddEventHandlerWithOptions(h cache.ResourceEventHandler, o cache.HandlerOptions) (cache.ResourceEventHandlerRegistration, error) {
	reg, err := i.SharedIndexInformer.AddEventHandlerWithOptions(h, o)
	i.r.add(reg)
	return reg, err
}
