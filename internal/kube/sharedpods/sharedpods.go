// Package sharedpods is the one pod informer of a process. The controller
// manager (its scheduler and controllers) and the in-process simulated
// nodes read pods from it, so each pod event is decoded, and each pod held,
// once in the process instead of once per part.
//
// A part takes a View: an informer whose event handlers are the part's own
// (removed by Release, so a controller manager that loses its lease and
// starts again does not leave its old handlers behind), and whose Run starts
// the shared informer for the life of the process instead of the part's.
package sharedpods

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/stratus-cloud/stratus/internal/app"
)

// Informer is the process's pod informer; it is an app.Component whose
// Stop ends it. It runs from the first View's Run on.
type Informer struct {
	inf    cache.SharedIndexInformer
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{}
}

var _ app.Component = (*Informer)(nil)

// New returns the informer of every pod in the cluster, read through
// client, managed fields dropped (no part reads them, and the decoded pods
// are the informer's own).
func New(client kubernetes.Interface) *Informer {
	inf := coreinformers.NewPodInformer(client, metav1.NamespaceAll, 0, indexers())
	_ = inf.SetTransform(dropManagedFields)
	return newInformer(inf)
}

// NewFrom is New reading pods through lw, which may hand out objects it
// shares with others (the API server's own, apiserver.ListerWatcher): they
// are never modified, and kept as they are, managed fields included. The
// server's cache holds each pod whole anyway; a copy without them cost
// 1.2 KB a pod and saved nothing. A part that writes a pod it read here
// clears the managed fields of its copy, so its request carries none.
func NewFrom(lw cache.ListerWatcher) *Informer {
	return newInformer(cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, indexers()))
}

func indexers() cache.Indexers {
	return cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
}

func newInformer(inf cache.SharedIndexInformer) *Informer {
	ctx, cancel := context.WithCancel(context.Background())
	return &Informer{inf: inf, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// dropManagedFields drops a decoded pod's managed fields in place (New's
// pods are decoded for the informer alone).
func dropManagedFields(obj any) (any, error) {
	if pod, ok := obj.(*corev1.Pod); ok {
		pod.ManagedFields = nil
	}
	return obj, nil
}

// Name implements app.Component.
func (s *Informer) Name() string { return "pod-informer" }

// Start implements app.Component: the informer starts with its first user.
func (s *Informer) Start(context.Context) error { return nil }

// Stop implements app.Component.
func (s *Informer) Stop(ctx context.Context) error {
	s.cancel()
	s.once.Do(func() { close(s.done) }) // never run: nothing to wait for
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Informer) run() {
	s.once.Do(func() {
		go func() {
			defer close(s.done)
			s.inf.RunWithContext(s.ctx)
		}()
	})
}

// View returns a new view of the informer for one part.
func (s *Informer) View() *View { return &View{SharedIndexInformer: s.inf, s: s} }

// View is one part's use of the shared informer (see the package comment).
type View struct {
	cache.SharedIndexInformer
	s    *Informer
	mu   sync.Mutex
	regs []cache.ResourceEventHandlerRegistration
}

// AddEventHandler adds a handler that Release removes.
func (v *View) AddEventHandler(h cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	return v.AddEventHandlerWithOptions(h, cache.HandlerOptions{})
}

// AddEventHandlerWithResyncPeriod adds a handler that Release removes. The
// shared informer does not resync (its parts would all pay for one part's
// resync), so the period is ignored.
func (v *View) AddEventHandlerWithResyncPeriod(h cache.ResourceEventHandler, _ time.Duration) (cache.ResourceEventHandlerRegistration, error) {
	return v.AddEventHandlerWithOptions(h, cache.HandlerOptions{})
}

// AddEventHandlerWithOptions adds a handler that Release removes.
func (v *View) AddEventHandlerWithOptions(h cache.ResourceEventHandler, o cache.HandlerOptions) (cache.ResourceEventHandlerRegistration, error) {
	reg, err := v.SharedIndexInformer.AddEventHandlerWithOptions(h, o)
	if err == nil {
		v.mu.Lock()
		v.regs = append(v.regs, reg)
		v.mu.Unlock()
	}
	return reg, err
}

// SetTransform keeps the shared informer's own transform, which every part
// gets. A part's transform (an informer factory sets its own on every
// informer it makes, dropping managed fields in place) would change the
// API server's own objects (NewFrom).
func (v *View) SetTransform(cache.TransformFunc) error { return nil }

// Run starts the shared informer (once, for the process) and returns when
// stop closes.
func (v *View) Run(stop <-chan struct{}) {
	v.s.run()
	<-stop
}

// RunWithContext is Run until ctx ends.
func (v *View) RunWithContext(ctx context.Context) { v.Run(ctx.Done()) }

// Release removes the view's handlers.
func (v *View) Release() {
	v.mu.Lock()
	regs := v.regs
	v.regs = nil
	v.mu.Unlock()
	for _, r := range regs {
		_ = v.SharedIndexInformer.RemoveEventHandler(r)
	}
}
